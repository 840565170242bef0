"""API Gateway APIs in the headwater database: one row per API holding its whole
definition (an HTTP API's routes, integrations, stages and deployments; a REST API's
resources, methods, stages and deployments), so every change to an API is one write and a
request being served reads one row. One SQL class for memory, SQLite and PostgreSQL
(``Database`` translates the dialect); HTTP APIs and REST APIs each have their table."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.database import Database


def _migrations(table: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {table} (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            api_id TEXT NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY (account, region, api_id)
        )
        """,
    ]


#: A stored API: ``Api`` (GetApi's members), ``Routes``/``Integrations``/``Deployments``
#: by id, ``Stages`` by name; dates as epoch seconds.
ApiDocument = dict[str, Any]


class ApiDocumentStore:
    """The stored APIs of one kind: ``component`` names its schema, ``table`` its rows."""

    #: Schema component and table of the kind (a subclass says).
    component = "apigatewayv2"
    table = "apigatewayv2_apis"

    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate(self.component, _migrations(self.table))

    def get(self, account: str, region: str, api_id: str) -> ApiDocument | None:
        row = self.db.conn.execute(
            f"SELECT body FROM {self.table} WHERE account = ? AND region = ? AND api_id = ?",
            (account, region, api_id),
        ).fetchone()
        return dict(orjson.loads(row[0])) if row else None

    def find(self, api_id: str) -> tuple[str, ApiDocument] | None:
        """The API ``api_id`` in whatever region, with its region (serving by host name)."""
        row = self.db.conn.execute(
            f"SELECT region, body FROM {self.table} WHERE api_id = ?", (api_id,)
        ).fetchone()
        return (str(row[0]), dict(orjson.loads(row[1]))) if row else None

    def put(self, account: str, region: str, api_id: str, document: ApiDocument) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                f"INSERT INTO {self.table}(account, region, api_id, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account, region, api_id) DO UPDATE SET body = excluded.body",
                (account, region, api_id, orjson.dumps(document)),
            )

    def delete(self, account: str, region: str, api_id: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                f"DELETE FROM {self.table} WHERE account = ? AND region = ? AND api_id = ?",
                (account, region, api_id),
            )
            return cursor.rowcount > 0

    def all(self, account: str, region: str) -> list[ApiDocument]:
        rows = self.db.conn.execute(
            f"SELECT body FROM {self.table} WHERE account = ? AND region = ? ORDER BY api_id",
            (account, region),
        ).fetchall()
        return [dict(orjson.loads(row[0])) for row in rows]


class HttpApiStore(ApiDocumentStore):
    """HTTP APIs (apigatewayv2)."""


class RestApiStore(ApiDocumentStore):
    """REST APIs (apigateway)."""

    component = "apigateway"
    table = "apigateway_rest_apis"
