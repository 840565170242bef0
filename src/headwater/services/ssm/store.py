"""SSM parameters in the headwater database (one SQL class for memory and SQLite)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE ssm_parameters (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    )
    """,
]


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


def _decode(body: bytes) -> ParameterRecord:
    data = orjson.loads(body)
    return ParameterRecord(
        name=data["name"],
        versions=[ParameterVersion(**version) for version in data["versions"]],
        tags=data["tags"],
    )


class ParameterStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("ssm", _MIGRATIONS)

    def get(
        self, account: str, region: str, name: str, *, for_update: bool = False
    ) -> ParameterRecord | None:
        """The parameter ``name``; ``for_update`` (inside a transaction) locks its row until
        the transaction ends (PostgreSQL: SQLite's transaction holds the write lock)."""
        lock = self.db.dialect.for_update if for_update else ""
        row = self.db.conn.execute(
            "SELECT body FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?" + lock,
            (account, region, name),
        ).fetchone()
        return _decode(row[0]) if row else None

    def put(self, account: str, region: str, record: ParameterRecord) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO ssm_parameters(account, region, name, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body",
                (account, region, record.name, orjson.dumps(asdict(record))),
            )

    def delete(self, account: str, region: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )
            return cursor.rowcount > 0

    def all(self, account: str, region: str) -> list[ParameterRecord]:
        rows = self.db.conn.execute(
            "SELECT body FROM ssm_parameters WHERE account = ? AND region = ? ORDER BY name",
            (account, region),
        ).fetchall()
        return [_decode(row[0]) for row in rows]
