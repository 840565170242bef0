"""Which servers run on a data directory: ``headwater serve`` says so when it is not alone.

Several processes may share one SQLite data directory (they take turns on SQLite's locks
and see each other's writes within the poll fallback), but a second server started there
by mistake should not go unnoticed. Each server holds an exclusive ``flock`` on a file of
its own in ``<data dir>/servers/`` for as long as it runs (the kernel drops it when the
process dies, even by SIGKILL); a starting server lists the files still locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True, slots=True)
class RunningServer:
    pid: int
    endpoint: str


class Presence:
    """This server's mark on a data directory (released by ``close`` or by dying)."""

    def __init__(self, data_dir: Path, endpoint: str) -> None:
        self.directory = data_dir / "servers"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.others = _running(self.directory)
        self.path = self.directory / f"{os.getpid()}.json"
        # Locked and written before it appears under its name: never seen half-made.
        building = self.directory / f".{os.getpid()}.tmp"
        self._file: IO[str] | None = building.open("w", encoding="utf-8")
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.write(json.dumps({"pid": os.getpid(), "endpoint": endpoint}))
        self._file.flush()
        building.replace(self.path)

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._file.close()
            self._file = None


def _running(directory: Path) -> list[RunningServer]:
    """Servers whose mark is still locked; stale marks (dead servers) are removed."""
    found: list[RunningServer] = []
    for mark in sorted(directory.glob("*.json")):
        try:
            with mark.open("r+", encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    info = json.loads(handle.read() or "{}")
                    found.append(RunningServer(int(info.get("pid", 0)), str(info.get("endpoint"))))
                    continue
            mark.unlink()  # its server is gone
        except (OSError, ValueError):
            continue
    return found
