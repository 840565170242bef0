"""API Gateway APIs in the headwater database: one row per API holding its whole
definition (an HTTP API's routes, integrations, stages and deployments; a REST API's
resources, methods, stages and deployments), so every change to an API is one write and a
request being served reads one row. One SQL class for memory, SQLite and PostgreSQL
(``Database`` translates the dialect); HTTP APIs and REST APIs each have their table."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.documents import DocumentTable, document_table_sql

_KEY = ("account", "region", "api_id")


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
        database.migrate(self.component, [document_table_sql(self.table, _KEY)])
        self._documents = DocumentTable(database, self.table, _KEY)

    def get(self, account: str, region: str, api_id: str) -> ApiDocument | None:
        return self._documents.get((account, region, api_id))

    def find(self, api_id: str) -> tuple[str, ApiDocument] | None:
        """The API ``api_id`` in whatever region, with its region (serving by host name)."""
        with self.db.read():
            row = self.db.conn.execute(
                f"SELECT region, body FROM {self.table} WHERE api_id = ?", (api_id,)
            ).fetchone()
        return (str(row[0]), dict(orjson.loads(row[1]))) if row else None

    def put(self, account: str, region: str, api_id: str, document: ApiDocument) -> None:
        self._documents.put((account, region, api_id), document)

    def delete(self, account: str, region: str, api_id: str) -> bool:
        return self._documents.delete((account, region, api_id))

    def all(self, account: str, region: str) -> list[ApiDocument]:
        return self._documents.all((account, region))


class HttpApiStore(ApiDocumentStore):
    """HTTP APIs (apigatewayv2)."""


class RestApiStore(ApiDocumentStore):
    """REST APIs (apigateway)."""

    component = "apigateway"
    table = "apigateway_rest_apis"
