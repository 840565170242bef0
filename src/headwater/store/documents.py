"""Keyed JSON documents in the headwater database: a table whose rows are a key (account,
region, then the kind's own key columns) and one JSON ``body``, read and written whole.

Several services keep their resources so (SSM parameters, CodeDeploy, SES, API Gateway's
APIs, Secrets Manager, KMS keys, EventBridge buses, Scheduler groups, Step Functions' state
machines); each keeps its own table, schema component and migrations, and reads and writes
the rows through a ``DocumentTable`` instead of its own copy of the same SQL. One SQL text
serves memory, SQLite and PostgreSQL (``Database`` translates the dialect).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from headwater.store.database import Database

#: A stored document: a JSON object.
Document = dict[str, Any]


def document_table_sql(table: str, key: Sequence[str]) -> str:
    """The CREATE TABLE of a document table keyed by ``key`` (its columns, in order)."""
    columns = "".join(f"    {column} TEXT NOT NULL,\n" for column in key)
    return (
        f"CREATE TABLE {table} (\n{columns}    body BLOB NOT NULL,\n"
        f"    PRIMARY KEY ({', '.join(key)})\n)"
    )


class DocumentTable:
    """The rows of ``table``: ``key`` names its key columns in order (account and region
    first, by convention); every method takes a key's values in that order. ``columns``
    are further columns a write fills from the body (what a sweep selects on, such as a
    deletion date, without reading every body). The table and its migrations belong to the
    store that makes this object."""

    def __init__(
        self,
        database: Database,
        table: str,
        key: Sequence[str],
        columns: Mapping[str, Callable[[Document], Any]] | None = None,
    ) -> None:
        self.db = database
        self.table = table
        self.key = tuple(key)
        self._columns = dict(columns or {})
        self._match = " AND ".join(f"{column} = ?" for column in self.key)
        written = (*self.key, *self._columns, "body")
        self._upsert = (
            f"INSERT INTO {table}({', '.join(written)}) "
            f"VALUES ({', '.join('?' for _ in written)}) ON CONFLICT ({', '.join(self.key)}) "
        )
        self._replace = ", ".join(
            f"{column} = excluded.{column}" for column in (*self._columns, "body")
        )

    def _row(self, key: Sequence[str], body: Document) -> tuple[Any, ...]:
        derived = (value_of(body) for value_of in self._columns.values())
        return (*self._check(key), *derived, orjson.dumps(body))

    def _check(self, key: Sequence[str]) -> tuple[str, ...]:
        if len(key) != len(self.key):
            raise ValueError(f"{self.table}: a key is {self.key}, not {tuple(key)}")
        return tuple(key)

    def get(self, key: Sequence[str], *, for_update: bool = False) -> Document | None:
        """The document at ``key``; ``for_update`` (inside a transaction) locks its row until
        the transaction ends (PostgreSQL; SQLite's transaction holds the write lock)."""
        lock = self.db.dialect.for_update if for_update else ""
        with self.db.read():
            row = self.db.conn.execute(
                f"SELECT body FROM {self.table} WHERE {self._match}{lock}", self._check(key)
            ).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def put(self, key: Sequence[str], body: Document) -> None:
        """Store ``body`` at ``key``, over what was there."""
        with self.db.transaction():
            self.db.conn.execute(
                f"{self._upsert}DO UPDATE SET {self._replace}", self._row(key, body)
            )

    def insert(self, key: Sequence[str], body: Document) -> bool:
        """Store ``body`` at ``key`` unless a document is there; answers whether it did."""
        with self.db.transaction():
            cursor = self.db.conn.execute(self._upsert + "DO NOTHING", self._row(key, body))
            return cursor.rowcount > 0

    def delete(self, key: Sequence[str]) -> bool:
        """Remove the document at ``key``; answers whether there was one."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                f"DELETE FROM {self.table} WHERE {self._match}", self._check(key)
            )
            return cursor.rowcount > 0

    def update(
        self, key: Sequence[str], change: Callable[[Document | None], Document | None]
    ) -> Document | None:
        """Read the document at ``key`` under its row lock, store what ``change`` makes of it
        (``None``: remove it) in the same transaction, and answer that."""
        with self.db.transaction():
            changed = change(self.get(key, for_update=True))
            if changed is None:
                self.delete(key)
            else:
                self.put(key, changed)
            return changed

    def _where(self, prefix: Sequence[str]) -> tuple[str, str]:
        if len(prefix) > len(self.key):
            raise ValueError(f"{self.table}: a key is {self.key}, not {tuple(prefix)}")
        match = " AND ".join(f"{column} = ?" for column in self.key[: len(prefix)])
        order = ", ".join(self.key[len(prefix) :]) or self.key[-1]
        return (f" WHERE {match}" if match else ""), order

    def all(self, prefix: Sequence[str]) -> list[Document]:
        """Every document whose key begins with ``prefix``, in the order of the rest."""
        where, order = self._where(prefix)
        with self.db.read():
            rows = self.db.conn.execute(
                f"SELECT body FROM {self.table}{where} ORDER BY {order}", tuple(prefix)
            ).fetchall()
        return [dict(orjson.loads(row[0])) for row in rows]

    def keys(self, prefix: Sequence[str]) -> list[tuple[str, ...]]:
        """The rest of the key of every document whose key begins with ``prefix``, in order."""
        where, order = self._where(prefix)
        rest = ", ".join(self.key[len(prefix) :]) or self.key[-1]
        with self.db.read():
            rows = self.db.conn.execute(
                f"SELECT {rest} FROM {self.table}{where} ORDER BY {order}", tuple(prefix)
            ).fetchall()
        return [tuple(str(value) for value in row) for row in rows]
