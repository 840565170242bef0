"""``SqlStore``: the base of a store written once in portable SQL over ``db.conn``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater.store.database import Database, Migration, SqlConnection


class SqlStore:
    """Migrates its component's schema once, and hands out the connection of a transaction
    (``transaction``) or of standalone reads (``_reading``)."""

    def __init__(self, db: Database, component: str, migrations: Sequence[Migration]) -> None:
        self._db = db
        db.migrate(component, migrations)

    @contextmanager
    def transaction(self) -> Iterator[SqlConnection]:
        """One transaction (joins an outer one) and its connection."""
        with self._db.transaction():
            yield self._db.conn

    @contextmanager
    def _reading(self) -> Iterator[SqlConnection]:
        """Statements that read (join a transaction in progress)."""
        with self._db.read():
            yield self._db.conn
