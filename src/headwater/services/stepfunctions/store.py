"""Where Step Functions lives: state machines and executions in portable SQL.

An execution is one row whose body holds where it is (the top-level state it is about to
run and that state's input), its history and its outcome; the row is rewritten at every
top-level state transition, so a headwater stopped mid-execution resumes from the last
state it entered. ``status`` and ``wake_at`` are columns of their own: the resumer finds
running executions and the ticker finds parked ones (a Wait state) with one indexed query.
``owner`` and ``lease_until`` lease an execution to the one runner (process or node) that
advances it, so runners sharing a database never advance one execution twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.documents import DocumentTable

_MIGRATIONS = [
    """
    CREATE TABLE stepfunctions_machines (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    CREATE TABLE stepfunctions_executions (
        arn TEXT NOT NULL PRIMARY KEY,
        machine_arn TEXT NOT NULL,
        status TEXT NOT NULL,
        started REAL NOT NULL,
        wake_at REAL,
        body BLOB NOT NULL
    );
    CREATE INDEX stepfunctions_executions_machine ON stepfunctions_executions(machine_arn, started);
    CREATE INDEX stepfunctions_executions_running ON stepfunctions_executions(status, wake_at)
    """,
    """
    CREATE TABLE stepfunctions_task_tokens (
        token TEXT NOT NULL PRIMARY KEY,
        execution_arn TEXT NOT NULL,
        status TEXT NOT NULL,
        heartbeat REAL NOT NULL,
        outcome BLOB
    )
    """,
    # Which runner advances an execution, until when (real time): a lease.
    """
    ALTER TABLE stepfunctions_executions ADD COLUMN owner TEXT;
    ALTER TABLE stepfunctions_executions ADD COLUMN lease_until REAL
    """,
]


@dataclass(slots=True)
class MachineRecord:
    name: str
    arn: str
    definition: str
    role_arn: str
    type: str
    created: float
    updated: float
    revision_id: str
    tags: dict[str, str] = field(default_factory=dict)
    logging: dict[str, Any] | None = None
    tracing: dict[str, Any] | None = None
    description: str | None = None


@dataclass(slots=True)
class ExecutionRecord:
    arn: str
    name: str
    machine_arn: str
    account: str
    region: str
    #: The definition as it was when the execution started (an update does not change it).
    definition: str
    role_arn: str
    type: str
    input: str
    started: float
    status: str = "RUNNING"
    stopped: float | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    #: The top-level state to run next and its input (JSON text).
    state: str | None = None
    state_input: str | None = None
    #: A Wait state parks the execution until this clock time.
    wake_at: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    #: The top level's workflow variables (Assign), so a resumed execution has them.
    variables: dict[str, Any] = field(default_factory=dict)


def _execution(body: bytes | str) -> ExecutionRecord:
    return ExecutionRecord(**orjson.loads(body))


class StepFunctionsStore:
    """State machines and executions; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("stepfunctions", _MIGRATIONS)
        self._machines = DocumentTable(db, "stepfunctions_machines", ("account", "region", "name"))

    # ---- state machines ----

    def get_machine(self, account: str, region: str, name: str) -> MachineRecord | None:
        body = self._machines.get((account, region, name))
        return None if body is None else MachineRecord(**body)

    def put_machine(self, account: str, region: str, machine: MachineRecord) -> None:
        self._machines.put((account, region, machine.name), asdict(machine))

    def delete_machine(self, account: str, region: str, name: str) -> None:
        self._machines.delete((account, region, name))

    def machines(self, account: str, region: str) -> list[MachineRecord]:
        return [MachineRecord(**body) for body in self._machines.all((account, region))]

    # ---- task tokens (.waitForTaskToken) ----

    def put_token(self, token: str, execution_arn: str, now: float) -> None:
        """Make ``token`` wait (again) for its answer, its heartbeat counted from ``now``."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO stepfunctions_task_tokens(token, execution_arn, status, heartbeat)"
                " VALUES (?, ?, 'WAITING', ?) ON CONFLICT (token) DO UPDATE SET"
                " status = 'WAITING', heartbeat = excluded.heartbeat, outcome = NULL",
                (token, execution_arn, now),
            )

    def get_token(self, token: str) -> tuple[str, float, dict[str, Any] | None] | None:
        """(status, last heartbeat, outcome) of ``token``; ``None`` if it is unknown."""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT status, heartbeat, outcome FROM stepfunctions_task_tokens WHERE token = ?",
                (token,),
            ).fetchone()
        if row is None:
            return None
        return str(row[0]), float(row[1]), None if row[2] is None else orjson.loads(row[2])

    def answer_token(self, token: str, status: str, outcome: dict[str, Any]) -> bool:
        """Give a waiting ``token`` its outcome; ``False`` if it was not waiting."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE stepfunctions_task_tokens SET status = ?, outcome = ?"
                " WHERE token = ? AND status = 'WAITING'",
                (status, orjson.dumps(outcome), token),
            )
            return cursor.rowcount > 0

    def beat_token(self, token: str, now: float) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE stepfunctions_task_tokens SET heartbeat = ?"
                " WHERE token = ? AND status = 'WAITING'",
                (now, token),
            )
            return cursor.rowcount > 0

    def drop_token(self, token: str, status: str) -> None:
        """Stop ``token`` waiting (the task timed out, or its execution ended)."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE stepfunctions_task_tokens SET status = ? WHERE token = ?",
                (status, token),
            )

    def drop_tokens_of(self, execution_arn: str) -> None:
        """Stop every token of an execution waiting (it resumes, and sends new ones)."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE stepfunctions_task_tokens SET status = 'TIMED_OUT'"
                " WHERE execution_arn = ? AND status = 'WAITING'",
                (execution_arn,),
            )

    # ---- executions ----

    def get_execution(self, arn: str, *, for_update: bool = False) -> ExecutionRecord | None:
        """The execution ``arn``; ``for_update`` (inside a transaction) locks its row."""
        lock = self.db.dialect.for_update if for_update else ""
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body FROM stepfunctions_executions WHERE arn = ?" + lock, (arn,)
            ).fetchone()
        return None if row is None else _execution(row[0])

    def insert_execution(self, execution: ExecutionRecord) -> bool:
        """Store a new execution; ``False`` if one of that ARN exists."""
        with self.db.transaction():
            if self.get_execution(execution.arn) is not None:
                return False
            self.put_execution(execution)
        return True

    def put_execution(
        self,
        execution: ExecutionRecord,
        *,
        owner: str | None = None,
        lease_until: float | None = None,
    ) -> None:
        """Store an execution; a new one leased to ``owner`` (a changed one keeps its
        lease)."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO stepfunctions_executions"
                "(arn, machine_arn, status, started, wake_at, body, owner, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (arn) DO UPDATE SET status = excluded.status,"
                " wake_at = excluded.wake_at, body = excluded.body",
                (
                    execution.arn,
                    execution.machine_arn,
                    execution.status,
                    execution.started,
                    execution.wake_at,
                    orjson.dumps(asdict(execution)),
                    owner,
                    lease_until,
                ),
            )

    # ---- leases: one runner advances an execution ----

    def owner_of(self, arn: str) -> str | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT owner FROM stepfunctions_executions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def claim(self, arn: str, owner: str, lease_until: float, now: float) -> bool:
        """Lease a running, unparked execution to ``owner`` unless another runner holds
        it (its lease not over at real time ``now``)."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE stepfunctions_executions SET owner = ?, lease_until = ?"
                " WHERE arn = ? AND status = 'RUNNING' AND wake_at IS NULL"
                " AND (owner IS NULL OR owner = ? OR lease_until < ?)",
                (owner, lease_until, arn, owner, now),
            )
            return cursor.rowcount > 0

    def renew(self, owner: str, arns: list[str], lease_until: float) -> None:
        with self.db.transaction():
            for arn in arns:
                self.db.conn.execute(
                    "UPDATE stepfunctions_executions SET lease_until = ?"
                    " WHERE arn = ? AND owner = ?",
                    (lease_until, arn, owner),
                )

    def release(self, owner: str, arn: str) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE stepfunctions_executions SET owner = NULL, lease_until = NULL"
                " WHERE arn = ? AND owner = ?",
                (arn, owner),
            )

    def executions(self, machine_arn: str) -> list[ExecutionRecord]:
        """The executions of a machine, newest first."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM stepfunctions_executions WHERE machine_arn = ?"
                " ORDER BY started DESC, arn",
                (machine_arn,),
            ).fetchall()
        return [_execution(row[0]) for row in rows]

    def orphans(self, now: float) -> list[ExecutionRecord]:
        """RUNNING, unparked executions no runner holds (none ever did, or its lease ended
        by real time ``now``: its headwater stopped): they are resumed."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM stepfunctions_executions"
                " WHERE status = 'RUNNING' AND wake_at IS NULL"
                " AND (owner IS NULL OR lease_until < ?) ORDER BY started",
                (now,),
            ).fetchall()
        return [_execution(row[0]) for row in rows]

    def due(self, now: float) -> list[ExecutionRecord]:
        """Parked executions whose Wait ended by ``now``."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM stepfunctions_executions"
                " WHERE status = 'RUNNING' AND wake_at IS NOT NULL AND wake_at <= ?"
                " ORDER BY wake_at",
                (now,),
            ).fetchall()
        return [_execution(row[0]) for row in rows]

    def claim_wake(self, arn: str, wake_at: float, owner: str, lease_until: float) -> bool:
        """Unpark an execution and lease it to ``owner`` (compare and set on ``wake_at``);
        ``False`` if someone else (another node, a StopExecution) got there first."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE stepfunctions_executions SET wake_at = NULL, owner = ?, lease_until = ?"
                " WHERE arn = ? AND status = 'RUNNING' AND wake_at = ?",
                (owner, lease_until, arn, wake_at),
            )
            return cursor.rowcount > 0
