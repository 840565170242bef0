"""The PostgreSQL backend: several headwater nodes sharing one database.

``PostgresDatabase`` keeps the store contract of ``store.database``: ``transaction()``
checks a connection out of a psycopg pool for this thread, ``BEGIN`` ... ``COMMIT``, and
``conn`` is an adapter that runs the portable SQL the stores are written in (``?``
placeholders, SQLite's type names in DDL) unchanged: ``translate`` rewrites each statement
once. A unique violation surfaces as ``sqlite3.IntegrityError`` (``UniqueViolation``),
the type stores already catch.

Other nodes' writes are seen through LISTEN/NOTIFY (``publish`` -> ``pg_notify``) on a
listener thread, with a periodic wake-up as the fallback for notifications missed while
it reconnects.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg_pool import ConnectionPool

from headwater.store.database import (
    BUMP_VERSION,
    DEFAULT_POLL_FALLBACK_SECONDS,
    DEFINITION_VERSION_TABLE,
    SCHEMA_VERSION_TABLE,
    Dialect,
    Migration,
    StoreRegistry,
    _migrate,
)
from headwater.store.watch import ChangeWatch, Watcher

log = logging.getLogger(__name__)

POSTGRES_DIALECT = Dialect(
    "postgresql",
    for_update=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    for_share=" FOR SHARE",
)
#: The NOTIFY channel of every headwater sharing the database.
CHANNEL = "headwater"
#: Payload prefix of a definition version bump (``Database.bump``).
VERSION_PREFIX = "version:"
#: Connections per node: the engine's store threads, the server's and the API's.
DEFAULT_POOL_SIZE = 16


class UniqueViolation(sqlite3.IntegrityError):
    """A unique constraint refused a row (PostgreSQL's 23505), as SQLite reports it."""


# ---------------------------------------------------------------------- SQL translation

_DDL = re.compile(r"^\s*(CREATE\s+TABLE|ALTER\s+TABLE)", re.IGNORECASE)
_DDL_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.I), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID", re.I), ")"),
)
_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.I)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """Portable (SQLite-flavoured) SQL as PostgreSQL takes it from psycopg.

    ``?`` outside string literals becomes ``%s`` and a literal ``%`` becomes ``%%``;
    in CREATE/ALTER TABLE, SQLite's type names become PostgreSQL's (INTEGER -> BIGINT,
    REAL -> DOUBLE PRECISION, BLOB -> BYTEA, INTEGER PRIMARY KEY -> BIGSERIAL) and
    WITHOUT ROWID goes; SQLite's ``INDEXED BY`` hints go everywhere.
    """
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            out.append("%%" if char == "%" else char)
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    text = "".join(out)
    if _DDL.match(text):
        for pattern, replacement in _DDL_RULES:
            text = pattern.sub(replacement, text)
    return _INDEXED_BY.sub("", text)


class _BoolAsInteger(Dumper):
    """Booleans are INTEGER 0/1 in portable SQL (SQLite has no boolean type)."""

    format = Format.TEXT
    oid = 20  # int8

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PgCursor:
    """The parts of ``sqlite3.Cursor`` stores use, over a psycopg cursor."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        if self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        if self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection that takes the stores' portable SQL (``?`` placeholders)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        try:
            return PgCursor(self.raw.execute(translate(sql), parameters))
        except psycopg.errors.UniqueViolation as error:
            raise UniqueViolation(str(error)) from error
        except psycopg.IntegrityError as error:
            raise sqlite3.IntegrityError(str(error)) from error

    def executemany(self, sql: str, parameters: Any, /) -> PgCursor:
        cursor = self.raw.cursor()
        rows = list(parameters)
        if rows:
            try:
                cursor.executemany(translate(sql), rows)
            except psycopg.errors.UniqueViolation as error:
                raise UniqueViolation(str(error)) from error
            except psycopg.IntegrityError as error:
                raise sqlite3.IntegrityError(str(error)) from error
        return PgCursor(cursor)


class _AutocommitConnection:
    """``db.conn`` outside a transaction: each statement on its own pooled connection."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> _Fetched:
        with self._database.read():
            cursor = self._database.conn.execute(sql, parameters)
            return _Fetched(cursor.rowcount, cursor.fetchall())

    def executemany(self, sql: str, parameters: Any, /) -> _Fetched:
        with self._database.transaction():
            cursor = self._database.conn.executemany(sql, parameters)
            return _Fetched(cursor.rowcount, [])


class _Fetched:
    """A result read in full before its connection went back to the pool."""

    def __init__(self, rowcount: int, rows: list[Any]) -> None:
        self.rowcount = rowcount
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Bound(threading.local):
    """This thread's connection and transaction depth."""

    conn: PgConnection | None = None
    depth: int = 0
    writing: bool = False


class PostgresDatabase(StoreRegistry):
    """Shared state for several headwater nodes; see the module docstring."""

    kind = "postgresql"
    dialect = POSTGRES_DIALECT

    def __init__(
        self,
        url: str,
        *,
        data_dir: str | Path | None = None,
        poll_fallback: float = DEFAULT_POLL_FALLBACK_SECONDS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        super().__init__()
        self.url = url
        # Node-local files (unpacked function code): never shared between nodes.
        self._own_dir = data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="headwater-pg-"))
            if data_dir is None
            else Path(data_dir).expanduser()
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._bound = _Bound()
        self._closed = False
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            configure=_configure,
            open=True,
            name="headwater",
        )
        self._autocommit = _AutocommitConnection(self)
        with self.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(b"schema_version"),))
            self.conn.execute(SCHEMA_VERSION_TABLE)
            self.conn.execute(DEFINITION_VERSION_TABLE)
        self.poll_fallback = poll_fallback
        self._versions: dict[str, int] = {}
        self._versions_read_at = -1.0e9
        self._watch = ChangeWatch(
            lambda: None, poll_fallback, name="headwater-pg-fallback", always=True
        )
        self._listener = threading.Thread(
            target=self._listen, name="headwater-pg-listen", daemon=True
        )
        self._listener_started = False
        self._start_lock = threading.Lock()

    # ------------------------------------------------------------------ the contract

    @property
    def conn(self) -> PgConnection | _AutocommitConnection:
        bound = self._bound.conn
        return self._autocommit if bound is None else bound

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN`` on a pooled connection bound to this thread; nested calls join it."""
        bound = self._bound
        if bound.depth:
            if not bound.writing:
                raise RuntimeError("a transaction cannot start inside a db.read()")
            bound.depth += 1
            try:
                yield
            finally:
                bound.depth -= 1
            return
        raw = self.pool.getconn()
        conn = PgConnection(raw)
        bound.conn, bound.depth, bound.writing = conn, 1, True
        try:
            raw.execute("BEGIN")
            try:
                yield
            except BaseException:
                _rollback(raw)
                raise
            raw.execute("COMMIT")
        finally:
            bound.conn, bound.depth, bound.writing = None, 0, False
            self.pool.putconn(raw)

    @contextmanager
    def read(self) -> Iterator[None]:
        """Reads on a pooled connection (autocommit); joins a transaction in progress."""
        bound = self._bound
        if bound.depth:
            bound.depth += 1
            try:
                yield
            finally:
                bound.depth -= 1
            return
        raw = self.pool.getconn()
        bound.conn, bound.depth, bound.writing = PgConnection(raw), 1, False
        try:
            yield
        finally:
            bound.conn, bound.depth = None, 0
            self.pool.putconn(raw)

    def schema_lock(self) -> AbstractContextManager[object]:
        """Nothing: no lock spans this process's transactions (see ``store.database``)."""
        return nullcontext()

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Run ``component``'s pending migrations once, whichever node gets there first.

        Always in a transaction of their own, on another connection when this thread is in
        one already (a service first made inside it): the schema commits at once, so the
        threads the new service starts see its tables, and a rollback of the caller's
        transaction does not take them from the service that stays made. (A migration
        that alters a table the caller's transaction has read would wait for it forever;
        a component's tables are read only by its store, made by that migration first.)
        """
        bound = self._bound
        outer = bound.conn, bound.depth, bound.writing
        bound.conn, bound.depth, bound.writing = None, 0, False
        try:
            with self.transaction():
                conn = self.conn
                # Nodes starting together: one migrates, the others wait and find it done.
                conn.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(component.encode()),))
                _migrate(conn, self.url, component, migrations)  # type: ignore[arg-type]
        finally:
            bound.conn, bound.depth, bound.writing = outer

    # ------------------------------------------------------------------ other nodes

    def publish(self, resource: str) -> None:
        """NOTIFY the other nodes (in a transaction: delivered when it commits)."""
        self.conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, resource))

    def version(self, component: str) -> int:
        """Re-read at most every poll fallback interval (sooner after a NOTIFY of a bump):
        other nodes' definition changes are seen within that bound."""
        now = time.monotonic()
        if now - self._versions_read_at > self.poll_fallback:
            with self.read():
                rows = self.conn.execute(
                    "SELECT component, version FROM definition_versions"
                ).fetchall()
            self._versions = {str(c): int(v) for c, v in rows}
            self._versions_read_at = now
        return self._versions.get(component, 0)

    def bump(self, component: str) -> None:
        with self.transaction():
            version = self.conn.execute(BUMP_VERSION, (component,)).fetchone()[0]
            self.publish(VERSION_PREFIX + component)
        self._versions[component] = int(version)

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        with self._start_lock:
            if not self._listener_started:
                self._listener_started = True
                self._listener.start()
        return self._watch.add(watcher)

    def _listen(self) -> None:
        """Deliver notifications to the watchers; reconnect after errors until closed."""
        while not self._closed:
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # What committed while we were not listening is caught up by the
                    # fallback wake-ups; tell watchers once now too.
                    self._watch.signal(None)
                    while not self._closed:
                        for note in conn.notifies(timeout=0.5, stop_after=64):
                            if note.payload.startswith(VERSION_PREFIX):
                                self._versions_read_at = -1.0e9  # re-read on next use
                            self._watch.signal(note.payload)
            except psycopg.Error as error:
                if self._closed:
                    return
                log.warning("PostgreSQL listener: %s; reconnecting", error)
                time.sleep(0.5)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._watch.close()
        if self._listener_started:
            self._listener.join(timeout=5.0)
        self.pool.close()
        if self._own_dir:
            import shutil

            shutil.rmtree(self.data_dir, ignore_errors=True)


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInteger)


def _rollback(raw: psycopg.Connection[Any]) -> None:
    try:
        raw.execute("ROLLBACK")
    except psycopg.Error:
        log.warning("PostgreSQL rollback failed; the connection is dropped", exc_info=True)
