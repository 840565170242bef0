"""``TableStore``: DynamoDB tables in portable SQL (memory, SQLite; PostgreSQL-ready)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from headwater.store.database import Database, Migration

#: A change record's id is ``table_id * CHANGE_SEQ_SPAN + seq``: a table's records are
#: the ids in ``(base, base + CHANGE_SEQ_SPAN)``, in sequence order.
CHANGE_SEQ_SPAN = 1 << 40

#: The open stream of the table of the row the trigger runs for (``NEW``).
_OPEN_STREAM = "FROM ddb_streams WHERE table_id = NEW.table_id AND disabled IS NULL"
#: ``INSERT INTO ddb_changes`` of the table's next sequence for a row of the
#: ``ddb_change_capture`` view. VALUES, not INSERT ... SELECT: a SELECT reading the table
#: it inserts into is first copied into a temporary table, which cost a table without a
#: stream 40k instructions per write (cachegrind).
_CAPTURE = (
    "INSERT INTO ddb_changes (id, stream_arn, created, event, keys, old_image, new_image,"
    " changed, by_service, size)"
    " VALUES (COALESCE((SELECT MAX(id) FROM ddb_changes"
    f" WHERE id > NEW.table_id * {CHANGE_SEQ_SPAN}"
    f" AND id < (NEW.table_id + 1) * {CHANGE_SEQ_SPAN}), NEW.table_id * {CHANGE_SEQ_SPAN}"
    " + (SELECT last_change FROM ddb_tables WHERE id = NEW.table_id)) + 1,"
    f" (SELECT arn {_OPEN_STREAM} LIMIT 1), NEW.written, NEW.event, X'', NEW.old_item,"
    " NEW.new_item, NEW.changed, 0, NEW.size)"
)


def _create_change_triggers(conn: sqlite3.Connection) -> None:
    """On SQLite (files and memory), writing an item records its change itself.

    Triggers on ddb_items append the change record of a put in the statement that
    writes the item, so an unconditional PutItem on a streamed table stays one
    autocommit statement, as on a table without a stream: no transaction, no read of
    the old item in Python, no second statement (issue 12). The record's time is the
    item's ``written`` (the writer's clock time, a parameter of the write). Its ``keys``
    is empty: readers take the key attributes from the images (the stream's key schema),
    and its ``size`` leaves the keys out; ``changed`` compares the stored bytes, and
    readers compare the values when they differ (``"1"`` and ``"1.0"`` are one number).
    ``UPDATE OF item``: storing expiry times for a new TTL attribute changes no item.
    Deletions stay recorded by the writer, which reads the old item first anyway (and
    knows a TTL deletion from a user's); PostgreSQL records every write from Python.
    """
    if not isinstance(conn, sqlite3.Connection):
        return
    conn.execute("CREATE INDEX ddb_streams_open ON ddb_streams (table_id) WHERE disabled IS NULL")
    _capture_through_view(conn)


def _capture_through_view(conn: sqlite3.Connection) -> None:
    """(Re)create the change triggers: small ones on ddb_items, which hand the row to the
    ``ddb_change_capture`` view, whose INSTEAD OF trigger appends the record.

    Every item write runs its AFTER trigger's program, whose WHEN (an open stream) is
    checked inside it; SQLite sets up all of a program's registers first, so the record's
    INSERT in that program cost a put on a table without a stream 3-5k instructions even
    when nothing was recorded (cachegrind, 68.6k against 65.3k per put through the view;
    no difference for a streamed put).
    """
    if not isinstance(conn, sqlite3.Connection):
        return
    for trigger in (
        "ddb_items_insert_change",
        "ddb_items_update_change",
        "ddb_change_capture_insert",
    ):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    conn.execute("DROP VIEW IF EXISTS ddb_change_capture")
    conn.execute(
        "CREATE VIEW ddb_change_capture (table_id, written, event, old_item, new_item, changed,"
        " size) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0"
    )
    conn.execute(
        "CREATE TRIGGER ddb_change_capture_insert INSTEAD OF INSERT ON ddb_change_capture"
        f" BEGIN {_CAPTURE}; END"
    )
    for name, event, values in (
        ("insert", "INSERT", "'INSERT', NULL, NEW.item, 1, NEW.size"),
        (
            "update",
            "UPDATE OF item",
            "'MODIFY', OLD.item, NEW.item, OLD.item IS NOT NEW.item, OLD.size + NEW.size",
        ),
    ):
        conn.execute(
            f"CREATE TRIGGER ddb_items_{name}_change AFTER {event} ON ddb_items"
            f" WHEN EXISTS (SELECT 1 {_OPEN_STREAM}) BEGIN INSERT INTO ddb_change_capture"
            f" VALUES (NEW.table_id, NEW.written, {values}); END"
        )


_MIGRATIONS: list[Migration] = [
    """
    CREATE TABLE ddb_counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE ddb_tables (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        spec BLOB NOT NULL,
        last_change INTEGER NOT NULL,
        UNIQUE (account, region, name)
    );
    CREATE TABLE ddb_items (
        table_id INTEGER NOT NULL,
        token INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item BLOB NOT NULL,
        size INTEGER NOT NULL,
        expires REAL,
        PRIMARY KEY (table_id, token, pk, sk)
    );
    CREATE INDEX ddb_items_expiry ON ddb_items (table_id, expires);
    CREATE TABLE ddb_index_items (
        table_id INTEGER NOT NULL,
        index_name TEXT NOT NULL,
        token INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item_token INTEGER NOT NULL,
        item_pk BLOB NOT NULL,
        item_sk BLOB NOT NULL,
        PRIMARY KEY (table_id, index_name, token, pk, sk, item_token, item_pk, item_sk)
    );
    CREATE TABLE ddb_streams (
        arn TEXT PRIMARY KEY,
        table_id INTEGER NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        table_name TEXT NOT NULL,
        label TEXT NOT NULL,
        view_type TEXT NOT NULL,
        key_schema BLOB NOT NULL,
        created REAL NOT NULL,
        first_seq INTEGER NOT NULL,
        disabled REAL,
        last_seq INTEGER
    );
    CREATE INDEX ddb_streams_table ON ddb_streams (account, region, table_name);
    CREATE TABLE ddb_changes (
        table_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        stream_arn TEXT NOT NULL,
        created REAL NOT NULL,
        event TEXT NOT NULL,
        keys BLOB NOT NULL,
        old_image BLOB,
        new_image BLOB,
        changed INTEGER NOT NULL,
        by_service INTEGER NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (table_id, seq)
    );
    CREATE INDEX ddb_changes_created ON ddb_changes (created);
    CREATE TABLE ddb_request_tokens (
        account TEXT NOT NULL,
        token TEXT NOT NULL,
        created REAL NOT NULL,
        digest TEXT NOT NULL,
        PRIMARY KEY (account, token)
    )
    """,
    # DynamoDB Streams shards: ranges of a stream's records, a child opening as its
    # parent closes (``first_seq < seq <= last_seq``; ``last_seq`` NULL while open).
    """
    CREATE TABLE ddb_stream_shards (
        stream_arn TEXT NOT NULL,
        idx INTEGER NOT NULL,
        shard_id TEXT NOT NULL,
        parent_id TEXT,
        created REAL NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER,
        closed REAL,
        PRIMARY KEY (stream_arn, idx)
    )
    """,
    # Only items with a TTL value need the expiry index (the sweeper reads it with
    # ``expires >= ?``, which implies NOT NULL): writing an item without one no longer
    # updates an index page too (measured: a new item's statement 20 -> 15 us, a
    # replaced item's 11 -> 6 us; issue 11).
    """
    DROP INDEX ddb_items_expiry;
    CREATE INDEX ddb_items_expiry ON ddb_items (table_id, expires) WHERE expires IS NOT NULL
    """,
    # A change record is one B-tree entry keyed by one integer, ``table_id * 2**40 + seq``
    # (``CHANGE_SEQ_SPAN``), in SQLite's rowid B-tree, with no index on ``created`` (the
    # trim walks each table's records in sequence order instead). Each page a write
    # transaction dirties is one more WAL frame at COMMIT, the bulk of a streamed write's
    # cost: a change record went from three pages (row, key index, created index) plus the
    # ddb_tables page of the sequence counter to about one (issue 12). Appending at the end
    # of a table's range fills the last leaf and a full one splits off a new leaf; a
    # clustered (table_id, seq) WITHOUT ROWID key was tried and measured 1.64 pages per
    # record against 1.1 (its index B-tree splits rebalance siblings). ``last_change`` is
    # now only a floor: the newest sequence is the table's highest record, or this floor
    # once the trim has dropped them all.
    """
    CREATE TABLE ddb_changes_by_id (
        id INTEGER PRIMARY KEY,
        stream_arn TEXT NOT NULL,
        created REAL NOT NULL,
        event TEXT NOT NULL,
        keys BLOB NOT NULL,
        old_image BLOB,
        new_image BLOB,
        changed INTEGER NOT NULL,
        by_service INTEGER NOT NULL,
        size INTEGER NOT NULL
    );
    INSERT INTO ddb_changes_by_id (id, stream_arn, created, event, keys, old_image,
        new_image, changed, by_service, size)
        SELECT table_id * 1099511627776 + seq, stream_arn, created, event, keys, old_image,
        new_image, changed, by_service, size FROM ddb_changes;
    DROP TABLE ddb_changes;
    ALTER TABLE ddb_changes_by_id RENAME TO ddb_changes
    """,
    # The clock time of an item's last write: the time of the change record SQLite's
    # triggers write for it (``_create_change_triggers``).
    "ALTER TABLE ddb_items ADD COLUMN written REAL",
    _create_change_triggers,
    _capture_through_view,
    # Vector index statistics, kept by the writes to a table with vector indexes so that
    # DescribeTable need not read every item: each index's ItemCount and IndexSizeBytes
    # (``index_name`` the index's), and how much larger the table's items are billed than
    # stored (``index_name`` '', ``size_bytes``). No row: not counted (then read in full).
    """
    CREATE TABLE ddb_vector_stats (
        table_id INTEGER NOT NULL,
        index_name TEXT NOT NULL,
        item_count INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (table_id, index_name)
    )
    """,
    # What a same-token TransactWriteItems replay is charged, per table: read units on
    # the images the first call wrote (JSON ``{table name: units}``), kept with the token
    # because a replayed delete or shrinking put no longer finds those images stored.
    "ALTER TABLE ddb_request_tokens ADD COLUMN replay_read_units TEXT",
]


class ItemKey(NamedTuple):
    """Where an item sits: its partition's scan token and its encoded key values.

    A named tuple rather than a frozen dataclass: every item call and every row a query
    reads makes one, and a tuple is made in a third of the time."""

    token: int
    pk: bytes
    sk: bytes


@dataclass(frozen=True, slots=True)
class TableRow:
    id: int
    account: str
    region: str
    name: str
    version: int
    spec: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ItemRow:
    key: ItemKey
    item: bytes
    size: int


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """An item's entry in a secondary index: the index key and the item's table key."""

    index_name: str
    key: ItemKey
    item: ItemKey


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One stream of a table (a new one each time the stream is enabled)."""

    arn: str
    table_id: int
    account: str
    region: str
    table_name: str
    label: str
    view_type: str
    key_schema: list[dict[str, str]]
    created: float
    first_seq: int
    disabled: float | None = None
    last_seq: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    table_id: int
    seq: int
    stream_arn: str
    created: float
    event: str
    keys: bytes
    old_image: bytes | None
    new_image: bytes | None
    changed: bool
    by_service: bool
    size: int


@dataclass(frozen=True, slots=True)
class ShardRow:
    """One shard of a stream: the stream's records with ``first_seq < seq <= last_seq``."""

    stream_arn: str
    idx: int
    shard_id: str
    parent_id: str | None
    created: float
    first_seq: int
    last_seq: int | None = None
    closed: float | None = None


_TABLE_COLUMNS = "id, account, region, name, version, spec"
_SHARD_COLUMNS = "stream_arn, idx, shard_id, parent_id, created, first_seq, last_seq, closed"
_STREAM_COLUMNS = (
    "arn, table_id, account, region, table_name, label, view_type, key_schema, created,"
    " first_seq, disabled, last_seq"
)
_CHANGE_COLUMNS = (
    "id, stream_arn, created, event, keys, old_image, new_image, changed, by_service, size"
)
_INSERT_ITEM = "INSERT INTO ddb_items (table_id, token, pk, sk, item, size, expires, written)"
#: What an item insert does where the key already holds an item: replace it.
_ON_KEY_REPLACE = (
    " ON CONFLICT (table_id, token, pk, sk) DO UPDATE SET"
    " item = excluded.item, size = excluded.size, expires = excluded.expires,"
    " written = excluded.written"
)
_PUT_ITEM = f"{_INSERT_ITEM} VALUES (?, ?, ?, ?, ?, ?, ?, ?){_ON_KEY_REPLACE}"
#: The definition-version component of table definitions (``Database.version``).
TABLES_COMPONENT = "dynamodb-tables"
#: The VALUES of an item insert that writes only while the table definitions are at a
#: given version, read in the same statement (SQLite's ``definition_versions``, see
#: ``Database.version``): the item is NULL when they moved, which NOT NULL refuses, so
#: nothing is written. (Not INSERT ... SELECT ... WHERE: SQLite copies the SELECT into a
#: temporary table first when the target has triggers, 11k instructions per put;
#: ``_create_change_triggers``.)
_VALUES_IF_CURRENT = (
    " VALUES (?, ?, ?, ?, CASE WHEN (SELECT version FROM definition_versions"
    " WHERE component = ?) = ? THEN ? END, ?, ?, ?)"
)
_PUT_ITEM_IF_CURRENT = f"{_INSERT_ITEM}{_VALUES_IF_CURRENT}{_ON_KEY_REPLACE}"
#: An item replaced only while it is still ``item`` (the bytes read) and the definitions
#: are at a given version: an optimistic read-modify-write in one statement
#: (``replace_item_if_unchanged``).
_REPLACE_ITEM_IF_UNCHANGED = (
    "UPDATE ddb_items SET item = ?, size = ?, expires = ?, written = ?"
    " WHERE table_id = ? AND token = ? AND pk = ? AND sk = ? AND item = ?"
    " AND (SELECT version FROM definition_versions WHERE component = ?) = ?"
)
#: ``_PUT_ITEM_IF_CURRENT`` that writes only where no item is (``replace_item_if_unchanged``).
_INSERT_ITEM_IF_CURRENT = (
    f"{_INSERT_ITEM}{_VALUES_IF_CURRENT} ON CONFLICT (table_id, token, pk, sk) DO NOTHING"
)
_GET_ITEM = "SELECT item FROM ddb_items WHERE table_id = ? AND token = ? AND pk = ? AND sk = ?"
#: ``_GET_ITEM`` beside the table-definitions version, in one statement.
_GET_ITEM_IF_CURRENT = (
    f"SELECT (SELECT version FROM definition_versions WHERE component = ?), ({_GET_ITEM})"
)
#: The newest sequence of a table's feed: its highest record, else the floor in ddb_tables.
_LAST_CHANGE = (
    "SELECT COALESCE((SELECT MAX(id) FROM ddb_changes WHERE id > ? AND id < ?) - ?,"
    " last_change) FROM ddb_tables WHERE id = ?"
)
_APPEND_CHANGE = (
    f"INSERT INTO ddb_changes ({_CHANGE_COLUMNS}) VALUES (COALESCE((SELECT MAX(id) FROM"
    " ddb_changes WHERE id > ? AND id < ?), ? + (SELECT last_change FROM ddb_tables WHERE"
    " id = ?)) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_GET_ITEM_ROW = (
    "SELECT item, size FROM ddb_items WHERE table_id = ? AND token = ? AND pk = ? AND sk = ?"
)
_DELETE_ITEM = "DELETE FROM ddb_items WHERE table_id = ? AND token = ? AND pk = ? AND sk = ?"
#: The version of one table's definition, for a write that must use the current one
#: (``table_is_current``). ``{share}``: the dialect's ``for_share``. On PostgreSQL the row
#: lock makes a table change in progress finish first (its result is what is read), and
#: keeps the next one waiting until the write commits (``table(changing=True)``, read
#: before anything else the change does), so a new index's backfill sees the item;
#: SQLite's write transaction already holds the database's only write lock.
_TABLE_VERSION = "SELECT version FROM ddb_tables WHERE id = ?{share}"
#: ``_GET_ITEM_ROW`` and ``_TABLE_VERSION`` in one statement (``get_item_row_if_current``):
#: no row when the table is gone, NULL item and size when the item is.
_GET_ITEM_ROW_IF_CURRENT = (
    f"SELECT t.version, i.item, i.size FROM ({_TABLE_VERSION}) t LEFT JOIN ddb_items i"
    " ON i.table_id = ? AND i.token = ? AND i.pk = ? AND i.sk = ?"
)
#: ``_PUT_ITEM`` that writes only while the item's table is at a given version, read (and
#: on PostgreSQL locked, ``_TABLE_VERSION``) by the same statement: a NULL item otherwise,
#: which NOT NULL refuses (as ``_VALUES_IF_CURRENT``).
_PUT_ITEM_IF_TABLE_CURRENT = (
    f"{_INSERT_ITEM} VALUES (?, ?, ?, ?, CASE WHEN ({_TABLE_VERSION}) = ? THEN ? END, ?, ?, ?)"
    f"{_ON_KEY_REPLACE}"
)


#: Bytes bound as a BLOB without sqlite3's adapter look-up: Python's sqlite3 binds int,
#: float, str and bytearray as they are but looks for an adapter for every other type,
#: bytes included (0.3 us a parameter, measured); a bytearray copy of a key or an item is
#: a fraction of that. The item statements run on every item call.
_blob = bytearray


def _real(value: float | None) -> float:
    """A nullable REAL parameter for SQLite, bound without sqlite3's adapter look-up:
    ``None`` needs one (it raises and clears an AttributeError, about 2k instructions);
    NaN is bound as a double, which SQLite stores as NULL (PostgreSQL would keep a NaN:
    SQLite only). For the expiry time of every item write."""
    return _NAN if value is None else value


_NAN = math.nan


def _table(row: Sequence[Any]) -> TableRow:
    return TableRow(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]))


def _stream(row: Sequence[Any]) -> StreamRow:
    return StreamRow(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6],
        orjson.loads(row[7]), row[8], row[9], row[10], row[11],
    )  # fmt: skip


def _change(row: Sequence[Any]) -> ChangeRow:
    table_id, seq = divmod(row[0], CHANGE_SEQ_SPAN)
    return ChangeRow(
        table_id, seq, row[1], row[2], row[3], row[4], row[5], row[6],
        bool(row[7]), bool(row[8]), row[9],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Bounds on the sort-key bytes of one partition (``None``: unbounded)."""

    low: bytes | None = None
    low_inclusive: bool = True
    high: bytes | None = None
    high_inclusive: bool = True

    def clauses(self, column: str) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.low is not None:
            clauses.append(f"{column} {'>=' if self.low_inclusive else '>'} ?")
            args.append(self.low)
        if self.high is not None:
            clauses.append(f"{column} {'<=' if self.high_inclusive else '<'} ?")
            args.append(self.high)
        return clauses, args


class TableStore:
    """Tables, items, index entries, streams and change records in SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: Whether the database records the changes of item puts itself (SQLite
        #: triggers): writers then append records of deletions only.
        self.captures_changes = db.kind in ("sqlite", "memory")
        #: Whether None binds as cheaply as any value (psycopg); sqlite3 adapts it (``_real``).
        self._binds_none = db.kind not in ("sqlite", "memory")
        share = db.dialect.for_share
        self._table_version = _TABLE_VERSION.format(share=share)
        self._get_item_row_if_current = _GET_ITEM_ROW_IF_CURRENT.format(share=share)
        self._put_item_if_table_current = _PUT_ITEM_IF_TABLE_CURRENT.format(share=share)
        db.migrate("dynamodb", _MIGRATIONS)

    @property
    def _conn(self) -> Any:
        return self.db.conn

    # ---- counters ----

    def next_value(self, name: str) -> int:
        """The next value of a named counter (transaction required)."""
        row = self._conn.execute(
            "INSERT INTO ddb_counters (name, value) VALUES (?, 1)"
            " ON CONFLICT (name) DO UPDATE SET value = ddb_counters.value + 1"
            " RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    # ---- catalog ----

    def tables_changed(self) -> int:
        """A number that moves whenever any table is created, changed or deleted (by this
        process or another): cached schemas are current while it stands still."""
        return self.db.version(TABLES_COMPONENT)

    def insert_table(self, account: str, region: str, name: str, spec: dict[str, Any]) -> TableRow:
        table_id = self.next_value("table")
        self._conn.execute(
            "INSERT INTO ddb_tables (id, account, region, name, version, spec, last_change)"
            " VALUES (?, ?, ?, ?, 1, ?, 0)",
            (table_id, account, region, name, orjson.dumps(spec)),
        )
        self.db.bump(TABLES_COMPONENT)
        return TableRow(table_id, account, region, name, 1, spec)

    def table(
        self, account: str, region: str, name: str, *, changing: bool = False
    ) -> TableRow | None:
        """The table named; ``changing``: read for a change of its definition (transaction
        required), locked on PostgreSQL until the transaction ends, once the item writes
        that hold it (``table_is_current``) have committed."""
        lock = self.db.dialect.for_update if changing else ""
        row = self._conn.execute(
            f"SELECT {_TABLE_COLUMNS} FROM ddb_tables WHERE account = ? AND region = ? AND "
            f"name = ?{lock}",
            (account, region, name),
        ).fetchone()
        return None if row is None else _table(row)

    def table_version(self, account: str, region: str, name: str) -> tuple[int, int] | None:
        """``(id, version)`` of a table: enough to tell whether a cached schema is current."""
        row = self._conn.execute(
            "SELECT id, version FROM ddb_tables WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def all_tables(self) -> list[TableRow]:
        rows = self._conn.execute(f"SELECT {_TABLE_COLUMNS} FROM ddb_tables ORDER BY id").fetchall()
        return [_table(row) for row in rows]

    def table_names(self, account: str, region: str, after: str | None, limit: int) -> list[str]:
        rows = self._conn.execute(
            "SELECT name FROM ddb_tables WHERE account = ? AND region = ? AND name > ?"
            " ORDER BY name LIMIT ?",
            (account, region, after or "", limit),
        ).fetchall()
        return [row[0] for row in rows]

    def save_table(self, table: TableRow) -> TableRow:
        """Store a changed spec; the version moves on so cached schemas reload."""
        version = table.version + 1
        self._conn.execute(
            "UPDATE ddb_tables SET spec = ?, version = ? WHERE id = ?",
            (orjson.dumps(table.spec), version, table.id),
        )
        self.db.bump(TABLES_COMPONENT)
        return TableRow(table.id, table.account, table.region, table.name, version, table.spec)

    def delete_table(self, table_id: int) -> None:
        """Drop a table with its items and index entries (change records stay for streams)."""
        conn = self._conn
        conn.execute("DELETE FROM ddb_index_items WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM ddb_vector_stats WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM ddb_items WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM ddb_tables WHERE id = ?", (table_id,))
        self.db.bump(TABLES_COMPONENT)

    def item_stats(self, table_id: int) -> tuple[int, int]:
        """``(item count, total size)`` of a table."""
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ?",
            (table_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def index_stats(self, table_id: int, index_name: str) -> tuple[int, int]:
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(i.size), 0) FROM ddb_index_items x"
            " JOIN ddb_items i ON i.table_id = x.table_id AND i.token = x.item_token"
            " AND i.pk = x.item_pk AND i.sk = x.item_sk"
            " WHERE x.table_id = ? AND x.index_name = ?",
            (table_id, index_name),
        ).fetchone()
        return int(row[0]), int(row[1])

    def vector_stats(self, table_id: int) -> dict[str, tuple[int, int]]:
        """The kept ``(count, size)`` rows of a table's vector statistics, by name."""
        rows = self._conn.execute(
            "SELECT index_name, item_count, size_bytes FROM ddb_vector_stats WHERE table_id = ?",
            (table_id,),
        ).fetchall()
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}

    def replace_vector_stats(self, table_id: int, stats: dict[str, tuple[int, int]]) -> None:
        """Keep exactly ``stats`` for the table (transaction required)."""
        conn = self._conn
        conn.execute("DELETE FROM ddb_vector_stats WHERE table_id = ?", (table_id,))
        for name, (count, size) in stats.items():
            conn.execute(
                "INSERT INTO ddb_vector_stats (table_id, index_name, item_count, size_bytes)"
                " VALUES (?, ?, ?, ?)",
                (table_id, name, count, size),
            )

    def add_vector_stats(self, table_id: int, changes: dict[str, tuple[int, int]]) -> None:
        """Add ``(count, size)`` changes to the kept rows (none kept: nothing to do)."""
        for name, (count, size) in changes.items():
            self._conn.execute(
                "UPDATE ddb_vector_stats SET item_count = item_count + ?,"
                " size_bytes = size_bytes + ? WHERE table_id = ? AND index_name = ?",
                (count, size, table_id, name),
            )

    # ---- items ----

    def get_item(self, table_id: int, key: ItemKey) -> bytes | None:
        row = self._conn.execute(
            _GET_ITEM, (table_id, key.token, _blob(key.pk), _blob(key.sk))
        ).fetchone()
        return None if row is None else bytes(row[0])

    def get_item_if_current(
        self, table_id: int, key: ItemKey, tables_version: int
    ) -> tuple[bool, bytes | None]:
        """``(current, item)``: ``get_item``, and whether the table definitions are still at
        ``tables_version`` (read by the same statement; the item means nothing if not)."""
        version, item = self._conn.execute(
            _GET_ITEM_IF_CURRENT,
            (TABLES_COMPONENT, table_id, key.token, _blob(key.pk), _blob(key.sk)),
        ).fetchone()
        return version == tables_version, None if item is None else bytes(item)

    def get_item_row(self, table_id: int, key: ItemKey) -> tuple[bytes, int] | None:
        """The stored item and its size (``item_size`` of it, kept beside it)."""
        row = self._conn.execute(
            _GET_ITEM_ROW, (table_id, key.token, _blob(key.pk), _blob(key.sk))
        ).fetchone()
        return None if row is None else (bytes(row[0]), int(row[1]))

    def table_is_current(self, table_id: int, table_version: int) -> bool:
        """Whether the table is still at ``table_version`` (and still exists), read inside
        the caller's write transaction and held so until it ends (``_TABLE_VERSION``): a
        write that checked this uses the table's current definition."""
        row = self._conn.execute(self._table_version, (table_id,)).fetchone()
        return row is not None and row[0] == table_version

    def get_item_row_if_current(
        self, table_id: int, key: ItemKey, table_version: int
    ) -> tuple[bool, tuple[bytes, int] | None]:
        """``(current, row)``: ``table_is_current`` and ``get_item_row`` in one statement
        (write transaction required; the row means nothing if not current)."""
        found = self._conn.execute(
            self._get_item_row_if_current,
            (table_id, table_id, key.token, _blob(key.pk), _blob(key.sk)),
        ).fetchone()
        if found is None or found[0] != table_version:
            return False, None
        return True, None if found[1] is None else (bytes(found[1]), int(found[2]))

    def put_item_if_table_current(
        self,
        table_id: int,
        key: ItemKey,
        item: bytes,
        size: int,
        *,
        expires: float | None,
        written: float,
        table_version: int,
    ) -> bool:
        """``put_item`` in one statement of its own if the table is still at
        ``table_version`` (``table_is_current``, checked by the write itself); False,
        having written nothing, if it moved or is gone."""
        written_rows = self._insert_if_current(
            self._put_item_if_table_current, table_id, key, item=item, size=size,
            expires=expires, written=written, guard=table_id, version=table_version,
        )  # fmt: skip
        return written_rows is not None

    def put_item(
        self,
        table_id: int,
        key: ItemKey,
        item: bytes,
        size: int,
        expires: float | None,
        *,
        written: float,
    ) -> None:
        """Store an item; ``written``: the clock time of the write (its change record's)."""
        self._conn.execute(
            _PUT_ITEM,
            (
                table_id, key.token, _blob(key.pk), _blob(key.sk), _blob(item), size,
                expires if self._binds_none else _real(expires), written,
            ),
        )  # fmt: skip

    @property
    def checks_versions_in_writes(self) -> bool:
        """Whether ``put_item_if_current`` is available (SQLite: the definition versions
        are a table beside the items)."""
        return self.db.kind == "sqlite"

    def put_item_if_current(
        self,
        table_id: int,
        key: ItemKey,
        item: bytes,
        size: int,
        *,
        expires: float | None,
        written: float,
        tables_version: int,
    ) -> bool:
        """``put_item`` if the table definitions are still at ``tables_version``
        (``tables_changed``), checked by the write itself; False (nothing written) if not."""
        written_rows = self._insert_if_current(
            _PUT_ITEM_IF_CURRENT, table_id, key, item=item, size=size, expires=expires,
            written=written, guard=TABLES_COMPONENT, version=tables_version,
        )  # fmt: skip
        return written_rows is not None

    def _insert_if_current(
        self,
        statement: str,
        table_id: int,
        key: ItemKey,
        *,
        item: bytes,
        size: int,
        expires: float | None,
        written: float,
        guard: str | int,
        version: int,
    ) -> int | None:
        """Run an item INSERT that writes NULL, which NOT NULL refuses, unless what
        ``guard`` names (the definitions component, or the table's id) is at ``version``:
        the rows written, ``None`` if it moved."""
        try:
            cursor = self._conn.execute(
                statement,
                (
                    table_id, key.token, _blob(key.pk), _blob(key.sk), guard, version,
                    _blob(item), size, expires if self._binds_none else _real(expires),
                    written,
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError:  # the version moved: the item was NULL
            return None
        return int(cursor.rowcount)

    def replace_item_if_unchanged(
        self,
        table_id: int,
        key: ItemKey,
        old: bytes | None,
        item: bytes,
        size: int,
        *,
        expires: float | None,
        written: float,
        tables_version: int,
    ) -> bool:
        """``put_item`` if the stored item is still ``old`` (``None``: no item) and the table
        definitions still at ``tables_version``, checked by the write itself; False, having
        written nothing, if either moved. SQLite only (``checks_versions_in_writes``)."""
        if old is None:
            written_rows = self._insert_if_current(
                _INSERT_ITEM_IF_CURRENT, table_id, key, item=item, size=size, expires=expires,
                written=written, guard=TABLES_COMPONENT, version=tables_version,
            )  # fmt: skip
            return written_rows == 1
        cursor = self._conn.execute(
            _REPLACE_ITEM_IF_UNCHANGED,
            (
                _blob(item), size, _real(expires), written, table_id, key.token, _blob(key.pk),
                _blob(key.sk), _blob(old), TABLES_COMPONENT, tables_version,
            ),
        )  # fmt: skip
        return bool(cursor.rowcount == 1)

    def delete_item(self, table_id: int, key: ItemKey) -> bool:
        cursor = self._conn.execute(
            _DELETE_ITEM, (table_id, key.token, _blob(key.pk), _blob(key.sk))
        )
        return bool(cursor.rowcount)

    def set_expiry(self, table_id: int, key: ItemKey, expires: float | None) -> None:
        self._conn.execute(
            "UPDATE ddb_items SET expires = ? WHERE table_id = ? AND token = ? AND pk = ? AND "
            "sk = ?",
            (expires, table_id, key.token, key.pk, key.sk),
        )

    def query_items(
        self,
        table_id: int,
        token: int,
        pk: bytes,
        bounds: KeyRange,
        *,
        forward: bool,
        limit: int,
    ) -> list[ItemRow]:
        """One partition's items in sort-key order (or reverse), within ``bounds``."""
        clauses, args = bounds.clauses("sk")
        where = "".join(f" AND {c}" for c in clauses)
        rows = self._conn.execute(
            f"SELECT sk, item, size FROM ddb_items WHERE table_id = ? AND token = ? AND pk = ?"
            f"{where} ORDER BY sk {'ASC' if forward else 'DESC'} LIMIT ?",
            (table_id, token, pk, *args, limit),
        ).fetchall()
        return [ItemRow(ItemKey(token, pk, bytes(r[0])), bytes(r[1]), r[2]) for r in rows]

    def scan_items(
        self, table_id: int, low: int, high: int, after: ItemKey | None, limit: int
    ) -> list[ItemRow]:
        """Items with ``low <= token < high`` in scan order, after the key ``after``."""
        if after is None:
            rows = self._conn.execute(
                "SELECT token, pk, sk, item, size FROM ddb_items WHERE table_id = ?"
                " AND token >= ? AND token < ? ORDER BY token, pk, sk LIMIT ?",
                (table_id, low, high, limit),
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT token, pk, sk, item, size FROM ddb_items WHERE table_id = ?"
                " AND token >= ? AND token < ? AND (token, pk, sk) > (?, ?, ?)"
                " ORDER BY token, pk, sk LIMIT ?",
                (table_id, low, high, after.token, after.pk, after.sk, limit),
            ).fetchall()
        return [ItemRow(ItemKey(r[0], bytes(r[1]), bytes(r[2])), bytes(r[3]), r[4]) for r in rows]

    def expired_items(self, table_id: int, since: float, now: float, limit: int) -> list[ItemRow]:
        """Items whose expiry time is in ``[since, now]``, soonest first."""
        rows = self._conn.execute(
            "SELECT token, pk, sk, item, size FROM ddb_items WHERE table_id = ?"
            " AND expires >= ? AND expires <= ? ORDER BY expires LIMIT ?",
            (table_id, since, now, limit),
        ).fetchall()
        return [ItemRow(ItemKey(r[0], bytes(r[1]), bytes(r[2])), bytes(r[3]), r[4]) for r in rows]

    # ---- secondary indexes ----

    def add_index_entries(self, table_id: int, entries: Iterable[IndexEntry]) -> None:
        self._conn.executemany(
            "INSERT INTO ddb_index_items (table_id, index_name, token, pk, sk, item_token,"
            " item_pk, item_sk) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (table_id, e.index_name, e.key.token, e.key.pk, e.key.sk,
                 e.item.token, e.item.pk, e.item.sk)
                for e in entries
            ],
        )  # fmt: skip

    def remove_index_entries(self, table_id: int, entries: Iterable[IndexEntry]) -> None:
        self._conn.executemany(
            "DELETE FROM ddb_index_items WHERE table_id = ? AND index_name = ? AND token = ?"
            " AND pk = ? AND sk = ? AND item_token = ? AND item_pk = ? AND item_sk = ?",
            [
                (table_id, e.index_name, e.key.token, e.key.pk, e.key.sk,
                 e.item.token, e.item.pk, e.item.sk)
                for e in entries
            ],
        )  # fmt: skip

    def drop_index(self, table_id: int, index_name: str) -> None:
        self._conn.execute(
            "DELETE FROM ddb_index_items WHERE table_id = ? AND index_name = ?",
            (table_id, index_name),
        )

    def query_index(
        self,
        table_id: int,
        index_name: str,
        token: int,
        pk: bytes,
        bounds: KeyRange,
        *,
        after: tuple[bytes, ItemKey] | None,
        forward: bool,
        limit: int,
    ) -> list[tuple[bytes, ItemRow]]:
        """``(index sort key, item)`` of one index partition, in index order."""
        clauses, args = bounds.clauses("x.sk")
        if after is not None:
            op = ">" if forward else "<"
            clauses.append(f"(x.sk, x.item_token, x.item_pk, x.item_sk) {op} (?, ?, ?, ?)")
            args.extend((after[0], after[1].token, after[1].pk, after[1].sk))
        where = "".join(f" AND {c}" for c in clauses)
        direction = "ASC" if forward else "DESC"
        rows = self._conn.execute(
            "SELECT x.sk, i.token, i.pk, i.sk, i.item, i.size FROM ddb_index_items x"
            " JOIN ddb_items i ON i.table_id = x.table_id AND i.token = x.item_token"
            " AND i.pk = x.item_pk AND i.sk = x.item_sk"
            " WHERE x.table_id = ? AND x.index_name = ? AND x.token = ? AND x.pk = ?"
            f"{where} ORDER BY x.sk {direction}, x.item_token {direction},"
            f" x.item_pk {direction}, x.item_sk {direction} LIMIT ?",
            (table_id, index_name, token, pk, *args, limit),
        ).fetchall()
        return [
            (bytes(r[0]), ItemRow(ItemKey(r[1], bytes(r[2]), bytes(r[3])), bytes(r[4]), r[5]))
            for r in rows
        ]

    def scan_index(
        self,
        table_id: int,
        index_name: str,
        low: int,
        high: int,
        *,
        after: tuple[ItemKey, ItemKey] | None,
        limit: int,
    ) -> list[tuple[ItemKey, ItemRow]]:
        """``(index key, item)`` in index scan order, after ``(index key, item key)``."""
        extra = ""
        args: list[Any] = []
        if after is not None:
            index_key, item_key = after
            extra = (
                " AND (x.token, x.pk, x.sk, x.item_token, x.item_pk, x.item_sk)"
                " > (?, ?, ?, ?, ?, ?)"
            )
            args = [index_key.token, index_key.pk, index_key.sk,
                    item_key.token, item_key.pk, item_key.sk]  # fmt: skip
        rows = self._conn.execute(
            "SELECT x.token, x.pk, x.sk, i.token, i.pk, i.sk, i.item, i.size"
            " FROM ddb_index_items x JOIN ddb_items i ON i.table_id = x.table_id"
            " AND i.token = x.item_token AND i.pk = x.item_pk AND i.sk = x.item_sk"
            " WHERE x.table_id = ? AND x.index_name = ? AND x.token >= ? AND x.token < ?"
            f"{extra} ORDER BY x.token, x.pk, x.sk, x.item_token, x.item_pk, x.item_sk LIMIT ?",
            (table_id, index_name, low, high, *args, limit),
        ).fetchall()
        return [
            (
                ItemKey(r[0], bytes(r[1]), bytes(r[2])),
                ItemRow(ItemKey(r[3], bytes(r[4]), bytes(r[5])), bytes(r[6]), r[7]),
            )
            for r in rows
        ]

    # ---- streams and change records ----

    def last_change_seq(self, table_id: int) -> int:
        """The newest sequence of the table's feed (0 before its first record)."""
        base = table_id * CHANGE_SEQ_SPAN
        row = self._conn.execute(
            _LAST_CHANGE, (base, base + CHANGE_SEQ_SPAN, base, table_id)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def append_change(
        self,
        table_id: int,
        stream_arn: str,
        *,
        created: float,
        event: str,
        keys: bytes,
        old_image: bytes | None,
        new_image: bytes | None,
        changed: bool,
        by_service: bool,
        size: int,
    ) -> None:
        """Append a record at the table's next sequence (transaction required).

        The sequence is found in the same statement (the table's highest record, or the
        floor the trim left), so the write touches no page but the record's own.
        """
        base = table_id * CHANGE_SEQ_SPAN
        self._conn.execute(
            _APPEND_CHANGE,
            (
                base, base + CHANGE_SEQ_SPAN, base, table_id, stream_arn, created, event,
                keys, old_image, new_image, int(changed), int(by_service), size,
            ),
        )  # fmt: skip

    def changes(self, table_id: int, after: int, upto: int | None, limit: int) -> list[ChangeRow]:
        """Change records of a table with ``after < seq (<= upto)``, oldest first."""
        base = table_id * CHANGE_SEQ_SPAN
        last = base + (CHANGE_SEQ_SPAN - 1 if upto is None else upto)
        rows = self._conn.execute(
            f"SELECT {_CHANGE_COLUMNS} FROM ddb_changes WHERE id > ? AND id <= ?"
            " ORDER BY id LIMIT ?",
            (base + after, last, limit),
        ).fetchall()
        return [_change(row) for row in rows]

    def first_change_seq(self, table_id: int) -> int | None:
        """The oldest record the table's feed still holds (``None``: none)."""
        base = table_id * CHANGE_SEQ_SPAN
        row = self._conn.execute(
            "SELECT MIN(id) FROM ddb_changes WHERE id > ? AND id < ?",
            (base, base + CHANGE_SEQ_SPAN),
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0]) - base

    def trim_changes(self, before: float) -> int:
        """Drop records older than ``before`` and the streams closed before it.

        Per table, in sequence order, up to its first record made at ``before`` or later
        (no index on ``created``: records are appended in clock order, and one made out of
        order is kept, never dropped early). The sequence floor moves up first, so a table
        whose records all go on counting where it was.
        """
        conn = self._conn
        table_ids = [r[0] for r in conn.execute("SELECT DISTINCT table_id FROM ddb_streams")]
        trimmed = 0
        for table_id in table_ids:
            base = table_id * CHANGE_SEQ_SPAN
            span = (base, base + CHANGE_SEQ_SPAN)
            conn.execute(
                "UPDATE ddb_tables SET last_change = COALESCE((SELECT MAX(id) FROM ddb_changes"
                " WHERE id > ? AND id < ?) - ?, last_change) WHERE id = ?",
                (*span, base, table_id),
            )
            keep = conn.execute(
                "SELECT id FROM ddb_changes WHERE id > ? AND id < ? AND created >= ?"
                " ORDER BY id LIMIT 1",
                (*span, before),
            ).fetchone()
            end = span[1] if keep is None else keep[0]
            cursor = conn.execute("DELETE FROM ddb_changes WHERE id > ? AND id < ?", (base, end))
            trimmed += int(cursor.rowcount)
        conn.execute(
            "DELETE FROM ddb_streams WHERE disabled IS NOT NULL AND disabled < ?", (before,)
        )
        conn.execute(
            "DELETE FROM ddb_stream_shards WHERE (closed IS NOT NULL AND closed < ?)"
            " OR stream_arn NOT IN (SELECT arn FROM ddb_streams)",
            (before,),
        )
        return trimmed

    def shards(self, stream_arn: str) -> list[ShardRow]:
        """The stream's retained shards, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_SHARD_COLUMNS} FROM ddb_stream_shards WHERE stream_arn = ? ORDER BY idx",
            (stream_arn,),
        ).fetchall()
        return [ShardRow(*row) for row in rows]

    def insert_shard(self, shard: ShardRow) -> None:
        """Open a shard (another process may have opened the same one first)."""
        self._conn.execute(
            f"INSERT INTO ddb_stream_shards ({_SHARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (stream_arn, idx) DO NOTHING",
            (
                shard.stream_arn, shard.idx, shard.shard_id, shard.parent_id, shard.created,
                shard.first_seq, shard.last_seq, shard.closed,
            ),
        )  # fmt: skip

    def close_shard(self, stream_arn: str, idx: int, last_seq: int, when: float) -> bool:
        """Close an open shard at ``last_seq``; False if it was closed already."""
        cursor = self._conn.execute(
            "UPDATE ddb_stream_shards SET last_seq = ?, closed = ?"
            " WHERE stream_arn = ? AND idx = ? AND last_seq IS NULL",
            (last_seq, when, stream_arn, idx),
        )
        return int(cursor.rowcount) > 0

    def insert_stream(self, stream: StreamRow) -> None:
        self._conn.execute(
            f"INSERT INTO ddb_streams ({_STREAM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            (
                stream.arn, stream.table_id, stream.account, stream.region, stream.table_name,
                stream.label, stream.view_type, orjson.dumps(stream.key_schema), stream.created,
                stream.first_seq, stream.disabled, stream.last_seq,
            ),
        )  # fmt: skip

    def disable_stream(self, arn: str, when: float, last_seq: int) -> None:
        self._conn.execute(
            "UPDATE ddb_streams SET disabled = ?, last_seq = ? WHERE arn = ? AND disabled IS NULL",
            (when, last_seq, arn),
        )

    def stream(self, arn: str) -> StreamRow | None:
        row = self._conn.execute(
            f"SELECT {_STREAM_COLUMNS} FROM ddb_streams WHERE arn = ?", (arn,)
        ).fetchone()
        return None if row is None else _stream(row)

    def streams(self, account: str, region: str, table_name: str | None) -> list[StreamRow]:
        if table_name is None:
            rows = self._conn.execute(
                f"SELECT {_STREAM_COLUMNS} FROM ddb_streams WHERE account = ? AND region = ?"
                " ORDER BY arn",
                (account, region),
            ).fetchall()
        else:
            rows = self._conn.execute(
                f"SELECT {_STREAM_COLUMNS} FROM ddb_streams WHERE account = ? AND region = ?"
                " AND table_name = ? ORDER BY arn",
                (account, region, table_name),
            ).fetchall()
        return [_stream(row) for row in rows]

    # ---- idempotency tokens (TransactWriteItems ClientRequestToken) ----

    def request_token(
        self, account: str, token: str, since: float
    ) -> tuple[str, str | None] | None:
        """The request digest a token was used with after ``since``, if any, and what a
        replay of that request is charged (``save_request_token``'s ``replay_read_units``;
        None for a token saved before it was kept)."""
        row = self._conn.execute(
            "SELECT digest, replay_read_units FROM ddb_request_tokens WHERE account = ?"
            " AND token = ? AND created >= ?",
            (account, token, since),
        ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def save_request_token(
        self, account: str, token: str, created: float, digest: str, replay_read_units: str
    ) -> None:
        """Keep a TransactWriteItems token with its request's digest and what a replay is
        charged (JSON ``{table name: read units}``), and forget tokens past their 10
        minutes (transaction required)."""
        self._conn.execute(
            "INSERT INTO ddb_request_tokens (account, token, created, digest,"
            " replay_read_units) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (account, token) DO UPDATE SET created = excluded.created,"
            " digest = excluded.digest, replay_read_units = excluded.replay_read_units",
            (account, token, created, digest, replay_read_units),
        )
        self._conn.execute("DELETE FROM ddb_request_tokens WHERE created < ?", (created - 600,))
