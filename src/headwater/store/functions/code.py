"""Function code in the shared database, so every engine node can run every function.

A function's code is a zip archive, keyed by its ``CodeSha256``: stored once when the
function is created or updated, unpacked by each node into its own data directory the
first time it needs it (``FunctionRecord.code_dir`` is a path on the node that made it).
"""

from __future__ import annotations

from headwater.store.database import Database

MIGRATIONS = [
    """
    CREATE TABLE lambda_code (
        sha256 TEXT PRIMARY KEY,
        data BLOB NOT NULL
    )
    """,
]


class FunctionCodeStore:
    """Zip archives by SHA-256 (content-addressed: written once, never changed)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("function_code", MIGRATIONS)

    def put(self, sha256: str, data: bytes) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO lambda_code (sha256, data) VALUES (?, ?)"
                " ON CONFLICT (sha256) DO NOTHING",
                (sha256, data),
            )

    def get(self, sha256: str) -> bytes | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT data FROM lambda_code WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return None if row is None else bytes(row[0])
