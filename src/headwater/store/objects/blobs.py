"""Where S3 object bytes live: files under the data directory, never rows in the database.

This module is the one place that knows the path scheme (``<root>/<ab>/<blob id>``),
so a shared-storage backend (several PostgreSQL nodes) replaces only this class. One level of
256 directories: a deeper tree made most writes create two fresh directories, which cost more
than the write itself on small objects. A blob is
written to a temporary file and renamed into place, so a crash never leaves a partial blob
under a name the index could point at; blobs are immutable once written (an overwritten
object gets a new blob, and the old one is removed after the index stops naming it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from headwater.core.ids import new_uuid

_TMP = "tmp"


class BlobStore:
    """Immutable byte blobs named by random ids, in a directory tree."""

    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.root = root
        self.fsync = fsync
        self._directories: set[str] = set()
        (root / _TMP).mkdir(parents=True, exist_ok=True)
        # temporary files of a process that died mid-write are garbage
        for leftover in (root / _TMP).iterdir():
            leftover.unlink(missing_ok=True)

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id

    def _place(self, temporary: Path, blob_id: str) -> None:
        """Rename a finished temporary file to the blob's path (its directory made once)."""
        target = self.path(blob_id)
        directory = blob_id[:2]
        if directory not in self._directories:
            target.parent.mkdir(exist_ok=True)
            self._directories.add(directory)
        os.replace(temporary, target)

    def write(self, data: bytes | memoryview) -> str:
        """Store ``data`` atomically; returns the new blob's id."""
        blob_id = new_uuid().replace("-", "")
        temporary = self.root / _TMP / blob_id
        with open(temporary, "wb") as out:
            out.write(data)
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        self._place(temporary, blob_id)
        return blob_id

    def concatenate(self, blob_ids: list[str]) -> tuple[str, int]:
        """A new blob made of others, in order (multipart completion); (id, size)."""
        blob_id = new_uuid().replace("-", "")
        temporary = self.root / _TMP / blob_id
        size = 0
        with open(temporary, "wb") as out:
            for part in blob_ids:
                with open(self.path(part), "rb") as source:
                    shutil.copyfileobj(source, out, 1024 * 1024)
            size = out.tell()
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        self._place(temporary, blob_id)
        return blob_id, size

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``start`` to ``end`` (inclusive, as HTTP ranges) of a blob."""
        with open(self.path(blob_id), "rb") as source:
            if start:
                source.seek(start)
            if end is None:
                return source.read()
            return source.read(end - start + 1)

    def open(self, blob_id: str) -> BinaryIO:
        return open(self.path(blob_id), "rb")

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)
