"""Zip unpacking limits, zip-slip protection and directory code hashing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from headwater.core.errors import AwsError
from headwater.runtime import code


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("app.py", "app.py"),
        ("pkg/mod.py", "pkg/mod.py"),
        ("./pkg//mod.py", "pkg/mod.py"),
        ("../evil.py", None),
        ("pkg/../../evil.py", None),
        ("/etc/passwd", None),
        ("\\\\server\\share", None),
        ("C:/windows/evil.py", None),
        ("..\\evil.py", None),
    ],
)
def test_safe_member_path(name: str, safe: str | None) -> None:
    got = code.safe_member_path(name)
    assert (None if got is None else str(got)) == safe


def test_unpack_zip(tmp_path: Path) -> None:
    data = zip_of({"app.py": b"x = 1\n", "pkg/__init__.py": b"", "pkg/sub/m.py": b"y = 2\n"})
    info = code.unpack_zip(data, tmp_path / "code-1")
    assert (tmp_path / "code-1" / "pkg" / "sub" / "m.py").read_bytes() == b"y = 2\n"
    assert info.size == len(data)
    assert info.sha256 == code.code_sha256(data)
    assert info.source == "zip"
    assert not (tmp_path / "code-1.tmp").exists()


def test_zip_slip_rejected_and_nothing_written(tmp_path: Path) -> None:
    data = zip_of({"ok.py": b"", "../../escaped.py": b"bad"})
    with pytest.raises(AwsError) as caught:
        code.unpack_zip(data, tmp_path / "a" / "code-1")
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == code.BAD_ZIP_MESSAGE
    assert not list(tmp_path.rglob("escaped.py"))
    assert not (tmp_path / "a" / "code-1").exists()


def test_bad_zip_rejected(tmp_path: Path) -> None:
    with pytest.raises(AwsError) as caught:
        code.unpack_zip(b"PK\x03\x04 not really", tmp_path / "code-1")
    assert caught.value.message == code.BAD_ZIP_MESSAGE


def test_unzipped_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "MAX_UNZIPPED_BYTES", 1000)
    data = zip_of({"big.bin": b"0" * 5000})  # compresses to far less than 1000 bytes
    assert len(data) < 1000
    with pytest.raises(AwsError) as caught:
        code.unpack_zip(data, tmp_path / "code-1")
    assert caught.value.message == "Unzipped size must be smaller than 1000 bytes"


def test_zipped_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "MAX_ZIP_BYTES", 10)
    with pytest.raises(AwsError) as caught:
        code.check_zip(zip_of({"a": b"1"}))
    assert caught.value.status == 413


def test_directory_code_hash_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    first = code.directory_code(tmp_path)
    assert first.directory == str(tmp_path.resolve())
    assert first.size == 6
    assert code.directory_code(tmp_path).sha256 == first.sha256
    (tmp_path / "app.py").write_text("x = 2\n")
    assert code.directory_code(tmp_path).sha256 != first.sha256
    with pytest.raises(AwsError):
        code.directory_code(tmp_path / "missing")
