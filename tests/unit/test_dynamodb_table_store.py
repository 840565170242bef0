"""The DynamoDB table store's schema upgrades keep what the services rely on."""

from __future__ import annotations

from pathlib import Path

from headwater.store.database import SqliteDatabase
from headwater.store.tables import ItemKey, TableStore
from headwater.store.tables.sql import _MIGRATIONS, _PUT_ITEM


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
            store.put_item(1, ItemKey(7, b"late", b""), b"{}", 2, 60.0)
            later = store.expired_items(1, 55.0, 100.0, 10)
        assert [row.key.pk for row in expired] == [b"p2", b"p1"]
        assert "USING INDEX ddb_items_expiry" in " ".join(str(step[3]) for step in plan)
        assert [row.key.pk for row in later] == [b"late"]
    finally:
        db.close()
