"""Database handles shared by every component store.

SQLite runs in WAL mode on one connection guarded by a re-entrant lock: services are
synchronous and thread-safe, and their transactions are short (tens of microseconds), so
one writer connection is both the simplest and the fastest choice for one process.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Literal, Protocol

Durability = Literal["normal", "full"]

#: A migration is SQL (a script) or a function run inside the migration transaction.
Migration = str | Callable[[sqlite3.Connection], None]

DATABASE_FILE = "headwater.sqlite3"


class Database(Protocol):
    """What every store implementation shares: a lock, transactions and a data directory."""

    kind: str
    data_dir: Path
    lock: threading.RLock

    def transaction(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


class SqliteDatabase:
    """One SQLite file per data directory, WAL, schema versioned per component."""

    kind = "sqlite"

    def __init__(self, data_dir: str | Path, durability: Durability = "normal") -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DATABASE_FILE
        self.durability = durability
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (only an OS crash may lose the last
        # commits); FULL also fsyncs the WAL on every commit.
        self.conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        self._closed = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Bring ``component``'s schema up to ``len(migrations)``; each step runs once, ever."""
        with self.transaction():
            row = self.conn.execute(
                "SELECT version FROM schema_version WHERE component = ?", (component,)
            ).fetchone()
            current = row[0] if row else 0
            if current > len(migrations):
                raise RuntimeError(
                    f"{self.path} has {component} schema v{current}, newer than this "
                    f"headwater (v{len(migrations)}); upgrade headwater"
                )
            for step in migrations[current:]:
                if isinstance(step, str):
                    for statement in _split_sql(step):
                        self.conn.execute(statement)
                else:
                    step(self.conn)
            if current != len(migrations):
                self.conn.execute(
                    "INSERT INTO schema_version(component, version) VALUES (?, ?)"
                    " ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(migrations)),
                )

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self._closed = True
                self.conn.close()


class MemoryDatabase:
    """Process-local state for tests; same component interfaces, nothing on disk but code."""

    kind = "memory"

    def __init__(self) -> None:
        # Function code still needs a directory to be unpacked into.
        self.data_dir = Path(tempfile.mkdtemp(prefix="headwater-mem-"))
        self.lock = threading.RLock()
        self._closed = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serializes writers. There is no rollback: memory stores validate before mutating."""
        with self.lock:
            yield

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self._closed = True
                shutil.rmtree(self.data_dir, ignore_errors=True)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def open_database(
    data_dir: str | Path | None, durability: Durability = "normal"
) -> SqliteDatabase | MemoryDatabase:
    """SQLite in ``data_dir``, or an in-memory database when ``data_dir`` is ``None``."""
    if data_dir is None:
        return MemoryDatabase()
    return SqliteDatabase(data_dir, durability)
