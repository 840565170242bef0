"""Storage for DynamoDB tables: catalog, items, secondary-index entries, the change feed.

One portable-SQL class (``TableStore``) runs on the memory and SQLite databases (and, via
the scale-out backend, PostgreSQL). Items are keyed by ``(table, token, pk, sk)`` where
``pk`` / ``sk`` are the byte-ordered encodings of the key values
(``core.expressions.key_order``) and ``token`` is the partition's scan token: a Query is
one primary-key range scan in DynamoDB's key order, a Scan walks the key in hash order.

Store methods run plain SQL and never open transactions themselves: the service calls
them inside ``db.transaction()`` (writes, so a write, its index entries and its change
record commit together) or ``db.read()`` (reads, and single-statement writes). On SQLite
the item write itself records a put's change (triggers, ``TableStore.captures_changes``),
so an unconditional put on a streamed table is a single-statement write too.
"""

from __future__ import annotations

from headwater.store.tables.sql import (
    ChangeRow,
    IndexEntry,
    ItemKey,
    ItemRow,
    ShardRow,
    StreamRow,
    TableRow,
    TableStore,
)

__all__ = [
    "ChangeRow",
    "IndexEntry",
    "ItemKey",
    "ItemRow",
    "ShardRow",
    "StreamRow",
    "TableRow",
    "TableStore",
]
