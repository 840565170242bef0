"""What the SQS poller needs from a queue (``QueueSource``) and from Lambda (``Invoker``).

The poller only talks to these protocols, so the same loop can drive a local headwater
queue (``headwater.wiring.adapters.LocalQueueSource``), a real AWS queue or another backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

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
    """A queue as the poller sees it.

    ``receive``, ``delete``, ``change_visibility`` and ``next_visible_at`` are awaitable: a
    source whose storage may block (another process's SQLite write lock, a PostgreSQL
    round trip) runs them off the event loop. ``subscribe`` is how it wakes the poller:
    at once for writes in this process, within the poll fallback for other processes'.
    """

    arn: str

    def facts(self) -> QueueFacts:
        """Current settings; raises ``AwsError`` if the queue is gone."""
        ...

    async def receive(
        self, max_messages: int, visibility_timeout: int | None = None
    ) -> Sequence[QueueMessage]:
        """Receive up to ``max_messages`` with the queue's semantics (visibility, redrive)."""
        ...

    async def delete(self, receipt_handles: Sequence[str]) -> int: ...

    async def change_visibility(
        self, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> None: ...

    async def next_visible_at(self, after: float) -> float | None:
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
