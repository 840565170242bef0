"""Persistence. ``open_database`` gives a ``SqliteDatabase`` (durable) or ``MemoryDatabase``.

Each component (queues, functions, streams, mappings) has its own store protocol in
``store/<component>/`` with a SQLite and a memory implementation, and one contract test
suite run against both.
"""

from headwater.store.database import (
    Database,
    Durability,
    MemoryDatabase,
    SqliteDatabase,
    open_database,
)

__all__ = ["Database", "Durability", "MemoryDatabase", "SqliteDatabase", "open_database"]
