"""Lambda's resources beside functions: published versions, aliases, resource policies,
layer versions and per-function settings (provisioned concurrency, runtime management...).

One portable-SQL class over ``db.conn`` (memory, SQLite, and PostgreSQL through the
``scaleout`` backend). Rows are regional, like functions: keyed by (region, function name).
Version and layer numbers come from counter rows, so a number is never reused while the
function (or layer) exists, as on AWS. Bodies are AWS-shaped JSON.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from headwater.store.functions import FunctionRecord
from headwater.store.sql_store import SqlStore

if TYPE_CHECKING:
    from headwater.store.database import Database

_SCHEMA = """
CREATE TABLE lambda_versions (
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (region, function_name, version)
);
CREATE TABLE lambda_counters (
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (region, kind, name)
);
CREATE TABLE lambda_aliases (
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    alias_name TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (region, function_name, alias_name)
);
CREATE TABLE lambda_function_settings (
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (region, function_name, qualifier, kind)
);
CREATE TABLE lambda_layer_versions (
    region TEXT NOT NULL,
    layer_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (region, layer_name, version)
)
"""


def record_to_json(record: FunctionRecord) -> bytes:
    return orjson.dumps(dataclasses.asdict(record))


def record_from_json(data: bytes | str) -> FunctionRecord:
    return FunctionRecord(**orjson.loads(data))


class LambdaResourceStore(SqlStore):
    """Persistence for versions, aliases, policies, settings and layers."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, "lambda_resources", [_SCHEMA])

    # -- counters -------------------------------------------------------------------------

    def next_number(self, region: str, kind: str, name: str) -> int:
        """The next version number of a function (``kind="function"``) or layer."""
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO lambda_counters(region, kind, name, last_number) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (region, kind, name) DO UPDATE SET"
                " last_number = lambda_counters.last_number + 1 RETURNING last_number",
                (region, kind, name),
            ).fetchone()
        return int(row[0])

    def reset_numbers(self, region: str, kind: str, name: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM lambda_counters WHERE region = ? AND kind = ? AND name = ?",
                (region, kind, name),
            )

    # -- versions -------------------------------------------------------------------------

    def add_version(self, version: int, record: FunctionRecord) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO lambda_versions(region, function_name, version, record)"
                " VALUES (?, ?, ?, ?)",
                (record.region, record.name, version, record_to_json(record)),
            )

    def version(self, region: str, function_name: str, version: int) -> FunctionRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT record FROM lambda_versions WHERE region = ? AND function_name = ?"
                " AND version = ?",
                (region, function_name, version),
            ).fetchone()
        return record_from_json(row[0]) if row else None

    def versions(self, region: str, function_name: str) -> list[tuple[int, FunctionRecord]]:
        """Published versions, oldest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT version, record FROM lambda_versions WHERE region = ?"
                " AND function_name = ? ORDER BY version",
                (region, function_name),
            ).fetchall()
        return [(int(number), record_from_json(data)) for number, data in rows]

    def latest_version(self, region: str, function_name: str) -> tuple[int, FunctionRecord] | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT version, record FROM lambda_versions WHERE region = ?"
                " AND function_name = ? ORDER BY version DESC LIMIT 1",
                (region, function_name),
            ).fetchone()
        return (int(row[0]), record_from_json(row[1])) if row else None

    def delete_version(self, region: str, function_name: str, version: int) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM lambda_versions WHERE region = ? AND function_name = ?"
                " AND version = ?",
                (region, function_name, version),
            )
            conn.execute(
                "DELETE FROM lambda_function_settings WHERE region = ? AND function_name = ?"
                " AND qualifier = ?",
                (region, function_name, str(version)),
            )
            return cursor.rowcount > 0

    # -- aliases --------------------------------------------------------------------------

    def put_alias(
        self, region: str, function_name: str, name: str, body: dict[str, Any], *, create: bool
    ) -> bool:
        """Store an alias; with ``create``, ``False`` if it exists (nothing changed)."""
        with self.transaction() as conn:
            data = orjson.dumps(body)
            if create:
                cursor = conn.execute(
                    "INSERT INTO lambda_aliases(region, function_name, alias_name, body)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (region, function_name, alias_name)"
                    " DO NOTHING",
                    (region, function_name, name, data),
                )
            else:
                cursor = conn.execute(
                    "UPDATE lambda_aliases SET body = ? WHERE region = ? AND function_name = ?"
                    " AND alias_name = ?",
                    (data, region, function_name, name),
                )
            return cursor.rowcount > 0

    def alias(self, region: str, function_name: str, name: str) -> dict[str, Any] | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT body FROM lambda_aliases WHERE region = ? AND function_name = ?"
                " AND alias_name = ?",
                (region, function_name, name),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def aliases(self, region: str, function_name: str) -> list[dict[str, Any]]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT body FROM lambda_aliases WHERE region = ? AND function_name = ?"
                " ORDER BY alias_name",
                (region, function_name),
            ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_alias(self, region: str, function_name: str, name: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM lambda_aliases WHERE region = ? AND function_name = ?"
                " AND alias_name = ?",
                (region, function_name, name),
            )
            conn.execute(
                "DELETE FROM lambda_function_settings WHERE region = ? AND function_name = ?"
                " AND qualifier = ?",
                (region, function_name, name),
            )
            return cursor.rowcount > 0

    # -- per-function settings (policies, provisioned concurrency, ...) -------------------

    def put_setting(
        self, region: str, function_name: str, qualifier: str, kind: str, body: dict[str, Any]
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO lambda_function_settings(region, function_name, qualifier, kind,"
                " body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (region, function_name, qualifier,"
                " kind) DO UPDATE SET body = excluded.body",
                (region, function_name, qualifier, kind, orjson.dumps(body)),
            )

    def setting(
        self, region: str, function_name: str, qualifier: str, kind: str
    ) -> dict[str, Any] | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT body FROM lambda_function_settings WHERE region = ? AND function_name = ?"
                " AND qualifier = ? AND kind = ?",
                (region, function_name, qualifier, kind),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def settings(self, region: str, function_name: str, kind: str) -> list[tuple[str, Any]]:
        """(qualifier, body) of every setting of ``kind`` of a function."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT qualifier, body FROM lambda_function_settings WHERE region = ?"
                " AND function_name = ? AND kind = ? ORDER BY qualifier",
                (region, function_name, kind),
            ).fetchall()
        return [(str(q), orjson.loads(body)) for q, body in rows]

    def settings_of_kind(self, kind: str) -> list[tuple[str, str, str, Any]]:
        """(region, function name, qualifier, body) of every setting of ``kind``, in every
        region (function URLs are found by their URL id, whatever function has them)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT region, function_name, qualifier, body FROM lambda_function_settings"
                " WHERE kind = ? ORDER BY region, function_name, qualifier",
                (kind,),
            ).fetchall()
        return [(str(r), str(n), str(q), orjson.loads(body)) for r, n, q, body in rows]

    def delete_setting(self, region: str, function_name: str, qualifier: str, kind: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM lambda_function_settings WHERE region = ? AND function_name = ?"
                " AND qualifier = ? AND kind = ?",
                (region, function_name, qualifier, kind),
            )
            return cursor.rowcount > 0

    def forget_function(self, region: str, function_name: str) -> None:
        """Remove every version, alias and setting of a deleted function."""
        with self.transaction() as conn:
            for table in ("lambda_versions", "lambda_aliases", "lambda_function_settings"):
                conn.execute(
                    f"DELETE FROM {table} WHERE region = ? AND function_name = ?",
                    (region, function_name),
                )
            conn.execute(
                "DELETE FROM lambda_counters WHERE region = ? AND kind = 'function' AND name = ?",
                (region, function_name),
            )

    # -- layers ---------------------------------------------------------------------------

    def add_layer_version(
        self, region: str, layer_name: str, version: int, body: dict[str, Any]
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO lambda_layer_versions(region, layer_name, version, body)"
                " VALUES (?, ?, ?, ?)",
                (region, layer_name, version, orjson.dumps(body)),
            )

    def replace_layer_version(
        self, region: str, layer_name: str, version: int, body: dict[str, Any]
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE lambda_layer_versions SET body = ? WHERE region = ? AND layer_name = ?"
                " AND version = ?",
                (orjson.dumps(body), region, layer_name, version),
            )

    def layer_version(self, region: str, layer_name: str, version: int) -> dict[str, Any] | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT body FROM lambda_layer_versions WHERE region = ? AND layer_name = ?"
                " AND version = ?",
                (region, layer_name, version),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def layer_versions(self, region: str, layer_name: str | None = None) -> list[dict[str, Any]]:
        """Layer versions of a region (or of one layer), newest first within a layer."""
        sql = "SELECT body FROM lambda_layer_versions WHERE region = ?"
        args: list[Any] = [region]
        if layer_name is not None:
            sql += " AND layer_name = ?"
            args.append(layer_name)
        sql += " ORDER BY layer_name, version DESC"
        with self._reading() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_layer_version(self, region: str, layer_name: str, version: int) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM lambda_layer_versions WHERE region = ? AND layer_name = ?"
                " AND version = ?",
                (region, layer_name, version),
            )
            return cursor.rowcount > 0
