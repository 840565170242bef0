"""The DynamoDB change feed's storage on every backend: records of a table get the next
sequence in the INSERT that appends them, the trim drops only records older than its
cutoff, and a sequence is never handed out twice, even after the trim emptied a table."""

from __future__ import annotations

from headwater.store.database import Database
from headwater.store.tables import TableStore


def _table(db: Database, table_id: int) -> None:
    db.conn.execute(
        "INSERT INTO ddb_tables (id, account, region, name, version, spec, last_change)"
        " VALUES (?, 'a', 'r', ?, 1, '{}', 0)",
        (table_id, f"t{table_id}"),
    )
    db.conn.execute(
        "INSERT INTO ddb_streams (arn, table_id, account, region, table_name, label,"
        " view_type, key_schema, created, first_seq)"
        " VALUES (?, ?, 'a', 'r', 't', 'l', 'KEYS_ONLY', '[]', 0, 0)",
        (f"arn:{table_id}", table_id),
    )


def _append(store: TableStore, table_id: int, created: float, image: bytes = b"{}") -> None:
    store.append_change(
        table_id, f"arn:{table_id}", created=created, event="INSERT", keys=b"{}",
        old_image=None, new_image=image, changed=True, by_service=False, size=2,
    )  # fmt: skip


def _seqs(store: TableStore, table_id: int) -> list[int]:
    return [change.seq for change in store.changes(table_id, 0, None, 100)]


def test_records_read_back_per_table_in_sequence_order(db: Database) -> None:
    store = TableStore(db)
    with db.transaction():
        _table(db, 1)
        _table(db, 2)
        assert store.last_change_seq(1) == 0
        assert store.first_change_seq(1) is None
        for n in range(3):
            _append(store, 1, float(n), b'{"n":%d}' % n)
        _append(store, 2, 9.0)
    with db.read():
        changes = store.changes(1, 0, None, 100)
        assert [(c.table_id, c.seq, c.stream_arn, c.new_image) for c in changes] == [
            (1, 1, "arn:1", b'{"n":0}'),
            (1, 2, "arn:1", b'{"n":1}'),
            (1, 3, "arn:1", b'{"n":2}'),
        ]
        assert [c.seq for c in store.changes(1, 1, 2, 100)] == [2]
        assert [c.seq for c in store.changes(1, 0, None, 2)] == [1, 2]
        assert store.last_change_seq(1) == 3
        assert store.first_change_seq(1) == 1
        assert _seqs(store, 2) == [1]


def test_trim_drops_only_old_records_and_the_sequence_never_goes_back(db: Database) -> None:
    """The trim drops a table's records made before the cutoff (in sequence order, up to
    the first one made at or after it); once all are gone the next record still gets a
    new sequence, and other tables keep theirs."""
    store = TableStore(db)
    with db.transaction():
        _table(db, 1)
        _table(db, 2)
        for created in (1.0, 2.0, 3.0, 4.0):
            _append(store, 1, created)
        _append(store, 2, 10.0)
    with db.transaction():
        assert store.trim_changes(3.0) == 2
    with db.read():
        assert _seqs(store, 1) == [3, 4]
    with db.transaction():
        assert store.trim_changes(3.0) == 0
        assert store.trim_changes(5.0) == 2
    with db.read():
        assert _seqs(store, 1) == []
        assert store.first_change_seq(1) is None
        assert store.last_change_seq(1) == 4
    with db.transaction():
        _append(store, 1, 6.0)
    with db.read():
        assert _seqs(store, 1) == [5]
        assert _seqs(store, 2) == [1]
