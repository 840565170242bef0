"""The lease store: portable SQL, one class for every backend (see the package docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.store.database import Database

if TYPE_CHECKING:
    from headwater.store.leases import Lease, NodeRecord

MIGRATIONS = [
    """
    CREATE TABLE esm_nodes (
        node_id TEXT PRIMARY KEY,
        heartbeat_at REAL NOT NULL,
        started_at REAL NOT NULL
    );
    CREATE TABLE esm_leases (
        resource TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL,
        token INTEGER NOT NULL
    )
    """,
]

_LEASE_COLUMNS = "resource, owner, token, expires_at"


def _lease(row: Any) -> Lease:
    from headwater.store.leases import Lease

    return Lease(str(row[0]), str(row[1]), int(row[2]), float(row[3]))


class LeaseStore:
    """Nodes and their leases in the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("leases", MIGRATIONS)

    # -- nodes ----------------------------------------------------------------------------
    def heartbeat(self, node_id: str, now: float, started_at: float) -> None:
        """Record that ``node_id`` is alive at ``now``."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO esm_nodes (node_id, heartbeat_at, started_at) VALUES (?, ?, ?)"
                " ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                (node_id, now, started_at),
            )

    def live_nodes(self, now: float, ttl: float) -> list[NodeRecord]:
        """Nodes whose last heartbeat is younger than ``ttl``, oldest first (then by id)."""
        from headwater.store.leases import NodeRecord

        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT node_id, heartbeat_at, started_at FROM esm_nodes"
                " WHERE heartbeat_at > ? ORDER BY started_at, node_id",
                (now - ttl,),
            ).fetchall()
        return [NodeRecord(str(r[0]), float(r[1]), float(r[2])) for r in rows]

    def forget_node(self, node_id: str) -> None:
        """A node leaving for good: its row goes (its leases were released)."""
        with self.db.transaction():
            self.db.conn.execute("DELETE FROM esm_nodes WHERE node_id = ?", (node_id,))

    # -- leases ---------------------------------------------------------------------------
    def leases(self, prefix: str) -> list[Lease]:
        """Every lease whose resource starts with ``prefix`` (one mapping's shards)."""
        with self.db.read():
            rows = self.db.conn.execute(
                f"SELECT {_LEASE_COLUMNS} FROM esm_leases"
                " WHERE substr(resource, 1, ?) = ? ORDER BY resource",
                (len(prefix), prefix),
            ).fetchall()
        return [_lease(row) for row in rows]

    def acquire(self, resource: str, node_id: str, now: float, ttl: float) -> Lease | None:
        """Take ``resource`` if nobody holds it (new, released or expired); ``None`` if
        another node's lease is live. A new owner gets a new token."""
        with self.db.transaction():
            row = self.db.conn.execute(
                "INSERT INTO esm_leases (resource, owner, expires_at, token) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (resource) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at, token = esm_leases.token + 1"
                " WHERE esm_leases.expires_at <= ? OR esm_leases.owner = ''"
                f" RETURNING {_LEASE_COLUMNS}",
                (resource, node_id, now + ttl, now),
            ).fetchone()
        return None if row is None else _lease(row)

    def steal(self, lease: Lease, node_id: str, now: float, ttl: float) -> Lease | None:
        """Take a live lease from its owner (rebalancing); ``None`` if it changed meanwhile.

        The old owner finds out at its next renewal, and its fenced writes fail from now on.
        """
        with self.db.transaction():
            row = self.db.conn.execute(
                "UPDATE esm_leases SET owner = ?, expires_at = ?, token = token + 1"
                f" WHERE resource = ? AND owner = ? AND token = ? RETURNING {_LEASE_COLUMNS}",
                (node_id, now + ttl, lease.resource, lease.owner, lease.token),
            ).fetchone()
        return None if row is None else _lease(row)

    def renew(self, leases: list[Lease], now: float, ttl: float) -> tuple[list[Lease], list[Lease]]:
        """Extend held leases: ``(renewed, lost)`` (lost: expired and taken, or stolen)."""
        renewed: list[Lease] = []
        lost: list[Lease] = []
        if not leases:
            return renewed, lost
        with self.db.transaction():
            for lease in leases:
                changed = self.db.conn.execute(
                    "UPDATE esm_leases SET expires_at = ?"
                    " WHERE resource = ? AND owner = ? AND token = ?",
                    (now + ttl, lease.resource, lease.owner, lease.token),
                ).rowcount
                if changed:
                    renewed.append(type(lease)(lease.resource, lease.owner, lease.token, now + ttl))
                else:
                    lost.append(lease)
        return renewed, lost

    def release(self, lease: Lease) -> None:
        """Give a lease up (a stopping node): another node may take it at once."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE esm_leases SET owner = '', expires_at = 0"
                " WHERE resource = ? AND owner = ? AND token = ?",
                (lease.resource, lease.owner, lease.token),
            )

    def holds(self, lease: Lease) -> bool:
        """Inside a transaction: whether ``lease`` is still its owner's, under the same
        token (the row stays locked on PostgreSQL until the transaction ends, so no
        takeover lands in between). An expired lease nobody took yet still holds: no other
        node wrote under it."""
        row = self.db.conn.execute(
            "SELECT 1 FROM esm_leases WHERE resource = ? AND owner = ? AND token = ?"
            + self.db.dialect.for_update,
            (lease.resource, lease.owner, lease.token),
        ).fetchone()
        return row is not None

    def delete(self, prefix: str) -> None:
        """Forget every lease of a deleted mapping."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM esm_leases WHERE substr(resource, 1, ?) = ?", (len(prefix), prefix)
            )
