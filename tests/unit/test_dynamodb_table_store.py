"""The DynamoDB table store's schema upgrades keep what the services rely on."""

from __future__ import annotations

from pathlib import Path

from headwater.store.database import SqliteDatabase
from headwater.store.tables import ItemKey, TableStore
from headwater.store.tables.sql import _MIGRATIONS, _capture_through_view

#: An item write on the first schemas (before ``written``).
_PUT_ITEM = (
    "INSERT INTO ddb_items (table_id, token, pk, sk, item, size, expires)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def test_partial_expiry_index_upgrade_keeps_ttl_items_for_the_sweeper(tmp_path: Path) -> None:
    """A data directory from before the expiry index became partial (items without a TTL
    value no longer index): after the upgrade the sweeper finds exactly the expiring items
    of the table, soonest first, through the index."""
    db = SqliteDatabase(tmp_path)
    try:
        db.migrate("dynamodb", _MIGRATIONS[:2])
        with db.transaction():
            for n, expires in enumerate((None, 50.0, 10.0, 500.0)):
                db.conn.execute(_PUT_ITEM, (1, n, b"p%d" % n, b"", b"{}", 2, expires))
            db.conn.execute(_PUT_ITEM, (2, 9, b"other", b"", b"{}", 2, 20.0))
        store = TableStore(db)  # runs the remaining migrations
        with db.read():
            expired = store.expired_items(1, 0.0, 100.0, 10)
            plan = db.conn.execute(
                "EXPLAIN QUERY PLAN SELECT token, pk, sk, item, size FROM ddb_items WHERE"
                " table_id = ? AND expires >= ? AND expires <= ? ORDER BY expires LIMIT ?",
                (1, 0.0, 100.0, 10),
            ).fetchall()
            store.put_item(1, ItemKey(7, b"late", b""), b"{}", 2, 60.0, written=1.0)
            later = store.expired_items(1, 55.0, 100.0, 10)
        assert [row.key.pk for row in expired] == [b"p2", b"p1"]
        assert "USING INDEX ddb_items_expiry" in " ".join(str(step[3]) for step in plan)
        assert [row.key.pk for row in later] == [b"late"]
    finally:
        db.close()


def _append(store: TableStore, table_id: int, created: float) -> None:
    store.append_change(
        table_id, "arn:s", created=created, event="INSERT", keys=b"{}", old_image=None,
        new_image=b"{}", changed=True, by_service=False, size=2,
    )  # fmt: skip


def _seqs(store: TableStore, table_id: int) -> list[int]:
    return [change.seq for change in store.changes(table_id, 0, None, 100)]


def test_clustered_change_feed_upgrade_keeps_records_and_sequence(tmp_path: Path) -> None:
    """A data directory from before the change records were keyed by one integer (sequence counter
    in ddb_tables, created index): records survive the upgrade and the feed goes on at
    the next sequence."""
    db = SqliteDatabase(tmp_path)
    try:
        db.migrate("dynamodb", _MIGRATIONS[:3])
        with db.transaction():
            db.conn.execute(
                "INSERT INTO ddb_tables (id, account, region, name, version, spec,"
                " last_change) VALUES (1, 'a', 'r', 't', 1, '{}', 7)"
            )
            for seq in (6, 7):  # 1..5 trimmed already
                db.conn.execute(
                    "INSERT INTO ddb_changes (table_id, seq, stream_arn, created, event,"
                    " keys, old_image, new_image, changed, by_service, size)"
                    " VALUES (1, ?, 'arn:s', ?, 'INSERT', x'7b7d', NULL, x'7b7d', 1, 0, 2)",
                    (seq, float(seq)),
                )
        store = TableStore(db)
        with db.transaction():
            _append(store, 1, 8.0)
            assert _seqs(store, 1) == [6, 7, 8]
            assert store.last_change_seq(1) == 8
            assert store.first_change_seq(1) == 6
            names = [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")]
        assert "ddb_changes_created" not in names
    finally:
        db.close()


def test_change_trigger_upgrade_records_puts_through_the_capture_view(tmp_path: Path) -> None:
    """A data directory whose triggers appended records themselves: after the upgrade the
    item triggers hand rows to ddb_change_capture, and a put on a table with an open
    stream still gets its record (and one on a table without none)."""
    db = SqliteDatabase(tmp_path)
    try:
        db.migrate("dynamodb", _MIGRATIONS[: _MIGRATIONS.index(_capture_through_view)])
        TableStore(db)  # runs the trigger upgrade (and any later migration)
        with db.transaction():
            triggers = dict(
                db.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            )
            for table_id in (1, 2):
                db.conn.execute(
                    "INSERT INTO ddb_tables (id, account, region, name, version, spec,"
                    " last_change) VALUES (?, 'a', 'r', ?, 1, '{}', 0)",
                    (table_id, f"t{table_id}"),
                )
            db.conn.execute(
                "INSERT INTO ddb_streams (arn, table_id, account, region, table_name, label,"
                " view_type, key_schema, created, first_seq)"
                " VALUES ('arn:s', 1, 'a', 'r', 't1', 'l', 'NEW_IMAGE', '[]', 0, 0)"
            )
        store = TableStore(db)
        with db.read():
            for table_id in (1, 2):
                store.put_item(table_id, ItemKey(1, b"k", b""), b"{}", 2, None, written=5.0)
            assert [
                (c.seq, c.event, c.created, c.new_image) for c in store.changes(1, 0, None, 9)
            ] == [(1, "INSERT", 5.0, b"{}")]
            assert store.changes(2, 0, None, 9) == []
        assert "INSERT INTO ddb_change_capture" in triggers["ddb_items_insert_change"]
        assert "INSERT INTO ddb_change_capture" in triggers["ddb_items_update_change"]
        assert "INSERT INTO ddb_changes" in triggers["ddb_change_capture_insert"]
    finally:
        db.close()
