"""Database handles shared by every component store: the store contract.

The transaction convention, for every store: ``with db.transaction():`` around the calls
of one operation; nested calls join the outer transaction, an exception rolls it back, and
the transaction is the only thing that makes a read-then-write safe (on SQLite it holds
the database's write lock, across processes; on PostgreSQL, rows read ``FOR UPDATE``
stay locked until it ends). ``with db.read():`` runs statements that each commit on their
own (reads, a single self-contained write). Inside
either, ``db.conn`` is the connection of this thread's transaction. Every backend offers
``conn`` (SQLite, in memory for ``MemoryDatabase``; an adapter on PostgreSQL that takes
the same ``?`` SQL), ``dialect`` (the few clauses that differ) and ``migrate``, so a store
written once in portable SQL runs on all three.

SQLite runs in WAL mode on one connection per process: services are synchronous and
thread-safe, and their transactions are short (tens of microseconds), so one connection is
both the simplest and the fastest choice; other processes on the same file take turns on
SQLite's own write lock (``BEGIN IMMEDIATE``, with a busy timeout). WAL checkpoints run
on a second, private connection on their own thread (``sqlite_checkpoint``), so no commit
waits for one.

Lock order. A thread takes headwater's locks in this order (never an earlier one while it
holds a later one), in the application and every backend:

1. ``Headwater._lock``: building the engine and its failure destinations (which make
   services and run transactions), and ``close()``'s first step (alone).
2. The database's write lock: ``schema_lock()``, ``transaction()`` and, on SQLite and
   in memory, ``read()`` too (one reentrant lock per process: ``SqliteDatabase.lock``).
3. ``Headwater._services_lock``: making a service (taken inside ``schema_lock()``).
4. ``StoreRegistry._stores_lock``: making a store (taken inside ``schema_lock()``).

Making a service or a store writes its schema (a transaction), so their locks come
after the write lock: a thread that holds the write lock (inside any transaction) may
make either, and a thread that makes one takes the write lock first, so it never holds
the maker's lock while it waits for the database. (The services were once made under
the application's lock, held while the engine is built: a delivery making its target's
service inside its transaction waited for the engine's builder, which waited for the
database.) Nothing holding the write lock takes ``Headwater._lock``: services never
reach the engine. ``close()`` takes ``_lock``, then ``_services_lock`` for its
snapshots of the services, and closes each service holding neither. On SQLite's one
connection, a schema made inside a caller's transaction is part of it: if it rolls
back, the migrations run again on their own (``JoinedMigrations``).

PostgreSQL has no process-wide write lock (a transaction is a pooled connection with
row and advisory locks), so its ``schema_lock()`` holds nothing. A thread making a
service there holds ``_services_lock`` while its migrations wait for their advisory
locks; migrations always run in transactions of their own (``PostgresDatabase.migrate``),
which hold nothing else, so no thread waiting for ``_services_lock`` holds one of those.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from headwater.store.sqlite_checkpoint import WalCheckpointer
from headwater.store.sqlite_space import SpaceReclaimer, enable_incremental_vacuum
from headwater.store.watch import ChangeWatch, Watcher

log = logging.getLogger(__name__)

Durability = Literal["normal", "full"]
StoreT = TypeVar("StoreT")

#: A migration is SQL (a script) or a function run inside the migration transaction.
Migration = str | Callable[[sqlite3.Connection], None]

DATABASE_FILE = "headwater.sqlite3"


class SqlCursor(Protocol):
    """What stores use of a cursor (``sqlite3.Cursor`` has it, and so has the PG adapter)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlConnection(Protocol):
    """What stores use of a connection: ``?`` placeholders, portable SQL."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> SqlCursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> SqlCursor: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The clauses portable SQL cannot spell the same on every backend."""

    name: str
    #: Appended to a SELECT whose rows the transaction will change (row locks).
    for_update: str = ""
    #: Appended to a SELECT that claims rows other nodes may be claiming (queue receives).
    skip_locked: str = ""
    #: Appended to a SELECT whose rows must not change until the transaction ends, though
    #: it does not change them itself (other readers may hold the same lock).
    for_share: str = ""


SQLITE_DIALECT = Dialect("sqlite")


class Database(Protocol):
    """The store contract: transactions, reads, schemas, a data directory."""

    kind: str
    data_dir: Path
    dialect: Dialect

    @property
    def conn(self) -> SqlConnection:
        """The SQL connection of this thread's transaction or read."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """One transaction; nested calls join it; an exception rolls it back."""
        ...

    def read(self) -> AbstractContextManager[object]:
        """Statements that each stand alone: reads, or one self-contained write (an upsert);
        joins a transaction in progress."""
        ...

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Bring ``component``'s schema up to ``len(migrations)``; each step runs once, ever."""
        ...

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher`` (any thread) when another process or node changed the database,
        within the poll fallback interval; returns the unsubscribe function."""
        ...

    def publish(self, resource: str) -> None:
        """Tell other processes' watchers that ``resource`` changed (after commit, or in a
        transaction: delivered when it commits)."""
        ...

    def version(self, component: str) -> int:
        """A number that changes when ``component``'s definitions change (``bump``), in any
        process: caches of queue settings, stream routing... compare it before use. Seen
        at once in this process, within the poll fallback from others."""
        ...

    def bump(self, component: str) -> None:
        """Change ``component``'s version (inside the transaction that changed it)."""
        ...

    def store(self, factory: Callable[[Any], StoreT]) -> StoreT:
        """The one store ``factory(db)`` makes for this database (the backend object holds
        every store, so all services of a process share one, and its caches)."""
        ...

    def schema_lock(self) -> AbstractContextManager[object]:
        """Held while a thread makes something that may write its schema (a store, a
        service), before the maker's own lock: see the module docstring's lock order."""
        ...

    def close(self) -> None: ...


class StoreRegistry:
    """``Database.store``: one instance per store factory, made on first use."""

    def __init__(self) -> None:
        self._stores: dict[object, object] = {}
        self._stores_lock = threading.Lock()

    def store(self, factory: Callable[[Any], StoreT]) -> StoreT:
        found = self._stores.get(factory)
        if found is None:
            # a store's factory migrates its schema: the write lock first (the lock order
            # in the module docstring)
            with self.schema_lock(), self._stores_lock:
                found = self._stores.get(factory)
                if found is None:
                    found = self._stores[factory] = factory(self)
        return found  # type: ignore[return-value]

    def schema_lock(self) -> AbstractContextManager[object]:
        """``Database.schema_lock``: the backend's process-wide write lock."""
        raise NotImplementedError


#: Real seconds between checks for other processes' commits (see ``ChangeWatch``).
DEFAULT_POLL_FALLBACK_SECONDS = 0.1


class SqliteDatabase(StoreRegistry):
    """One SQLite file per data directory, WAL, schema versioned per component."""

    kind = "sqlite"
    dialect = SQLITE_DIALECT

    def __init__(
        self,
        data_dir: str | Path,
        durability: Durability = "normal",
        *,
        poll_fallback: float = DEFAULT_POLL_FALLBACK_SECONDS,
    ) -> None:
        super().__init__()
        self.data_dir = Path(data_dir).expanduser()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DATABASE_FILE
        self.durability = durability
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        enable_incremental_vacuum(self.conn)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (only an OS crash may lose the last
        # commits); FULL also fsyncs the WAL on every commit.
        synchronous = "FULL" if durability == "full" else "NORMAL"
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute(SCHEMA_VERSION_TABLE)
        self.conn.execute(DEFINITION_VERSION_TABLE)
        self.space = SpaceReclaimer(self.conn)
        self._transaction = _SqliteTransaction(self)
        self._joined = JoinedMigrations(str(self.path))
        self._closed = False
        self._versions: dict[str, int] = {}
        self._versions_seen_at: object = None
        # Other processes on this file: PRAGMA data_version moves when one commits.
        self._watch = ChangeWatch(self._data_version, poll_fallback, name="headwater-sqlite-watch")
        # Checkpoints run on their own thread, not inside the commit that fills the WAL.
        WalCheckpointer.configure_writer(self.conn)
        self._checkpointer = WalCheckpointer(self.path, self.lock, synchronous)

    def _data_version(self) -> object:
        with self.lock:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        return self._watch.add(watcher)

    def publish(self, resource: str) -> None:
        """Nothing to send: other processes see the commit through ``data_version``."""

    def version(self, component: str) -> int:
        """Cached until another process commits (``data_version`` moves): then re-read."""
        with self.lock:
            seen = self.conn.execute("PRAGMA data_version").fetchone()[0]
            if seen != self._versions_seen_at:
                self._versions = dict(
                    self.conn.execute("SELECT component, version FROM definition_versions")
                )
                self._versions_seen_at = seen
            return self._versions.get(component, 0)

    def bump(self, component: str) -> None:
        with self.transaction():
            version = self.conn.execute(BUMP_VERSION, (component,)).fetchone()[0]
            self._versions[component] = version

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        return self._transaction

    def read(self) -> AbstractContextManager[object]:
        """Reads on this process's connection (WAL: never blocked by other processes)."""
        # The lock itself: a generator context manager around it cost 1.5 us per call,
        # as much as a GetItem's SELECT.
        return self.lock

    def schema_lock(self) -> AbstractContextManager[object]:
        """The write lock (no transaction: each migration commits its own)."""
        return self.lock

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Bring ``component``'s schema up to ``len(migrations)``; each step runs once, ever."""
        with self.transaction():
            if self._depth > 1:
                self._joined.add(component, migrations)
            _migrate(self.conn, str(self.path), component, migrations)

    def checkpoint(self) -> None:
        """Copy the whole WAL into the database file and truncate it, now (waiting for a
        background pass that is copying; refused only while another process reads)."""
        with self._checkpointer.pause(), self.lock:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        self._watch.close()
        self._checkpointer.close()
        with self.lock:
            if not self._closed:
                self._closed = True
                self.conn.close()


class _SqliteTransaction:
    """``SqliteDatabase.transaction()``, one per database: a plain context manager rather
    than a generator, which cost as much as the empty ``BEGIN``/``COMMIT`` it wraps on
    every write. Its state is the database's (lock, depth), so nesting works as before."""

    __slots__ = ("_db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def __enter__(self) -> None:
        db = self._db
        db.lock.acquire()
        if db._depth:
            db._depth += 1
            return
        try:
            db.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            db.lock.release()
            raise
        db._depth = 1

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        db = self._db
        try:
            if db._depth > 1:  # a nested transaction: the outer one commits
                db._depth -= 1
                return
            db._depth = 0
            if exc_type is not None:
                self._roll_back()
                return
            try:
                # COMMIT itself can fail (a full disk when the WAL grows): roll back, so
                # the next transaction does not find this one still open.
                db.conn.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
            db._joined.committed()
            db.space.after_commit()
        finally:
            db.lock.release()

    def _roll_back(self) -> None:
        db = self._db
        if db.conn.in_transaction:  # SQLite may have rolled back already
            db.conn.execute("ROLLBACK")
        db._versions_seen_at = None  # a bump may have been rolled back
        db._joined.rolled_back(db.conn)


class MemoryDatabase(StoreRegistry):
    """Process-local state for tests; same component interfaces, nothing on disk but code.

    The hot queue and stream stores keep plain Python structures; SQL stores use ``conn``,
    a private in-memory SQLite database created on first use. Transactions are real on it
    (rolled back on error); Python-structure stores validate before they mutate.
    """

    kind = "memory"
    dialect = SQLITE_DIALECT

    def __init__(self) -> None:
        super().__init__()
        # Function code still needs a directory to be unpacked into.
        self.data_dir = Path(tempfile.mkdtemp(prefix="headwater-mem-"))
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._joined = JoinedMigrations(":memory:")
        self._closed = False
        self._versions: dict[str, int] = {}

    @property
    def conn(self) -> sqlite3.Connection:
        found = self._conn
        if found is None:
            with self.lock:
                if self._conn is None:
                    self._conn = sqlite3.connect(
                        ":memory:", isolation_level=None, check_same_thread=False
                    )
                    self._conn.execute("PRAGMA foreign_keys=ON")
                    self._conn.execute(SCHEMA_VERSION_TABLE)
                found = self._conn
        return found

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serializes writers; SQL stores' changes roll back on an exception."""
        with self.lock:
            conn = self._conn
            if self._depth or conn is None:
                # nested, or no SQL store yet: the lock is the whole transaction
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                    if not self._depth:
                        self._joined.committed()  # migrations ran outside it, committed
                return
            conn.execute("BEGIN")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                conn.execute("ROLLBACK")
                self._joined.rolled_back(conn)
                raise
            self._depth = 0
            conn.execute("COMMIT")
            self._joined.committed()

    def read(self) -> AbstractContextManager[object]:
        return self.lock

    def schema_lock(self) -> AbstractContextManager[object]:
        return self.lock

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """No other process shares this database: nothing to watch."""
        return _noop

    def publish(self, resource: str) -> None:
        """No other process shares this database."""

    def version(self, component: str) -> int:
        return self._versions.get(component, 0)

    def bump(self, component: str) -> None:
        with self.lock:
            self._versions[component] = self._versions.get(component, 0) + 1

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        conn = self.conn
        with self.transaction():
            if self._depth > 1:
                self._joined.add(component, migrations)
            _migrate(conn, ":memory:", component, migrations)

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self._closed = True
                if self._conn is not None:
                    self._conn.close()
                shutil.rmtree(self.data_dir, ignore_errors=True)


SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
#: Definition versions (``Database.version``), one row per component.
DEFINITION_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS definition_versions ("
    " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
BUMP_VERSION = (
    "INSERT INTO definition_versions (component, version) VALUES (?, 1)"
    " ON CONFLICT (component) DO UPDATE SET version = definition_versions.version + 1"
    " RETURNING version"
)


def _migrate(
    conn: sqlite3.Connection, where: str, component: str, migrations: Sequence[Migration]
) -> None:
    """Run ``component``'s migrations past its stored version (inside a transaction)."""
    row = conn.execute(
        "SELECT version FROM schema_version WHERE component = ?", (component,)
    ).fetchone()
    current = row[0] if row else 0
    if current > len(migrations):
        raise RuntimeError(
            f"{where} has {component} schema v{current}, newer than this "
            f"headwater (v{len(migrations)}); upgrade headwater"
        )
    for step in migrations[current:]:
        if isinstance(step, str):
            for statement in _split_sql(step):
                conn.execute(statement)
        else:
            step(conn)
    if current != len(migrations):
        conn.execute(
            "INSERT INTO schema_version(component, version) VALUES (?, ?)"
            " ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            (component, len(migrations)),
        )


class JoinedMigrations:
    """Migrations that ran inside a caller's transaction (a service or store first made
    there, on SQLite's one connection), so that they run again, on their own, if it rolls
    back: the rollback takes their schema away, while the service or store that ran them
    stays made and would find its tables gone until a restart."""

    __slots__ = ("_pending", "_where")

    def __init__(self, where: str) -> None:
        self._where = where
        self._pending: list[tuple[str, Sequence[Migration]]] = []

    def add(self, component: str, migrations: Sequence[Migration]) -> None:
        """``component``'s migrations are running inside an outer transaction."""
        self._pending.append((component, migrations))

    def committed(self) -> None:
        """The outer transaction committed: their schema with it."""
        self._pending.clear()

    def rolled_back(self, conn: sqlite3.Connection) -> None:
        """The outer transaction rolled back (the caller holds the write lock): run them
        again in a transaction of their own."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            for component, migrations in pending:
                _migrate(conn, self._where, component, migrations)
            conn.execute("COMMIT")
        except sqlite3.Error:
            # what failed the transaction (a full disk) may fail this too: the caller's
            # error goes on; the services made in it lack their tables until a restart
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            components = [component for component, _ in pending]
            log.exception("could not restore the schema of %s after a rollback", components)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def _noop() -> None:
    pass


def open_database(
    data_dir: str | Path | None,
    durability: Durability = "normal",
    *,
    url: str | None = None,
    poll_fallback: float = DEFAULT_POLL_FALLBACK_SECONDS,
) -> Database:
    """PostgreSQL at ``url`` (``postgresql://...``; ``data_dir`` then only holds this node's
    unpacked function code), SQLite in ``data_dir``, or memory when both are ``None``."""
    if url is not None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"unsupported database URL {url!r}: expected postgresql://...")
        from headwater.store.postgresql import PostgresDatabase

        return PostgresDatabase(url, data_dir=data_dir, poll_fallback=poll_fallback)
    if data_dir is None:
        return MemoryDatabase()
    return SqliteDatabase(data_dir, durability, poll_fallback=poll_fallback)
