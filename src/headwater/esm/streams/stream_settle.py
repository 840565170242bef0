"""How a stream batch is settled (reference §4.3, §4.4): retries, bisect, record age,
partial batch responses and the hand-off to the on-failure destination.

The shard (or its lane) is blocked while ``settle`` runs: it returns only when every record
of the batch is settled, i.e. processed, or discarded (reported to the destination). It
reads top to bottom like the reference's algorithm:

    loop:
      drop (and report) records older than MaximumRecordAgeInSeconds
      invoke
      throttle / service error -> back off, retry (no attempt counted)
      success                  -> settled
      partial response         -> records before the lowest failed one are settled; the
                                  rest is retried (counts as an attempt)
      function error           -> bisect if allowed, else retry until attempts run out

Records are ``batching.PendingRecord`` objects (the SQS engine's batch unit): for streams
``message_id`` is the sequence number, ``group_id`` the partition key and
``sent_timestamp`` the approximate arrival time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from headwater.esm.batching import PendingRecord
from headwater.esm.settle import InvocationLike, classify

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"

#: First delay before retrying a failed batch (doubled per retry, up to the maximum).
RETRY_BACKOFF_SECONDS = 1.0
RETRY_BACKOFF_MAX_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The failure-handling settings of a stream mapping."""

    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect: bool = False
    report_item_failures: bool = False
    backoff_seconds: float = RETRY_BACKOFF_SECONDS
    backoff_max_seconds: float = RETRY_BACKOFF_MAX_SECONDS

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` invocations used up the retries (first invoke + retries)."""
        return self.maximum_retry_attempts != -1 and attempts > self.maximum_retry_attempts


@dataclass(frozen=True, slots=True)
class Discard:
    """Records given up on: what the on-failure record reports."""

    condition: str
    records: list[PendingRecord]
    #: approximateInvokeCount (AWS reports 1 even when nothing was invoked).
    invoke_count: int
    request_id: str | None
    executed_version: str | None
    #: ``"Unhandled"`` for function errors, ``None`` after a partial batch response; the
    #: whole ``responseContext`` is absent for RecordAgeExceeded.
    function_error: str | None


class SettleHooks(Protocol):
    """What the settle algorithm does through its shard poller."""

    def now(self) -> float: ...

    async def invoke(self, records: Sequence[PendingRecord]) -> InvocationLike: ...

    def settled(self, records: Sequence[PendingRecord]) -> None:
        """Records are done (processed, discarded or trimmed): the checkpoint may pass them."""
        ...

    async def discard(self, discard: Discard) -> None:
        """Report discarded records to the on-failure destination (or drop them)."""
        ...

    async def wait(self, seconds: float) -> None:
        """Back off for ``seconds`` of clock time."""
        ...

    def trimmed(self, records: Sequence[PendingRecord]) -> list[PendingRecord]:
        """Records that left the stream (retention) while the batch was blocked."""
        ...


def bisect(records: list[PendingRecord]) -> tuple[list[PendingRecord], list[PendingRecord]]:
    """The two halves of a failing batch; the first holds ceil(n/2) records."""
    middle = (len(records) + 1) // 2
    return records[:middle], records[middle:]


class BatchSettler:
    """Settles batches of one lane with a mapping's ``RetryPolicy``."""

    def __init__(self, policy: RetryPolicy, hooks: SettleHooks) -> None:
        self.policy = policy
        self.hooks = hooks

    async def settle(self, records: list[PendingRecord]) -> None:
        """Process ``records`` until every one is settled; halves from bisects run in order."""
        work = [records]
        while work:
            batch = work.pop(0)
            halves = await self._settle_one(batch)
            if halves is not None:
                work[0:0] = list(halves)

    async def _settle_one(
        self, batch: list[PendingRecord]
    ) -> tuple[list[PendingRecord], list[PendingRecord]] | None:
        """Settle one (sub-)batch; returns its halves when it must be bisected instead."""
        policy, hooks = self.policy, self.hooks
        attempts = 0
        request_id: str | None = None
        delay = policy.backoff_seconds
        retrying = False
        while True:
            if retrying:
                # Records trimmed by retention while the shard was blocked are skipped
                # silently (not reported, not DroppedEventCount).
                gone = hooks.trimmed(batch)
                if gone:
                    hooks.settled(gone)
                    batch = batch[len(gone) :]
            retrying = True
            batch = await self._drop_expired(batch, attempts, request_id)
            if not batch:
                return None
            result = await hooks.invoke(batch)
            outcome = classify(
                result,
                [r.message_id for r in batch],
                report_item_failures=policy.report_item_failures,
            )
            if outcome.retry_invoke:  # the batch never reached the function
                await hooks.wait(delay)
                delay = min(delay * 2, policy.backoff_max_seconds)
                continue
            attempts += 1
            request_id = getattr(result, "request_id", None)
            version = getattr(result, "executed_version", None)
            if outcome.kind == "success":
                hooks.settled(batch)
                return None
            if outcome.kind == "partial_failure":
                lowest = min(int(i) for i in outcome.failed_ids)
                cut = next(n for n, r in enumerate(batch) if int(r.message_id) == lowest)
                if cut:
                    hooks.settled(batch[:cut])
                batch = batch[cut:]
                function_error = None
            else:
                if policy.bisect and len(batch) > 1:
                    return bisect(batch)
                # A malformed partial response fails the batch, but it was no function
                # error: AWS reports functionError null for it (recorded).
                function_error = None if outcome.kind == "invalid_response" else "Unhandled"
            if policy.exhausted(attempts):
                await hooks.discard(
                    Discard(
                        RETRY_ATTEMPTS_EXHAUSTED,
                        batch,
                        attempts,
                        request_id,
                        version,
                        function_error,
                    )
                )
                hooks.settled(batch)
                return None
            await hooks.wait(delay)
            delay = min(delay * 2, policy.backoff_max_seconds)

    async def _drop_expired(
        self, batch: list[PendingRecord], attempts: int, request_id: str | None
    ) -> list[PendingRecord]:
        """Discard records older than MaximumRecordAgeInSeconds (checked before each invoke)."""
        limit = self.policy.maximum_record_age
        if limit == -1:
            return batch
        now = self.hooks.now()
        expired = [r for r in batch if now - r.sent_timestamp > limit]
        if not expired:
            return batch
        await self.hooks.discard(
            Discard(RECORD_AGE_EXCEEDED, expired, max(attempts, 1), request_id, None, None)
        )
        self.hooks.settled(expired)
        return [r for r in batch if now - r.sent_timestamp <= limit]
