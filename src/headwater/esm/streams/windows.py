"""Tumbling windows (``TumblingWindowInSeconds``, reference §4.6).

Windows are aligned on multiples of the length and records belong to the window of their
arrival time; a batch never spans two windows. Each invocation gets the ``state`` the
previous one returned (``{}`` at window start) and must return ``{"state": {...}}``. When
the window is over (clock past its end, a record of a later window, the shard's end, or a
state over 1 MB) one more invocation with ``isFinalInvokeForWindow: true`` and no records
closes it; it is retried until it succeeds. The open window and its state are saved in the
shard checkpoint, so a restart continues the window. A mapping with windows runs one lane
per shard (ParallelizationFactor is not applied): the state is per shard.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from headwater.esm.batching import BatchBuilder, PendingRecord
from headwater.esm.settle import InvocationLike
from headwater.esm.streams.stream_settle import RetryPolicy

#: A state larger than this ends the window early (``isWindowTerminatedEarly``).
MAX_STATE_BYTES = 1_048_576
#: Payload bytes besides records and state: window, shardId, ARN, flags (generous).
WINDOW_FIELDS_BYTES = 1024


@dataclass(frozen=True, slots=True)
class _Failed:
    """A windowed invocation whose response had no ``state``: it counts as failed."""

    status: str = "function_error"
    payload: bytes = b""
    function_error: str | None = "Unhandled"


class WindowHooks(Protocol):
    def now(self) -> float: ...
    async def invoke(self, records: Sequence[PendingRecord]) -> InvocationLike: ...
    async def wait(self, seconds: float) -> None: ...


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TumblingWindows:
    """The open window of one shard and its state."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.start: float | None = None
        self.state: Any = {}
        self.terminated_early = False
        self._final = False

    @property
    def open(self) -> bool:
        return self.start is not None

    def window_of(self, arrival: float) -> float:
        return math.floor(arrival / self.length) * self.length

    def closes_at(self) -> float | None:
        return None if self.start is None else self.start + self.length

    def snapshot(self) -> dict[str, Any] | None:
        if self.start is None:
            return None
        return {"start": self.start, "state": self.state, "early": self.terminated_early}

    def restore(self, saved: dict[str, Any] | None) -> None:
        if saved:
            self.start = float(saved["start"])
            self.state = saved.get("state") or {}
            self.terminated_early = bool(saved.get("early"))

    def take(self, builder: BatchBuilder, now: float) -> list[PendingRecord]:
        """The next batch: records of the open window only (opening one if none is)."""
        pending = builder.pending
        if not pending or self.terminated_early:
            return []
        first = self.window_of(pending[0].sent_timestamp)
        if self.start is None:
            self.start, self.state = first, {}
        elif first != self.start:
            return []  # the open window must close first
        # The window fields and the state travel in the same 6 MB payload as the records.
        room = builder.max_bytes - WINDOW_FIELDS_BYTES - len(orjson.dumps(self.state))
        batch: list[PendingRecord] = []
        size = 0
        while pending and len(batch) < builder.batch_size:
            if self.window_of(pending[0].sent_timestamp) != self.start:
                break
            size += len(pending[0].encoded) + 1
            if batch and size > room:
                break
            batch.append(pending.popleft())
        builder.opened_at = now if pending else None
        return batch

    def should_close(self, now: float, builder: BatchBuilder, shard_ended: bool) -> bool:
        """Whether the open window is over and nothing of it waits to be invoked."""
        if self.start is None:
            return False
        pending = builder.pending
        if pending and self.window_of(pending[0].sent_timestamp) == self.start:
            return self.terminated_early
        if pending or shard_ended or self.terminated_early:
            return True
        closes = self.closes_at()
        return closes is not None and now >= closes

    def payload(
        self, records: Sequence[PendingRecord], shard_id: str, stream_arn: str, *, final: bool
    ) -> bytes:
        assert self.start is not None
        extra = orjson.dumps(
            {
                "window": {"start": _iso(self.start), "end": _iso(self.start + self.length)},
                "state": self.state,
                "shardId": shard_id,
                "eventSourceARN": stream_arn,
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": final and self.terminated_early,
            }
        )
        return b'{"Records":[' + b",".join(r.encoded for r in records) + b"]," + extra[1:]

    def accept_response(self, result: InvocationLike) -> InvocationLike:
        """Keep the returned state; a response without one fails the invocation."""
        try:
            body = orjson.loads(result.payload) if result.payload else None
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("state"), dict):
            return _Failed()
        state = body["state"]
        if len(orjson.dumps(state)) > MAX_STATE_BYTES:
            self.terminated_early = True
        else:
            self.state = state
        return result

    async def finish(self, hooks: WindowHooks, policy: RetryPolicy) -> None:
        """The final invocation of the window, retried (with backoff) until it succeeds."""
        delay = policy.backoff_seconds
        self._final = True
        try:
            while True:
                result = await hooks.invoke([])
                if result.status == "ok":
                    break
                await hooks.wait(delay)
                delay = min(delay * 2, policy.backoff_max_seconds)
        finally:
            self._final = False
        self.start, self.state, self.terminated_early = None, {}, False

    @property
    def final(self) -> bool:
        return self._final
