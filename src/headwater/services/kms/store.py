"""KMS keys and aliases in the headwater database (one SQL class for every backend).

A key is one row: its metadata, policy, tags, rotation settings and key material in a JSON
body. The material is kept as it is, unprotected: headwater is a test tool and its
database is no key store. ``deletion_date`` has a column of its own so the sweeper finds
the keys whose waiting period has ended without reading every body.
"""

from __future__ import annotations

from typing import Any

from headwater.store.database import Database
from headwater.store.documents import DocumentTable

_MIGRATIONS = [
    """
    CREATE TABLE kms_keys (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        key_id TEXT NOT NULL,
        deletion_date REAL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, key_id)
    )
    """,
    """
    CREATE TABLE kms_aliases (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    )
    """,
]


class KeyStore:
    """Rows of keys (JSON bodies) and of aliases."""

    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("kms", _MIGRATIONS)
        self._keys = DocumentTable(
            database,
            "kms_keys",
            ("account", "region", "key_id"),
            {"deletion_date": lambda key: key.get("DeletionDate")},
        )

    def get(
        self, account: str, region: str, key_id: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        """The key ``key_id``; ``for_update`` (inside a transaction) locks its row until the
        transaction ends."""
        return self._keys.get((account, region, key_id), for_update=for_update)

    def put(self, account: str, region: str, key: dict[str, Any]) -> None:
        self._keys.put((account, region, key["KeyId"]), key)

    def all(self, account: str, region: str) -> list[dict[str, Any]]:
        return self._keys.all((account, region))

    def purge_deleted(self, now: float) -> int:
        """Delete, in every account and region, the keys whose waiting period ended by
        ``now`` and the aliases naming them; answers how many keys went."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM kms_aliases WHERE EXISTS (SELECT 1 FROM kms_keys k "
                "WHERE k.account = kms_aliases.account AND k.region = kms_aliases.region "
                "AND k.key_id = kms_aliases.key_id "
                "AND k.deletion_date IS NOT NULL AND k.deletion_date <= ?)",
                (now,),
            )
            cursor = self.db.conn.execute(
                "DELETE FROM kms_keys WHERE deletion_date IS NOT NULL AND deletion_date <= ?",
                (now,),
            )
            return cursor.rowcount

    # -- aliases ---------------------------------------------------------------------------

    def alias(self, account: str, region: str, name: str) -> tuple[str, float, float] | None:
        """(key id, created, updated) of alias ``name``."""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT key_id, created, updated FROM kms_aliases "
                "WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            ).fetchone()
        return (str(row[0]), float(row[1]), float(row[2])) if row else None

    def add_alias(self, account: str, region: str, name: str, key_id: str, now: float) -> bool:
        """Add an alias; answers False (and changes nothing) when the name is taken."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "INSERT INTO kms_aliases(account, region, name, key_id, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING",
                (account, region, name, key_id, now, now),
            )
            return cursor.rowcount > 0

    def point_alias(self, account: str, region: str, name: str, key_id: str, now: float) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE kms_aliases SET key_id = ?, updated = ? "
                "WHERE account = ? AND region = ? AND name = ?",
                (key_id, now, account, region, name),
            )
            return cursor.rowcount > 0

    def delete_alias(self, account: str, region: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM kms_aliases WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )
            return cursor.rowcount > 0

    def aliases(self, account: str, region: str) -> list[tuple[str, str, float, float]]:
        """(name, key id, created, updated) of every alias, by name."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT name, key_id, created, updated FROM kms_aliases "
                "WHERE account = ? AND region = ? ORDER BY name",
                (account, region),
            ).fetchall()
        return [(str(r[0]), str(r[1]), float(r[2]), float(r[3])) for r in rows]
