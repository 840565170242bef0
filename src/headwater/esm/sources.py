"""What the SQS poller needs from a queue (``QueueSource``) and from Lambda (``Invoker``).

The poller only talks to these protocols, so the same loop can drive a local headwater
queue (``LocalQueueSource``), a real AWS queue or another backend later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from headwater.esm.records import QueueMessage
from headwater.esm.settle import InvocationLike


@dataclass(frozen=True, slots=True)
class QueueFacts:
    """Queue settings the poller depends on."""

    arn: str
    region: str
    fifo: bool
    visibility_timeout: int


class QueueSource(Protocol):
    """A queue as the poller sees it; every call is short and non-blocking."""

    arn: str

    def facts(self) -> QueueFacts:
        """Current settings; raises ``AwsError`` if the queue is gone."""
        ...

    def receive(
        self, max_messages: int, visibility_timeout: int | None = None
    ) -> Sequence[QueueMessage]:
        """Receive up to ``max_messages`` with the queue's semantics (visibility, redrive)."""
        ...

    def delete(self, receipt_handles: Sequence[str]) -> int: ...

    def change_visibility(
        self, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> None: ...

    def next_visible_at(self, after: float) -> float | None:
        """Earliest clock time after ``after`` a hidden or delayed message becomes receivable."""
        ...

    def approximate_age_of_oldest_message(self) -> float: ...

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (any thread) when messages may have become receivable."""
        ...


class Invoker(Protocol):
    """How the poller reaches functions."""

    async def invoke(self, function_arn: str, payload: bytes) -> InvocationLike: ...

    def function_limits(self, function_arn: str) -> tuple[int | None, int | None]:
        """``(timeout seconds, reserved concurrency)`` of the function, ``None`` if unknown."""
        ...


class LocalQueueSource:
    """A queue of this headwater's ``SqsService`` (its typed internal API)."""

    def __init__(self, sqs: Any, queue_arn: str) -> None:
        self._sqs = sqs
        self.arn = queue_arn

    def facts(self) -> QueueFacts:
        info = self._sqs.queue_info(self.arn)
        return QueueFacts(
            arn=self.arn,
            region=str(info.region),
            fifo=bool(info.fifo),
            visibility_timeout=int(info.visibility_timeout),
        )

    def receive(
        self, max_messages: int, visibility_timeout: int | None = None
    ) -> Sequence[QueueMessage]:
        messages: Sequence[QueueMessage] = self._sqs.receive_for_mapping(
            self.arn, max_messages, visibility_timeout
        )
        return messages

    def delete(self, receipt_handles: Sequence[str]) -> int:
        return int(self._sqs.delete_for_mapping(self.arn, receipt_handles))

    def change_visibility(self, receipt_handles: Sequence[str], visibility_timeout: int) -> None:
        self._sqs.change_visibility_for_mapping(self.arn, receipt_handles, visibility_timeout)

    def next_visible_at(self, after: float) -> float | None:
        found = self._sqs.next_visible_at(self.arn, after)
        return None if found is None else float(found)

    def approximate_age_of_oldest_message(self) -> float:
        return float(self._sqs.approximate_age_of_oldest_message(self.arn))

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        arn = self.arn

        def on_commit(queue_arn: str) -> None:
            if queue_arn == arn:
                callback()

        unsubscribe: Callable[[], None] = self._sqs.add_listener(on_commit)
        return unsubscribe


class LambdaInvoker:
    """Invokes functions of this headwater's ``LambdaService`` without blocking the loop."""

    def __init__(self, lambda_service: Any) -> None:
        self._lambda = lambda_service

    async def invoke(self, function_arn: str, payload: bytes) -> InvocationLike:
        result: InvocationLike = await self._lambda.invoke_async(function_arn, payload)
        return result

    def function_limits(self, function_arn: str) -> tuple[int | None, int | None]:
        """Timeout and the concurrency the function can really get: its reserved
        concurrency, and never more than the runtime's worker processes (the local
        "account" limit), since invokes past it are only throttled."""
        try:
            info = self._lambda.resolve_function(function_arn)
        except Exception:  # a deleted function leaves the mapping enabled (§2.4)
            return None, None
        timeout = getattr(info, "timeout", None)
        reserved = getattr(info, "reserved_concurrency", None)
        limits = [int(reserved)] if reserved is not None else []
        workers = self._worker_limit()
        if workers is not None:
            limits.append(workers)
        return (None if timeout is None else int(timeout), min(limits) if limits else None)

    def _worker_limit(self) -> int | None:
        options: dict[str, Any] = getattr(getattr(self._lambda, "env", None), "options", {})
        if options.get("functions", "process") != "process":
            return None  # inline handlers: no process pool
        configured = options.get("function_workers")
        if configured:
            return int(configured)
        from headwater.runtime.pool import default_max_workers

        return default_max_workers()
