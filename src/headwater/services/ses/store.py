"""SES's identities, templates, configuration sets and sent messages in the headwater
database (one SQL class for every backend).

SES v1 and v2 share them, as on AWS: an identity verified through one API sends through
the other. Each resource is one row holding a JSON body; a sent message is one row too,
keyed by its MessageId and ordered by when it was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.documents import DocumentTable, document_table_sql

_KEY = ("account", "region", "kind", "name")
_MIGRATIONS = [
    document_table_sql("ses_resources", _KEY),
    """
    CREATE TABLE ses_messages (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent REAL NOT NULL,
        seq INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, message_id)
    )
    """,
]

#: The kinds of ``ses_resources`` rows.
IDENTITY = "identity"
TEMPLATE = "template"
CONFIGURATION_SET = "configuration-set"


class SesStore:
    """Rows of SES resources (by kind and name) and of sent messages."""

    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("ses", _MIGRATIONS)
        self._resources = DocumentTable(database, "ses_resources", _KEY)

    def get(self, account: str, region: str, kind: str, name: str) -> dict[str, Any] | None:
        return self._resources.get((account, region, kind, name))

    def put(self, account: str, region: str, kind: str, name: str, body: dict[str, Any]) -> None:
        self._resources.put((account, region, kind, name), body)

    def insert(self, account: str, region: str, kind: str, name: str, body: dict[str, Any]) -> bool:
        """Add a row; answers False (and changes nothing) when ``name`` is taken."""
        return self._resources.insert((account, region, kind, name), body)

    def delete(self, account: str, region: str, kind: str, name: str) -> bool:
        return self._resources.delete((account, region, kind, name))

    def update(
        self,
        account: str,
        region: str,
        kind: str,
        name: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """Read, change and store one row in one transaction holding it (another process's
        change in between would otherwise be lost)."""
        return self._resources.update((account, region, kind, name), change)

    def all(self, account: str, region: str, kind: str) -> list[dict[str, Any]]:
        return self._resources.all((account, region, kind))

    # -- sent messages -------------------------------------------------------------------

    def add_message(self, account: str, region: str, message: dict[str, Any]) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                # seq keeps the order of sends at one clock time (a ManualClock's)
                "INSERT INTO ses_messages(account, region, message_id, sent, seq, body) "
                "VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ses_messages), ?)",
                (
                    account,
                    region,
                    message["MessageId"],
                    message["Timestamp"],
                    orjson.dumps(message),
                ),
            )

    def messages(
        self, account: str | None = None, region: str | None = None
    ) -> list[dict[str, Any]]:
        """Sent messages, oldest first; of one account and region when given."""
        sql = "SELECT body FROM ses_messages"
        args: list[Any] = []
        conditions = []
        if account is not None:
            conditions.append("account = ?")
            args.append(account)
        if region is not None:
            conditions.append("region = ?")
            args.append(region)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        with self.db.read():
            rows = self.db.conn.execute(sql + " ORDER BY sent, seq", args).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def count_since(self, account: str, region: str, since: float) -> int:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT COUNT(*) FROM ses_messages WHERE account = ? AND region = ? AND sent >= ?",
                (account, region, since),
            ).fetchone()
        return int(row[0])

    def clear_messages(self, account: str | None = None, region: str | None = None) -> int:
        """Forget sent messages (of one account and region when given); answers how many."""
        sql = "DELETE FROM ses_messages"
        args: list[Any] = []
        if account is not None and region is not None:
            sql += " WHERE account = ? AND region = ?"
            args = [account, region]
        with self.db.transaction():
            return int(self.db.conn.execute(sql, args).rowcount)
