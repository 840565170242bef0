"""Message move tasks (DLQ redrive): StartMessageMoveTask, ListMessageMoveTasks, Cancel.

Tasks progress whenever the service is asked about them, on every clock jump of a
``ManualClock`` (so tests advance time and observe completion) and, with a real clock,
from a small background thread while any task runs. A rate limit spends a budget of
``MaxNumberOfMessagesPerSecond`` x elapsed clock seconds.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

from headwater.core.arn import Arn
from headwater.core.ids import new_uuid
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sqs.attributes import settings_of
from headwater.services.sqs.delivery import ReceivePath
from headwater.services.sqs.errors import invalid_parameter, invalid_value, sqs_error
from headwater.services.sqs.queue_access import QueueAccess, ResolvedQueue
from headwater.store.queues import MoveTaskRecord, StoredMessage

RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
CANCELLED = "CANCELLED"
FAILED = "FAILED"
#: Messages moved per step when no rate is given (keeps each transaction short).
UNLIMITED_STEP = 500
MAX_RATE = 500
BACKGROUND_INTERVAL = 0.2


def _task_handle(task_id: str, source_arn: str) -> str:
    raw = json.dumps({"taskId": task_id, "sourceArn": source_arn}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def _not_found(parameter: str) -> Exception:
    return sqs_error(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
    )


class MoveTaskOperations:
    """Redrive a dead-letter queue back to its sources or to another queue."""

    def __init__(self, access: QueueAccess, delivery: ReceivePath) -> None:
        self.access = access
        self.delivery = delivery
        self._tasks_running = bool(self._running_tasks())
        self._clock_unsubscribe: Callable[[], None] | None = None
        self._pump_thread: threading.Thread | None = None
        self._closing = threading.Event()
        if self._tasks_running:
            self._watch_tasks()

    def _running_tasks(self) -> list[MoveTaskRecord]:
        with self.access.db.transaction():
            return [t for t in self.access.store.move_tasks() if t.status == RUNNING]

    def _watch_tasks(self) -> None:
        """Arrange for running tasks to progress as clock time passes."""
        if self.access.clock.real_delay(1.0) is None:
            if self._clock_unsubscribe is None:
                self._clock_unsubscribe = self.access.clock.subscribe(self.progress_move_tasks)
            return
        if self._pump_thread is None or not self._pump_thread.is_alive():
            self._pump_thread = threading.Thread(
                target=self._pump_loop, name="headwater-sqs-move-tasks", daemon=True
            )
            self._pump_thread.start()

    def _pump_loop(self) -> None:
        while self._tasks_running and not self._closing.wait(BACKGROUND_INTERVAL):
            try:
                self.progress_move_tasks()
            except Exception:  # the database may be closing under us; stop quietly
                return

    def close(self) -> None:
        self._closing.set()
        self.access.wake_waiters()  # long polls re-check promptly instead of sleeping on
        if self._clock_unsubscribe is not None:
            self._clock_unsubscribe()
            self._clock_unsubscribe = None

    def progress_move_tasks(self) -> None:
        """Advance every running task as far as its rate budget allows."""
        if not self._tasks_running:
            return
        woken: set[str] = set()
        with self.access.db.transaction():
            running = [t for t in self.access.store.move_tasks() if t.status == RUNNING]
            for task in running:
                self._step(task, woken)
            self._tasks_running = any(t.status == RUNNING for t in running)
        if woken:
            self.access.notify(woken)

    def _step(self, task: MoveTaskRecord, woken: set[str]) -> None:
        now = self.access.now()
        source = self.access.resolve_arn(task.source_arn)
        if source is None:
            self._finish(task, FAILED, "AWS.SimpleQueueService.NonExistentQueue")
            return
        while task.status == RUNNING:
            remaining = task.to_move - task.moved
            if task.max_per_second is not None:
                budget = int(task.max_per_second * (now - task.started_at)) - task.moved
                remaining = min(remaining, budget)
            if task.moved >= task.to_move:
                self._finish(task, COMPLETED, None)
                return
            if remaining <= 0:
                self.access.store.save_move_task(task)
                return
            batch = self.access.store.receivable(source.record, now, min(remaining, UNLIMITED_STEP))
            if not batch:
                self._finish(task, COMPLETED, None)
                return
            by_target: dict[str, tuple[ResolvedQueue, list[StoredMessage]]] = {}
            for message in batch:
                target_arn = task.destination_arn or message.dead_letter_source_arn
                target = None if target_arn is None else self.access.resolve_arn(target_arn)
                if target is None:
                    self._finish(task, FAILED, "AWS.SimpleQueueService.NonExistentQueue")
                    break
                by_target.setdefault(target.arn, (target, []))[1].append(message)
            for target, messages in by_target.values():
                self.delivery.move_messages(source, target, messages, now, source_arn=None)
                self.access.env.telemetry.sqs_moved(
                    source.arn, target.arn, [m.message_id for m in messages], "redrive"
                )
                task.moved += len(messages)
                woken.add(target.arn)
            self.access.store.save_move_task(task)

    def _finish(self, task: MoveTaskRecord, status: str, reason: str | None) -> None:
        task.status = status
        task.failure_reason = reason
        self.access.store.save_move_task(task)

    @operation("StartMessageMoveTask")
    def start_message_move_task(self, params: Params, ctx: RequestContext) -> Result:
        source_arn: str = params["SourceArn"]
        destination_arn: str | None = params.get("DestinationArn")
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and not 1 <= int(rate) <= MAX_RATE:
            raise invalid_value(
                rate, "MaxNumberOfMessagesPerSecond", f"Must be between 1 and {MAX_RATE}."
            )
        if Arn.try_parse(source_arn) is None:
            raise invalid_parameter(
                "You must use this format to specify the SourceArn: "
                "arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
            )
        with self.access.db.transaction():
            source = self.access.resolve_arn(source_arn)
            if source is None:
                raise _not_found("SourceArn")
            is_dead_letter_queue = any(
                (policy := settings_of(q.attributes, q.fifo).redrive) is not None
                and policy.dead_letter_target_arn == source.arn
                for q in self.access.store.all_queues()
            )
            if not is_dead_letter_queue:
                raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
            if destination_arn is not None and self.access.resolve_arn(destination_arn) is None:
                raise _not_found("DestinationArn")
            if any(t.status == RUNNING for t in self.access.store.move_tasks(source.arn)):
                raise invalid_parameter(
                    "There is already a task running. Only one active task is allowed for a "
                    "source queue arn at a given time."
                )
            now = self.access.now()
            counts = self.access.store.counts(source.record, now)
            task = MoveTaskRecord(
                task_handle=_task_handle(new_uuid(), source.arn),
                source_arn=source.arn,
                destination_arn=destination_arn,
                max_per_second=None if rate is None else int(rate),
                status=RUNNING,
                moved=0,
                to_move=counts.visible,
                started_at=now,
                progressed_at=now,
            )
            self.access.store.save_move_task(task)
            self._tasks_running = True
        self._watch_tasks()
        self.progress_move_tasks()
        return {"TaskHandle": task.task_handle}

    @operation("ListMessageMoveTasks")
    def list_message_move_tasks(self, params: Params, ctx: RequestContext) -> Result:
        max_results = params.get("MaxResults")
        if max_results is not None and not 1 <= int(max_results) <= 10:
            raise invalid_value(max_results, "MaxResults", "Must be between 1 and 10.")
        self.progress_move_tasks()
        with self.access.db.transaction():
            source = self.access.resolve_arn(params["SourceArn"])
            if source is None:
                raise _not_found("SourceArn")
            tasks = self.access.store.move_tasks(source.arn)
        limit = 1 if max_results is None else int(max_results)
        return {"Results": [_describe(t) for t in tasks[:limit]]}

    @operation("CancelMessageMoveTask")
    def cancel_message_move_task(self, params: Params, ctx: RequestContext) -> Result:
        handle: str = params["TaskHandle"]
        try:
            decoded = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
            source_arn = str(decoded["sourceArn"])
        except (ValueError, KeyError, TypeError):
            raise invalid_parameter("Value for parameter TaskHandle is invalid.") from None
        self.progress_move_tasks()
        with self.access.db.transaction():
            if self.access.resolve_arn(source_arn) is None:
                raise _not_found("SourceArn")
            task = next(
                (t for t in self.access.store.move_tasks(source_arn) if t.task_handle == handle),
                None,
            )
            if task is None:
                raise sqs_error("ResourceNotFoundException", "Task does not exist.")
            if task.status != RUNNING:
                raise invalid_parameter("Only active tasks can be cancelled.")
            self._finish(task, CANCELLED, None)
        return {"ApproximateNumberOfMessagesMoved": task.moved}


def _describe(task: MoveTaskRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {"Status": task.status, "SourceArn": task.source_arn}
    if task.status == RUNNING:
        entry["TaskHandle"] = task.task_handle
    if task.destination_arn is not None:
        entry["DestinationArn"] = task.destination_arn
    if task.max_per_second is not None:
        entry["MaxNumberOfMessagesPerSecond"] = task.max_per_second
    entry["ApproximateNumberOfMessagesMoved"] = task.moved
    entry["ApproximateNumberOfMessagesToMove"] = task.to_move
    if task.failure_reason is not None:
        entry["FailureReason"] = task.failure_reason
    entry["StartedTimestamp"] = int(task.started_at * 1000)
    return entry
