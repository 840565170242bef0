"""What happens to a batch after its invocation (reference §3.3, §3.4).

``classify`` turns an invocation result into a ``BatchOutcome``; ``decide`` turns the
outcome into a ``Settlement``: which receipt handles to delete, how many records failed,
and whether the invoke should be retried (throttles and service errors only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson

OutcomeKind = Literal[
    "success",
    "partial_failure",
    "invalid_response",
    "function_error",
    "timeout",
    "throttled",
    "service_error",
]


class InvocationLike(Protocol):
    """The fields of ``headwater.runtime.InvocationResult`` settle reads."""

    @property
    def status(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def function_error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """How one invocation of a batch ended."""

    kind: OutcomeKind
    #: Message ids the function reported in ``batchItemFailures`` (partial_failure only).
    failed_ids: frozenset[str] = field(default_factory=frozenset)
    detail: str | None = None

    @property
    def retry_invoke(self) -> bool:
        """Throttles and service errors are retried by the poller, not counted as failures."""
        return self.kind in ("throttled", "service_error")


@dataclass(frozen=True, slots=True)
class Settlement:
    """The action for a settled batch."""

    delete: list[str]
    #: Records of the batch that count as failed (FailedInvokeEventCount).
    failed_count: int
    function_failed: bool


def parse_batch_item_failures(payload: bytes, batch_ids: Sequence[str]) -> frozenset[str] | None:
    """The message ids a ``ReportBatchItemFailures`` response lists.

    Returns an empty set for every form AWS treats as complete success, and ``None`` when
    the response is malformed, which fails the whole batch (§3.4).
    """
    text = payload.strip()
    if not text:
        return frozenset()
    try:
        body: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return frozenset()
    failures = body.get("batchItemFailures")
    if failures is None:
        return frozenset()
    if not isinstance(failures, list):
        return None
    known = set(batch_ids)
    ids: set[str] = set()
    for entry in failures:
        if not isinstance(entry, dict):
            return None
        identifier = entry.get("itemIdentifier")
        if not isinstance(identifier, str) or not identifier or identifier not in known:
            return None
        ids.add(identifier)
    return frozenset(ids)


def classify(
    result: InvocationLike, batch_ids: Sequence[str], *, report_item_failures: bool
) -> BatchOutcome:
    """The outcome of an invocation of the batch whose message ids are ``batch_ids``."""
    if result.status == "throttled":
        return BatchOutcome("throttled")
    if result.status == "service_error":
        return BatchOutcome("service_error", detail=_error_type(result.payload))
    if result.status == "function_error" or result.function_error:
        error_type = _error_type(result.payload)
        kind: OutcomeKind = "timeout" if error_type == "Sandbox.Timedout" else "function_error"
        return BatchOutcome(kind, detail=error_type)
    if not report_item_failures:
        return BatchOutcome("success")
    failed = parse_batch_item_failures(result.payload, batch_ids)
    if failed is None:
        return BatchOutcome("invalid_response")
    if failed:
        return BatchOutcome("partial_failure", failed_ids=failed)
    return BatchOutcome("success")


def decide(
    outcome: BatchOutcome, message_ids: Sequence[str], receipt_handles: Sequence[str]
) -> Settlement:
    """Which messages to delete for ``outcome`` (a failed message is simply left alone:
    it reappears when its visibility timeout lapses, and the queue's redrive policy applies).
    """
    if outcome.kind == "success":
        return Settlement(delete=list(receipt_handles), failed_count=0, function_failed=False)
    if outcome.kind == "partial_failure":
        keep = outcome.failed_ids
        delete = [h for m, h in zip(message_ids, receipt_handles, strict=True) if m not in keep]
        return Settlement(delete=delete, failed_count=len(message_ids), function_failed=False)
    if outcome.retry_invoke:
        # never invoked (throttled until the visibility deadline): not a failed invoke
        return Settlement(delete=[], failed_count=0, function_failed=False)
    return Settlement(
        delete=[],
        failed_count=len(message_ids),
        # an unparsable partial response fails the batch but the invocation itself worked
        function_failed=outcome.kind in ("function_error", "timeout"),
    )


def _error_type(payload: bytes) -> str | None:
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict) and isinstance(body.get("errorType"), str):
        return str(body["errorType"])
    return None
