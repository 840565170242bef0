"""CodeDeploy's applications, deployment groups and deployments in the headwater database.

Each is one JSON document (the API's own shape, camelCase) in one table keyed by kind:
the service reads and writes whole documents, as SSM does its parameters.
"""

from __future__ import annotations

from typing import Any

from headwater.store.database import Database
from headwater.store.documents import DocumentTable, document_table_sql

_TABLE = "codedeploy_documents"
_KEY = ("account", "region", "kind", "name")
_MIGRATIONS = [document_table_sql(_TABLE, _KEY)]

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
        self._documents = DocumentTable(database, _TABLE, _KEY)

    def get(
        self, account: str, region: str, kind: str, name: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        """One document; ``for_update`` (inside a transaction) holds its row until the end."""
        return self._documents.get((account, region, kind, name), for_update=for_update)

    def put(self, account: str, region: str, kind: str, name: str, body: dict[str, Any]) -> None:
        self._documents.put((account, region, kind, name), body)

    def delete(self, account: str, region: str, kind: str, name: str) -> bool:
        return self._documents.delete((account, region, kind, name))

    def all(self, account: str, region: str, kind: str) -> list[dict[str, Any]]:
        return self._documents.all((account, region, kind))

    def names(self, account: str, region: str, kind: str) -> list[str]:
        return [name for (name,) in self._documents.keys((account, region, kind))]

    def everywhere(self, kind: str) -> list[tuple[str, str, str]]:
        """(account, region, name) of every document of ``kind`` (the stepper's sweep)."""
        with self.db.read():
            rows = self.db.conn.execute(
                f"SELECT account, region, name FROM {_TABLE} WHERE kind = ?", (kind,)
            ).fetchall()
        return [(str(row[0]), str(row[1]), str(row[2])) for row in rows]
