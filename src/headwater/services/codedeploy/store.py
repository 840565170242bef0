"""CodeDeploy's applications, deployment groups and deployments in the headwater database.

Each is one JSON document (the API's own shape, camelCase) in one table keyed by kind:
the service reads and writes whole documents, as SSM does its parameters.
"""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE codedeploy_documents (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, kind, name)
    )
    """,
]

#: Document kinds: an application (name), a deployment group ("application/group"), a
#: deployment (its id), and a marker per deployment in progress (its id), so the stepper
#: reads those, not every deployment ever made.
APPLICATION = "application"
GROUP = "group"
DEPLOYMENT = "deployment"
ACTIVE = "active"


class CodeDeployStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("codedeploy", _MIGRATIONS)

    def get(
        self, account: str, region: str, kind: str, name: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        """One document; ``for_update`` (inside a transaction) holds its row until the end."""
        lock = self.db.dialect.for_update if for_update else ""
        row = self.db.conn.execute(
            "SELECT body FROM codedeploy_documents "
            "WHERE account = ? AND region = ? AND kind = ? AND name = ?" + lock,
            (account, region, kind, name),
        ).fetchone()
        found: dict[str, Any] | None = orjson.loads(row[0]) if row else None
        return found

    def put(self, account: str, region: str, kind: str, name: str, body: dict[str, Any]) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO codedeploy_documents(account, region, kind, name, body) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, region, kind, name) "
                "DO UPDATE SET body = excluded.body",
                (account, region, kind, name, orjson.dumps(body)),
            )

    def delete(self, account: str, region: str, kind: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM codedeploy_documents "
                "WHERE account = ? AND region = ? AND kind = ? AND name = ?",
                (account, region, kind, name),
            )
            return cursor.rowcount > 0

    def all(self, account: str, region: str, kind: str) -> list[dict[str, Any]]:
        rows = self.db.conn.execute(
            "SELECT body FROM codedeploy_documents "
            "WHERE account = ? AND region = ? AND kind = ? ORDER BY name",
            (account, region, kind),
        ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def names(self, account: str, region: str, kind: str) -> list[str]:
        rows = self.db.conn.execute(
            "SELECT name FROM codedeploy_documents "
            "WHERE account = ? AND region = ? AND kind = ? ORDER BY name",
            (account, region, kind),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def everywhere(self, kind: str) -> list[tuple[str, str, str]]:
        """(account, region, name) of every document of ``kind`` (the stepper's sweep)."""
        rows = self.db.conn.execute(
            "SELECT account, region, name FROM codedeploy_documents WHERE kind = ?", (kind,)
        ).fetchall()
        return [(str(row[0]), str(row[1]), str(row[2])) for row in rows]
