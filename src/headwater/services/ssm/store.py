"""SSM parameters in the headwater database (one SQL class for memory and SQLite)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from headwater.store.database import Database
from headwater.store.documents import DocumentTable, document_table_sql

_KEY = ("account", "region", "name")
_MIGRATIONS = [document_table_sql("ssm_parameters", _KEY)]


@dataclass(slots=True)
class ParameterVersion:
    version: int
    value: str
    type: str
    modified: float
    description: str = ""
    allowed_pattern: str | None = None
    data_type: str = "text"
    tier: str = "Standard"
    key_id: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParameterRecord:
    name: str
    #: Every version, oldest first (AWS keeps the last 100).
    versions: list[ParameterVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def latest(self) -> ParameterVersion:
        return self.versions[-1]


def _decode(data: dict[str, Any]) -> ParameterRecord:
    return ParameterRecord(
        name=data["name"],
        versions=[ParameterVersion(**version) for version in data["versions"]],
        tags=data["tags"],
    )


class ParameterStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("ssm", _MIGRATIONS)
        self._documents = DocumentTable(database, "ssm_parameters", _KEY)

    def get(
        self, account: str, region: str, name: str, *, for_update: bool = False
    ) -> ParameterRecord | None:
        """The parameter ``name``; ``for_update`` (inside a transaction) locks its row until
        the transaction ends (PostgreSQL: SQLite's transaction holds the write lock)."""
        body = self._documents.get((account, region, name), for_update=for_update)
        return None if body is None else _decode(body)

    def put(self, account: str, region: str, record: ParameterRecord) -> None:
        self._documents.put((account, region, record.name), asdict(record))

    def delete(self, account: str, region: str, name: str) -> bool:
        return self._documents.delete((account, region, name))

    def all(self, account: str, region: str) -> list[ParameterRecord]:
        return [_decode(body) for body in self._documents.all((account, region))]
