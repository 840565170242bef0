"""Secrets Manager secrets in the headwater database (one SQL class for every backend).

A secret is one row: its settings, tags and every version (value and staging labels) in a
JSON body, as SSM's parameters are kept. ``deletion_date`` is a column of its own so the
sweeper finds the secrets whose recovery window has passed without reading every body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from headwater.store.database import Database
from headwater.store.documents import DocumentTable

_MIGRATIONS = [
    """
    CREATE TABLE secretsmanager_secrets (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        deletion_date REAL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    )
    """,
]


@dataclass(slots=True)
class SecretVersion:
    version_id: str
    created: float
    #: Exactly one of the two is set: the value as given (there is no KMS here).
    secret_string: str | None = None
    #: SecretBinary, base64-encoded for the JSON body.
    secret_binary: str | None = None
    stages: list[str] = field(default_factory=list)
    #: The day (epoch seconds at 00:00 UTC) the version was last read, as AWS keeps it.
    last_accessed: float | None = None


@dataclass(slots=True)
class SecretRecord:
    name: str
    arn: str
    created: float
    last_changed: float
    description: str | None = None
    kms_key_id: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    #: Oldest first; versions without a staging label are dropped as AWS drops them.
    versions: list[SecretVersion] = field(default_factory=list)
    #: When the secret is deleted for good (None: not scheduled for deletion).
    deletion_date: float | None = None
    #: When DeleteSecret was called (DescribeSecret's DeletedDate).
    deleted_date: float | None = None
    last_accessed: float | None = None
    resource_policy: str | None = None
    rotation_enabled: bool = False
    rotation_lambda_arn: str | None = None
    rotation_rules: dict[str, Any] | None = None
    last_rotated: float | None = None

    def version_with_stage(self, stage: str) -> SecretVersion | None:
        return next((v for v in self.versions if stage in v.stages), None)

    def version_with_id(self, version_id: str) -> SecretVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)


def _decode(data: dict[str, Any]) -> SecretRecord:
    data["versions"] = [SecretVersion(**version) for version in data["versions"]]
    return SecretRecord(**data)


class SecretStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("secretsmanager", _MIGRATIONS)
        self._documents = DocumentTable(
            database,
            "secretsmanager_secrets",
            ("account", "region", "name"),
            {"deletion_date": lambda body: body["deletion_date"]},
        )

    def get(
        self, account: str, region: str, name: str, *, for_update: bool = False
    ) -> SecretRecord | None:
        """The secret ``name``; ``for_update`` (inside a transaction) locks its row until
        the transaction ends."""
        body = self._documents.get((account, region, name), for_update=for_update)
        return None if body is None else _decode(body)

    def put(self, account: str, region: str, record: SecretRecord) -> None:
        self._documents.put((account, region, record.name), asdict(record))

    def delete(self, account: str, region: str, name: str) -> bool:
        return self._documents.delete((account, region, name))

    def all(self, account: str, region: str) -> list[SecretRecord]:
        return [_decode(body) for body in self._documents.all((account, region))]

    def purge_deleted(self, now: float) -> int:
        """Delete, in every account and region, the secrets whose recovery window ended by
        ``now``; answers how many went."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM secretsmanager_secrets "
                "WHERE deletion_date IS NOT NULL AND deletion_date <= ?",
                (now,),
            )
            return cursor.rowcount
