"""Stack operations shown as they happen: a live table of resources and their status (rich)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

#: Stack statuses after which nothing more happens.
TERMINAL = frozenset(
    {
        "CREATE_COMPLETE",
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "UPDATE_COMPLETE",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "DELETE_COMPLETE",
        "DELETE_FAILED",
    }
)
SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})
POLL_SECONDS = 0.1


def _style(status: str) -> str:
    if status.endswith("FAILED") or "ROLLBACK" in status:
        return "red"
    if status.endswith("IN_PROGRESS"):
        return "yellow"
    if status == "DELETE_SKIPPED":
        return "dim"
    return "green"


@dataclass
class _Row:
    type: str
    status: str
    reason: str = ""


@dataclass
class StackProgress:
    """What the events of one operation said so far."""

    stack_name: str
    rows: dict[str, _Row] = field(default_factory=dict)
    status: str = ""
    reason: str = ""
    seen: set[str] = field(default_factory=set)

    def add(self, event: dict[str, Any]) -> None:
        logical_id = event["LogicalResourceId"]
        reason = event.get("ResourceStatusReason", "") or ""
        if event["ResourceType"] == "AWS::CloudFormation::Stack" and logical_id == self.stack_name:
            self.status = event["ResourceStatus"]
            if reason and reason != "User Initiated":
                self.reason = reason
            return
        row = self.rows.setdefault(logical_id, _Row(event["ResourceType"], ""))
        row.status = event["ResourceStatus"]
        if reason != "Resource creation Initiated":
            row.reason = reason

    def table(self) -> Table:
        table = Table(title=f"{self.stack_name}: {self.status or 'starting'}", title_justify="left")
        table.add_column("Resource")
        table.add_column("Type", style="dim")
        table.add_column("Status")
        table.add_column("Reason", overflow="fold")
        for logical_id, row in self.rows.items():
            table.add_row(
                logical_id, row.type, f"[{_style(row.status)}]{row.status}[/]", row.reason
            )
        return table


def follow_operation(
    cfn: Any,
    stack_name: str,
    start: Callable[[], str],
    console: Console,
) -> StackProgress:
    """Run ``start`` (which begins an operation and returns the stack id) and show events.

    Events already in the stack when ``start`` is called are not shown. Returns when the
    stack reaches a terminal status.
    """
    progress = StackProgress(stack_name)
    try:
        before = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        progress.seen.update(event["EventId"] for event in before)
    except Exception:  # a new stack has no events yet
        pass
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["stack_id"] = start()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, name="headwater-deploy", daemon=True)
    worker.start()
    with Live(progress.table(), console=console, refresh_per_second=10, transient=False) as live:
        while True:
            worker.join(POLL_SECONDS)
            if "error" in outcome:
                raise outcome["error"]
            stack_id = outcome.get("stack_id")
            if stack_id is None:
                continue
            events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
            for event in reversed(events):
                if event["EventId"] not in progress.seen:
                    progress.seen.add(event["EventId"])
                    progress.add(event)
            live.update(progress.table())
            if progress.status in TERMINAL and not worker.is_alive():
                return progress
            time.sleep(0)
