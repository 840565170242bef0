"""IAM and STS storage: entities, policies, attachments, access keys and STS sessions.

One portable-SQL class over ``db.conn`` (runs on the memory and SQLite databases, and on
PostgreSQL through the ``scaleout`` backend). IAM is global: rows are keyed by account,
never by region. IAM names are not distinguished by case (AWS refuses ``Admin`` beside
``admin``), so entities are keyed by the lower-cased name and keep the name as given.

Callers group several calls of one operation in ``db.transaction()``; every method also
opens (or joins) one, so each is atomic on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from headwater.store.sql_store import SqlStore

if TYPE_CHECKING:
    from headwater.store.database import Database

_SCHEMA = """
CREATE TABLE iam_entities (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    path TEXT NOT NULL,
    created REAL NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (account, kind, name_key)
);
CREATE TABLE iam_inline_policies (
    account TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, policy_name)
);
CREATE TABLE iam_attachments (
    account TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (account, owner_kind, owner_key, policy_arn)
);
CREATE TABLE iam_policy_versions (
    account TEXT NOT NULL,
    policy_key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    document TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (account, policy_key, version_id)
);
CREATE TABLE iam_links (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_key TEXT NOT NULL,
    child_key TEXT NOT NULL,
    PRIMARY KEY (account, kind, parent_key, child_key)
);
CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    user_key TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    expires REAL NOT NULL,
    body BLOB NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Entity:
    """A role, user, group, managed policy or instance profile.

    ``body`` holds the kind's own settings as AWS names them (``AssumeRolePolicyDocument``,
    ``Description``, ``MaxSessionDuration``, ``Tags``, ``DefaultVersionId``...).
    """

    kind: str
    name: str
    entity_id: str
    path: str
    created: float
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name.lower()

    def with_body(self, **changes: Any) -> Entity:
        return replace(self, body={**self.body, **changes})


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    user_key: str
    secret: str
    status: str
    created: float


#: The secret and session token of temporary credentials, kept so that
#: ``headwater serve --verify-signatures`` can check requests signed with them (sessions
#: stored before these columns existed have neither, and are refused when verifying).
_SESSION_SECRETS = (
    "ALTER TABLE sts_sessions ADD COLUMN secret TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE sts_sessions ADD COLUMN token TEXT NOT NULL DEFAULT ''",
)


@dataclass(frozen=True, slots=True)
class Session:
    """Temporary credentials from STS; ``body`` says whose they are (``Arn``, ``UserId``,
    session tags); ``secret`` and ``token`` are the SecretAccessKey and SessionToken
    issued with the access key id."""

    access_key_id: str
    account: str
    expires: float
    body: dict[str, Any]
    secret: str = ""
    token: str = ""


class IamStore(SqlStore):
    """Persistence for IAM entities and STS sessions."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, "iam", [_SCHEMA, *_SESSION_SECRETS])

    # -- entities -------------------------------------------------------------------------

    def get(self, account: str, kind: str, name: str) -> Entity | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT kind, name, entity_id, path, created, body FROM iam_entities"
                " WHERE account = ? AND kind = ? AND name_key = ?",
                (account, kind, name.lower()),
            ).fetchone()
        return _entity(row) if row else None

    def insert(self, account: str, entity: Entity) -> bool:
        """Store a new entity; ``False`` (nothing stored) if the name is taken."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO iam_entities(account, kind, name_key, name, entity_id, path,"
                " created, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account, kind, name_key) DO NOTHING",
                (
                    account,
                    entity.kind,
                    entity.key,
                    entity.name,
                    entity.entity_id,
                    entity.path,
                    entity.created,
                    orjson.dumps(entity.body),
                ),
            )
            return cursor.rowcount > 0

    def replace(self, account: str, entity: Entity) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE iam_entities SET name = ?, path = ?, body = ?"
                " WHERE account = ? AND kind = ? AND name_key = ?",
                (
                    entity.name,
                    entity.path,
                    orjson.dumps(entity.body),
                    account,
                    entity.kind,
                    entity.key,
                ),
            )

    def delete(self, account: str, kind: str, name: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?",
                (account, kind, name.lower()),
            )
            return cursor.rowcount > 0

    def entities(self, account: str, kind: str, path_prefix: str = "/") -> list[Entity]:
        """Entities of ``kind`` whose path starts with ``path_prefix``, by name."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT kind, name, entity_id, path, created, body FROM iam_entities"
                " WHERE account = ? AND kind = ? ORDER BY name_key",
                (account, kind),
            ).fetchall()
        return [e for e in map(_entity, rows) if e.path.startswith(path_prefix)]

    # -- inline policies ------------------------------------------------------------------

    def put_inline(self, account: str, owner: Entity, name: str, document: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO iam_inline_policies(account, owner_kind, owner_key, policy_name,"
                " document) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, owner_kind, owner_key,"
                " policy_name) DO UPDATE SET document = excluded.document",
                (account, owner.kind, owner.key, name, document),
            )

    def get_inline(self, account: str, owner: Entity, name: str) -> str | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT document FROM iam_inline_policies WHERE account = ? AND owner_kind = ?"
                " AND owner_key = ? AND policy_name = ?",
                (account, owner.kind, owner.key, name),
            ).fetchone()
        return str(row[0]) if row else None

    def delete_inline(self, account: str, owner: Entity, name: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_inline_policies WHERE account = ? AND owner_kind = ?"
                " AND owner_key = ? AND policy_name = ?",
                (account, owner.kind, owner.key, name),
            )
            return cursor.rowcount > 0

    def list_inline(self, account: str, owner: Entity) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT policy_name FROM iam_inline_policies WHERE account = ?"
                " AND owner_kind = ? AND owner_key = ? ORDER BY policy_name",
                (account, owner.kind, owner.key),
            ).fetchall()
        return [str(row[0]) for row in rows]

    # -- managed policy attachments -------------------------------------------------------

    def attach(self, account: str, owner: Entity, policy_arn: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO iam_attachments(account, owner_kind, owner_key, policy_arn)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (account, owner_kind, owner_key, policy_arn)"
                " DO NOTHING",
                (account, owner.kind, owner.key, policy_arn),
            )

    def detach(self, account: str, owner: Entity, policy_arn: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_attachments WHERE account = ? AND owner_kind = ?"
                " AND owner_key = ? AND policy_arn = ?",
                (account, owner.kind, owner.key, policy_arn),
            )
            return cursor.rowcount > 0

    def attached(self, account: str, owner: Entity) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT policy_arn FROM iam_attachments WHERE account = ? AND owner_kind = ?"
                " AND owner_key = ? ORDER BY policy_arn",
                (account, owner.kind, owner.key),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def attachments_of(self, account: str, policy_arn: str) -> list[tuple[str, str]]:
        """(owner kind, owner key) of every entity the policy is attached to."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT owner_kind, owner_key FROM iam_attachments WHERE account = ?"
                " AND policy_arn = ? ORDER BY owner_kind, owner_key",
                (account, policy_arn),
            ).fetchall()
        return [(str(kind), str(key)) for kind, key in rows]

    # -- managed policy versions ----------------------------------------------------------

    def put_version(
        self, account: str, policy_key: str, version_id: str, document: str, created: float
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO iam_policy_versions(account, policy_key, version_id, document,"
                " created) VALUES (?, ?, ?, ?, ?)",
                (account, policy_key, version_id, document, created),
            )

    def versions(self, account: str, policy_key: str) -> list[tuple[str, str, float]]:
        """(version id, document, created) of a policy, newest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT version_id, document, created FROM iam_policy_versions"
                " WHERE account = ? AND policy_key = ?",
                (account, policy_key),
            ).fetchall()
        found = [(str(v), str(d), float(c)) for v, d, c in rows]
        return sorted(found, key=lambda item: int(item[0].lstrip("v")), reverse=True)

    def delete_version(self, account: str, policy_key: str, version_id: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_policy_versions WHERE account = ? AND policy_key = ?"
                " AND version_id = ?",
                (account, policy_key, version_id),
            )
            return cursor.rowcount > 0

    def delete_versions(self, account: str, policy_key: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM iam_policy_versions WHERE account = ? AND policy_key = ?",
                (account, policy_key),
            )

    # -- links: group members, instance profile roles -------------------------------------

    def link(self, account: str, kind: str, parent_key: str, child_key: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO iam_links(account, kind, parent_key, child_key) VALUES"
                " (?, ?, ?, ?) ON CONFLICT (account, kind, parent_key, child_key) DO NOTHING",
                (account, kind, parent_key, child_key),
            )
            return cursor.rowcount > 0

    def unlink(self, account: str, kind: str, parent_key: str, child_key: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_links WHERE account = ? AND kind = ? AND parent_key = ?"
                " AND child_key = ?",
                (account, kind, parent_key, child_key),
            )
            return cursor.rowcount > 0

    def children(self, account: str, kind: str, parent_key: str) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT child_key FROM iam_links WHERE account = ? AND kind = ?"
                " AND parent_key = ? ORDER BY child_key",
                (account, kind, parent_key),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def parents(self, account: str, kind: str, child_key: str) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT parent_key FROM iam_links WHERE account = ? AND kind = ?"
                " AND child_key = ? ORDER BY parent_key",
                (account, kind, child_key),
            ).fetchall()
        return [str(row[0]) for row in rows]

    # -- access keys ----------------------------------------------------------------------

    def add_access_key(self, account: str, key: AccessKey) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO iam_access_keys(access_key_id, account, user_key, secret, status,"
                " created) VALUES (?, ?, ?, ?, ?, ?)",
                (key.access_key_id, account, key.user_key, key.secret, key.status, key.created),
            )

    def access_keys(self, account: str, user_key: str) -> list[AccessKey]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT access_key_id, user_key, secret, status, created FROM iam_access_keys"
                " WHERE account = ? AND user_key = ? ORDER BY created, access_key_id",
                (account, user_key),
            ).fetchall()
        return [AccessKey(*row) for row in rows]

    def access_key(self, access_key_id: str) -> tuple[str, AccessKey] | None:
        """(account, key) of an access key id, from any account."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT account, access_key_id, user_key, secret, status, created"
                " FROM iam_access_keys WHERE access_key_id = ?",
                (access_key_id,),
            ).fetchone()
        return (str(row[0]), AccessKey(*row[1:])) if row else None

    def set_access_key_status(self, account: str, access_key_id: str, status: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE iam_access_keys SET status = ? WHERE account = ? AND access_key_id = ?",
                (status, account, access_key_id),
            )
            return cursor.rowcount > 0

    def delete_access_key(self, account: str, access_key_id: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM iam_access_keys WHERE account = ? AND access_key_id = ?",
                (account, access_key_id),
            )
            return cursor.rowcount > 0

    # -- STS sessions ---------------------------------------------------------------------

    def add_session(self, session: Session) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO sts_sessions(access_key_id, account, expires, body, secret, token)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.access_key_id,
                    session.account,
                    session.expires,
                    orjson.dumps(session.body),
                    session.secret,
                    session.token,
                ),
            )

    def session(self, access_key_id: str) -> Session | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT access_key_id, account, expires, body, secret, token FROM sts_sessions"
                " WHERE access_key_id = ?",
                (access_key_id,),
            ).fetchone()
        if row is None:
            return None
        return Session(
            str(row[0]),
            str(row[1]),
            float(row[2]),
            orjson.loads(row[3]),
            str(row[4]),
            str(row[5]),
        )

    def expire_sessions(self, now: float) -> int:
        """Forget sessions whose credentials expired before ``now``."""
        with self.transaction() as conn:
            cursor = conn.execute("DELETE FROM sts_sessions WHERE expires < ?", (now,))
            return cursor.rowcount


def _entity(row: tuple[Any, ...]) -> Entity:
    return Entity(
        kind=str(row[0]),
        name=str(row[1]),
        entity_id=str(row[2]),
        path=str(row[3]),
        created=float(row[4]),
        body=orjson.loads(row[5]),
    )
