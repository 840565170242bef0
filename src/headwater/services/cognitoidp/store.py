"""Cognito user pools in the headwater database (one SQL class for every backend).

Every object of a pool is one row with a JSON body, found by its pool, its kind and its
name: the pool itself (kind ``pool``, name ``""``), its app clients (by client id), users
(by username), groups (by group name), sign-in sessions (``session``, by the origin_jti
every token of one sign-in carries: a row while its refresh token is good) and pending
challenges (``challenge``). Sessions and challenges keep their end in the ``expires``
column, so a sweep drops them without reading every body.
"""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE cognito_idp_objects (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        pool_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        expires REAL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, pool_id, kind, name)
    )
    """,
]

POOL = "pool"
CLIENT = "client"
USER = "user"
GROUP = "group"
SESSION = "session"
CHALLENGE = "challenge"
#: Kinds that end on the clock (their body's ``expires``): swept by ``purge_expired``.
EXPIRING = frozenset({SESSION, CHALLENGE})


class UserPoolStore:
    """Pool objects as JSON bodies; ``for_update`` reads lock the row inside a transaction."""

    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("cognito-idp", _MIGRATIONS)

    def get(
        self,
        where: tuple[str, str, str],
        kind: str,
        name: str,
        *,
        for_update: bool = False,
    ) -> dict[str, Any] | None:
        """The ``kind`` object ``name`` of pool ``where`` (account, region, pool id)."""
        lock = self.db.dialect.for_update if for_update else ""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body FROM cognito_idp_objects WHERE account = ? AND region = ? "
                "AND pool_id = ? AND kind = ? AND name = ?" + lock,
                (*where, kind, name),
            ).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def put(self, where: tuple[str, str, str], kind: str, name: str, body: dict[str, Any]) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO cognito_idp_objects"
                "(account, region, pool_id, kind, name, expires, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, pool_id, kind, name) "
                "DO UPDATE SET expires = excluded.expires, body = excluded.body",
                (
                    *where,
                    kind,
                    name,
                    body.get("expires") if kind in EXPIRING else None,
                    orjson.dumps(body),
                ),
            )

    def delete(self, where: tuple[str, str, str], kind: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM cognito_idp_objects WHERE account = ? AND region = ? "
                "AND pool_id = ? AND kind = ? AND name = ?",
                (*where, kind, name),
            )
            return cursor.rowcount > 0

    def purge_expired(self, now: float) -> int:
        """Delete, in every pool, the sessions and challenges that ended by ``now``."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM cognito_idp_objects WHERE expires IS NOT NULL AND expires <= ?",
                (now,),
            )
            return cursor.rowcount

    def delete_pool(self, where: tuple[str, str, str]) -> None:
        """The pool and everything in it."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM cognito_idp_objects WHERE account = ? AND region = ? AND pool_id = ?",
                where,
            )

    def all(self, where: tuple[str, str, str], kind: str) -> list[dict[str, Any]]:
        """Every ``kind`` object of the pool, by name."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM cognito_idp_objects WHERE account = ? AND region = ? "
                "AND pool_id = ? AND kind = ? ORDER BY name",
                (*where, kind),
            ).fetchall()
        return [dict(orjson.loads(row[0])) for row in rows]

    def pools(self, account: str, region: str) -> list[dict[str, Any]]:
        """Every pool of the account and region, by id."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM cognito_idp_objects WHERE account = ? AND region = ? "
                "AND kind = ? ORDER BY pool_id",
                (account, region, POOL),
            ).fetchall()
        return [dict(orjson.loads(row[0])) for row in rows]

    def pool_anywhere(self, pool_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """The pool ``pool_id`` in whichever account holds it (an unsigned call, or a token
        to verify, names no account): its account, region and body."""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT account, region, body FROM cognito_idp_objects "
                "WHERE pool_id = ? AND kind = ? AND name = ''",
                (pool_id, POOL),
            ).fetchone()
        return None if row is None else (row[0], row[1], dict(orjson.loads(row[2])))

    def client_anywhere(self, client_id: str) -> tuple[str, str, str, dict[str, Any]] | None:
        """The app client ``client_id`` (InitiateAuth and SignUp name only the client):
        its account, region, pool id and body."""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT account, region, pool_id, body FROM cognito_idp_objects "
                "WHERE kind = ? AND name = ?",
                (CLIENT, client_id),
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2], dict(orjson.loads(row[3])))
