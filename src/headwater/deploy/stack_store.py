"""Stacks, their resources, events, change sets and exports, in the headwater database.

One SQL class for the "memory" and "sqlite" databases (portable SQL, so the PostgreSQL
backend can run it too). Records are JSON documents beside the columns that are queried.
Every write is one short transaction; the engine calls these from its worker threads.
"""

from __future__ import annotations

from typing import Any

from headwater.deploy.records import (
    ChangeSetRecord,
    EventRecord,
    ResourceRecord,
    StackRecord,
    from_json,
    to_json,
)
from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE cfn_stacks (
        stack_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        account TEXT NOT NULL,
        status TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        created REAL NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX cfn_stacks_name ON cfn_stacks(account, region, name, deleted);
    CREATE TABLE cfn_resources (
        stack_id TEXT NOT NULL,
        logical_id TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (stack_id, logical_id)
    );
    CREATE TABLE cfn_events (
        stack_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (stack_id, seq)
    );
    CREATE TABLE cfn_change_sets (
        change_set_id TEXT PRIMARY KEY,
        stack_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX cfn_change_sets_stack ON cfn_change_sets(stack_id, name);
    CREATE TABLE cfn_exports (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        stack_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (account, region, name)
    )
    """,
]

#: Stack statuses after which a stack is gone (DescribeStacks by name no longer finds it).
DELETED = "DELETE_COMPLETE"


class StackStore:
    """CloudFormation's state for one headwater database."""

    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("cloudformation", _MIGRATIONS)

    # -- stacks ----------------------------------------------------------------------------

    def put_stack(self, stack: StackRecord) -> None:
        deleted = 1 if stack.status == DELETED else 0
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO cfn_stacks(stack_id, name, region, account, status, deleted, "
                "created, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stack_id) DO UPDATE "
                "SET status = excluded.status, deleted = excluded.deleted, body = excluded.body",
                (
                    stack.stack_id,
                    stack.name,
                    stack.region,
                    stack.account,
                    stack.status,
                    deleted,
                    stack.creation_time,
                    to_json(stack),
                ),
            )

    def get_stack(self, stack_id: str) -> StackRecord | None:
        row = self.db.conn.execute(
            "SELECT body FROM cfn_stacks WHERE stack_id = ?", (stack_id,)
        ).fetchone()
        return from_json(StackRecord, row[0]) if row else None

    def find_live_stack(self, account: str, region: str, name: str) -> StackRecord | None:
        """The stack called ``name`` that is not deleted."""
        row = self.db.conn.execute(
            "SELECT body FROM cfn_stacks WHERE account = ? AND region = ? AND name = ? "
            "AND deleted = 0",
            (account, region, name),
        ).fetchone()
        return from_json(StackRecord, row[0]) if row else None

    def list_stacks(self, account: str, region: str) -> list[StackRecord]:
        """Every stack of the account and region, deleted ones included, newest first."""
        rows = self.db.conn.execute(
            "SELECT body FROM cfn_stacks WHERE account = ? AND region = ? ORDER BY created DESC",
            (account, region),
        ).fetchall()
        return [from_json(StackRecord, row[0]) for row in rows]

    def stacks_in_progress(self) -> list[StackRecord]:
        """Stacks of every account and region whose last operation has not finished."""
        rows = self.db.conn.execute(
            "SELECT body FROM cfn_stacks WHERE status LIKE ? AND status <> ?",
            ("%_IN_PROGRESS", "REVIEW_IN_PROGRESS"),
        ).fetchall()
        return [from_json(StackRecord, row[0]) for row in rows]

    # -- resources -------------------------------------------------------------------------

    def put_resource(self, stack_id: str, resource: ResourceRecord) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO cfn_resources(stack_id, logical_id, body) VALUES (?, ?, ?) "
                "ON CONFLICT (stack_id, logical_id) DO UPDATE SET body = excluded.body",
                (stack_id, resource.logical_id, to_json(resource)),
            )

    def delete_resource(self, stack_id: str, logical_id: str) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM cfn_resources WHERE stack_id = ? AND logical_id = ?",
                (stack_id, logical_id),
            )

    def resources(self, stack_id: str) -> dict[str, ResourceRecord]:
        rows = self.db.conn.execute(
            "SELECT body FROM cfn_resources WHERE stack_id = ?", (stack_id,)
        ).fetchall()
        found = [from_json(ResourceRecord, row[0]) for row in rows]
        return {resource.logical_id: resource for resource in found}

    # -- events ----------------------------------------------------------------------------

    def add_event(self, stack_id: str, event: EventRecord) -> None:
        with self.db.transaction():
            # Resources deploy in parallel threads: on PostgreSQL the stack row's lock makes
            # this read-then-insert one at a time (SQLite's write lock already does).
            self.db.conn.execute(
                "SELECT 1 FROM cfn_stacks WHERE stack_id = ?" + self.db.dialect.for_update,
                (stack_id,),
            )
            row = self.db.conn.execute(
                "SELECT MAX(seq) FROM cfn_events WHERE stack_id = ?", (stack_id,)
            ).fetchone()
            seq = (row[0] or 0) + 1
            self.db.conn.execute(
                "INSERT INTO cfn_events(stack_id, seq, body) VALUES (?, ?, ?)",
                (stack_id, seq, to_json(event)),
            )

    def events(self, stack_id: str) -> list[EventRecord]:
        """The stack's events, newest first (as DescribeStackEvents lists them)."""
        rows = self.db.conn.execute(
            "SELECT body FROM cfn_events WHERE stack_id = ? ORDER BY seq DESC", (stack_id,)
        ).fetchall()
        return [from_json(EventRecord, row[0]) for row in rows]

    # -- change sets -----------------------------------------------------------------------

    def put_change_set(self, change_set: ChangeSetRecord) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO cfn_change_sets(change_set_id, stack_id, name, created, body) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (change_set_id) DO UPDATE "
                "SET body = excluded.body",
                (
                    change_set.change_set_id,
                    change_set.stack_id,
                    change_set.name,
                    change_set.creation_time,
                    to_json(change_set),
                ),
            )

    def get_change_set(self, change_set_id: str) -> ChangeSetRecord | None:
        row = self.db.conn.execute(
            "SELECT body FROM cfn_change_sets WHERE change_set_id = ?", (change_set_id,)
        ).fetchone()
        return from_json(ChangeSetRecord, row[0]) if row else None

    def find_change_set(self, stack_id: str, name: str) -> ChangeSetRecord | None:
        row = self.db.conn.execute(
            "SELECT body FROM cfn_change_sets WHERE stack_id = ? AND name = ?",
            (stack_id, name),
        ).fetchone()
        return from_json(ChangeSetRecord, row[0]) if row else None

    def change_sets(self, stack_id: str) -> list[ChangeSetRecord]:
        rows = self.db.conn.execute(
            "SELECT body FROM cfn_change_sets WHERE stack_id = ? ORDER BY created",
            (stack_id,),
        ).fetchall()
        return [from_json(ChangeSetRecord, row[0]) for row in rows]

    def delete_change_set(self, change_set_id: str) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM cfn_change_sets WHERE change_set_id = ?", (change_set_id,)
            )

    def delete_change_sets(self, stack_id: str) -> None:
        with self.db.transaction():
            self.db.conn.execute("DELETE FROM cfn_change_sets WHERE stack_id = ?", (stack_id,))

    # -- exports ---------------------------------------------------------------------------

    def exports(self, account: str, region: str) -> dict[str, tuple[str, str]]:
        """Export name -> (exporting stack id, value)."""
        rows = self.db.conn.execute(
            "SELECT name, stack_id, value FROM cfn_exports WHERE account = ? AND region = ? "
            "ORDER BY name",
            (account, region),
        ).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def set_exports(
        self, account: str, region: str, stack_id: str, exports: dict[str, str]
    ) -> None:
        """Replace what ``stack_id`` exports with ``exports`` (name -> value)."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM cfn_exports WHERE account = ? AND region = ? AND stack_id = ?",
                (account, region, stack_id),
            )
            for name, value in exports.items():
                self.db.conn.execute(
                    "INSERT INTO cfn_exports(account, region, name, stack_id, value) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (account, region, name, stack_id, value),
                )

    # -- helpers ---------------------------------------------------------------------------

    def transaction(self) -> Any:
        return self.db.transaction()
