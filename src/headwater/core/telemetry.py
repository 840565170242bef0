"""``Telemetry``: the one sink services and the engine report what happened to.

Services, the mapping engine and the function runtime call these methods at the points
where AWS would publish a CloudWatch metric or where a record's journey moves on (sent,
received, invoked, moved to a DLQ, deleted). The base class does nothing, so a headwater
with observability off pays one method call per hook; the composition root installs a
recording implementation (``headwater.telemetry.Recorder``) when it is on.

Hooks take what the caller already has at hand (ARNs, ids, sizes, the invocation
result); turning them into metric names, dimensions and journey text happens later, off
the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class InvocationFacts(Protocol):
    """The fields of an invocation result telemetry needs (``runtime.InvocationResult``;
    its ``request_id`` and ``duration_ms`` are read when present)."""

    @property
    def status(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def function_error(self) -> str | None: ...


class SentMessage(Protocol):
    """What telemetry reads of a message just stored (``store.queues.NewMessage``)."""

    @property
    def message_id(self) -> str: ...
    @property
    def body(self) -> str: ...


class Telemetry:
    """Observability hooks; every method of this base class is a no-op."""

    #: Whether anything is recorded (callers may skip building arguments when False).
    enabled: bool = False

    def flush(self) -> None:
        """Make everything reported so far visible to readers (CloudWatch, journeys)."""

    # ---- SQS ----
    def sqs_sent(self, queue_arn: str, messages: Sequence[SentMessage]) -> None:
        """Messages were stored in a queue."""

    def sqs_received(self, queue_arn: str, message_ids: Sequence[str]) -> None:
        """Messages were received (``message_ids`` empty: an empty receive)."""

    def sqs_deleted(self, queue_arn: str, message_ids: Sequence[str]) -> None:
        """Messages were deleted through a receipt handle."""

    def sqs_moved(
        self, source_arn: str, target_arn: str, message_ids: Sequence[str], reason: str
    ) -> None:
        """Messages moved between queues (``reason``: "dead-letter" or "redrive")."""

    def sqs_visibility(self, queue_arn: str, message_ids: Sequence[str], seconds: int) -> None:
        """Received messages' visibility timeout was changed."""

    # ---- Lambda ----
    def lambda_started(self, function_arn: str) -> object:
        """One invocation of a function starts; what this returns goes to ``lambda_ended``
        when it ends, so the sink can tell how many run at once (ConcurrentExecutions)."""
        return None

    def lambda_ended(self, started: object, result: InvocationFacts | None) -> None:
        """The invocation ``lambda_started`` answered ``started`` for ended (any status,
        throttles included); ``result`` is ``None`` when it raised instead (nothing to
        count but that it no longer runs)."""

    # ---- event source mappings ----
    def esm_filtered(self, mapping_uuid: str, record_ids: Sequence[str]) -> None:
        """Records did not match the mapping's filter criteria and were dropped."""

    def esm_invoked(
        self,
        mapping_uuid: str,
        function_arn: str,
        record_ids: Sequence[str],
        result: InvocationFacts,
        *,
        outcome: str,
        failed_ids: Sequence[str] = (),
    ) -> None:
        """A mapping invoked its function with a batch; ``outcome`` is the settle kind."""

    # ---- DynamoDB ----
    def dynamodb_request(
        self, region: str, table: str, operation: str, latency_ms: float, returned: int | None
    ) -> None:
        """A successful request on a table (``returned``: Query/Scan item count)."""

    # ---- Kinesis ----
    def kinesis_put(self, stream_arn: str, records: Sequence[tuple[str, int]]) -> None:
        """Records (sequence number, data size) were written to a stream."""

    def kinesis_throttled(self, stream_arn: str, records: int) -> None:
        """Writes were refused for exceeding a shard's throughput."""

    def kinesis_read(self, stream_arn: str, records: int, behind_ms: float) -> None:
        """A GetRecords call returned ``records``, ``behind_ms`` behind the tip."""

    # ---- EventBridge ----
    def events_rule_triggered(self, rule_arn: str, bus: str, sent: int, failed: int) -> None:
        """A rule matched an event (or its schedule fired): ``sent`` of its targets got the
        event, ``failed`` could not be sent to."""

    def events_target_outcome(self, rule_arn: str, bus: str, metric: str) -> None:
        """One delivery of a rule's event to a target ended later than the rule matched
        (after retries): ``metric`` is the AWS/Events metric it counts in (Invocations,
        FailedInvocations, InvocationsSentToDlq, InvocationsFailedToBeSentToDlq,
        RetryInvocationAttempts)."""


#: The shared do-nothing sink.
NO_TELEMETRY = Telemetry()
