"""Function code on disk: zip archives unpacked safely, or a directory used in place.

Zip code is unpacked under ``<data_dir>/functions/<name>/code-<revision>/`` (a fresh
directory per update, so workers still running old code keep a consistent tree until
they are drained). Unpacking enforces Lambda's limits (50 MB zipped, 250 MB unzipped)
and rejects entries that would land outside the target (zip slip: absolute paths, ``..``
components, drive letters). Directory code is referenced, not copied: editing files
there and calling UpdateFunctionCode (or updating the configuration) restarts workers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from headwater.core.errors import AwsError

#: Lambda's direct-upload limit for a zip (bytes).
MAX_ZIP_BYTES = 50 * 1024 * 1024
#: Lambda's limit on the unzipped size of a function (bytes).
MAX_UNZIPPED_BYTES = 262_144_000

BAD_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """Where a function's code is and how AWS describes it."""

    directory: str
    sha256: str  # base64 SHA-256, as CodeSha256
    size: int  # bytes: the zip size, or the sum of file sizes for a directory
    source: str  # "zip" | "directory"


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, status=400, fields={"Type": "User"})


def code_sha256(data: bytes) -> str:
    """``CodeSha256``: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def safe_member_path(name: str) -> PurePosixPath | None:
    """The relative path a zip entry may be written to, or ``None`` if it escapes."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(normalized).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return PurePosixPath(*parts)


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open ``data`` as a zip and validate every entry; raises AwsError."""
    if len(data) > MAX_ZIP_BYTES:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"Zipped size must be smaller than {MAX_ZIP_BYTES} bytes",
            status=413,
            fields={"Type": "User"},
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _invalid(BAD_ZIP_MESSAGE) from None
    total = 0
    for info in members:
        if safe_member_path(info.filename) is None:
            raise _invalid(BAD_ZIP_MESSAGE)
        total += info.file_size
    if total > MAX_UNZIPPED_BYTES:
        raise _invalid(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
    return archive


def unpack_zip(data: bytes, target: Path) -> CodeInfo:
    """Validate and unpack ``data`` into the new directory ``target``; raises AwsError."""
    archive = check_zip(data)
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        written = 0
        for info in archive.infolist():
            relative = safe_member_path(info.filename)
            assert relative is not None  # checked above
            destination = staging.joinpath(*relative.parts)
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            # Read in chunks and count: the sizes in the central directory can lie.
            with archive.open(info) as source, open(destination, "wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_UNZIPPED_BYTES:
                        raise _invalid(
                            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                        )
                    sink.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            if mode & stat.S_IXUSR:
                os.chmod(destination, 0o755)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except AwsError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        shutil.rmtree(staging, ignore_errors=True)
        raise _invalid(BAD_ZIP_MESSAGE) from None
    return CodeInfo(str(target), code_sha256(data), len(data), "zip")


def zip_directory(path: str | os.PathLike[str]) -> bytes:
    """A zip of a code directory (for nodes that cannot see it; ``__pycache__`` left out)."""
    root = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for filename in sorted(filenames):
                file_path = Path(dirpath, filename)
                if file_path.suffix != ".pyc":
                    archive.write(file_path, file_path.relative_to(root).as_posix())
    return buffer.getvalue()


def directory_code(path: str | os.PathLike[str]) -> CodeInfo:
    """Describe a code directory used in place (hash over relative paths and contents)."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise _invalid(f"Code directory {root} does not exist or is not a directory")
    digest = hashlib.sha256()
    size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            file_path = Path(dirpath, filename)
            if file_path.suffix == ".pyc":
                continue
            relative = file_path.relative_to(root).as_posix()
            try:
                content = file_path.read_bytes()
            except OSError:
                continue
            digest.update(relative.encode() + b"\0" + content + b"\0")
            size += len(content)
    sha = base64.b64encode(digest.digest()).decode("ascii")
    return CodeInfo(str(root), sha, size, "directory")


def function_code_root(data_dir: Path, function_name: str) -> Path:
    """Directory holding the unpacked code revisions of one function."""
    return data_dir / "functions" / function_name


def remove_stale_code(data_dir: Path, function_name: str, keep: set[str]) -> None:
    """Delete unpacked code revisions of a function except the directories in ``keep``."""
    root = function_code_root(data_dir, function_name)
    if not root.is_dir():
        return
    kept = {str(Path(k)) for k in keep}
    for child in root.iterdir():
        if child.name.startswith("code-") and str(child) not in kept:
            shutil.rmtree(child, ignore_errors=True)


def remove_function_code(data_dir: Path, function_name: str) -> None:
    """Delete every unpacked code revision of a deleted function."""
    shutil.rmtree(function_code_root(data_dir, function_name), ignore_errors=True)
