"""Receiving: visibility, receive counts, retention expiry, redrive to the DLQ, long polls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.services.sqs.queue_access import QueueAccess, ResolvedQueue
from headwater.services.sqs.validation import decode_attributes, encode_receipt_handle
from headwater.store.queues import NewMessage, StoredMessage

FIFO_SEQUENCE_BASE = 18_000_000_000_000_000_000


@dataclass(slots=True)
class Delivery:
    """One received message and the handle for this receive."""

    message: StoredMessage
    receipt_handle: str


def system_attributes(message: StoredMessage) -> dict[str, str]:
    """All system attributes of a received message, as SQS reports them (strings, ms)."""
    attributes = {
        "SenderId": message.sender_id,
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_receive_at or 0.0) * 1000)),
    }
    if message.sequence_number is not None:
        attributes["SequenceNumber"] = message.sequence_number
    if message.dedup_id is not None:
        attributes["MessageDeduplicationId"] = message.dedup_id
    if message.group_id is not None:
        attributes["MessageGroupId"] = message.group_id
    if message.trace_header is not None:
        attributes["AWSTraceHeader"] = message.trace_header
    if message.dead_letter_source_arn is not None:
        attributes["DeadLetterQueueSourceArn"] = message.dead_letter_source_arn
    return attributes


def user_attributes(message: StoredMessage) -> dict[str, dict[str, Any]]:
    if message.message_attributes is None:
        return {}
    return decode_attributes(message.message_attributes)


class ReceivePath:
    """The receive path shared by ReceiveMessage, move tasks and the ESM engine's API
    (a part of ``SqsService``)."""

    def __init__(self, access: QueueAccess) -> None:
        self.access = access

    def format_sequence(self, number: int) -> str:
        return str(FIFO_SEQUENCE_BASE + number)

    def receive_now(
        self,
        queue: ResolvedQueue,
        now: float,
        max_messages: int,
        visibility_timeout: int,
        moved_to: set[str],
    ) -> list[Delivery]:
        """Receive up to ``max_messages`` (inside a transaction); never blocks.

        Expired messages are dropped first; a message whose receive would exceed the
        redrive policy's ``maxReceiveCount`` moves to the DLQ instead (its ARN is added
        to ``moved_to`` so the caller can wake the DLQ's listeners after commit).
        """
        record, settings = queue.record, queue.settings
        self.access.store.delete_sent_before(record, now - settings.retention_seconds)
        redrive = settings.redrive
        dlq = None if redrive is None else self.access.resolve_arn(redrive.dead_letter_target_arn)
        visible_at = now + visibility_timeout
        max_receives = None if redrive is None or dlq is None else redrive.max_receive_count
        deliveries: list[Delivery] = []
        while len(deliveries) < max_messages:
            received, dead = self.access.store.claim_receivable(
                record, now, max_messages - len(deliveries), visible_at, max_receives
            )
            for message in received:
                handle = encode_receipt_handle(
                    record.queue_id, message.row_id, message.receive_count, message.message_id
                )
                deliveries.append(Delivery(message, handle))
            if not dead:
                break
            assert dlq is not None
            # Moved in this transaction, so the next claim looks past them.
            self.move_messages(queue, dlq, dead, now, source_arn=queue.arn)
            self.access.env.telemetry.sqs_moved(
                queue.arn, dlq.arn, [m.message_id for m in dead], "dead-letter"
            )
            moved_to.add(dlq.arn)
        self.access.env.telemetry.sqs_received(
            queue.arn, [d.message.message_id for d in deliveries]
        )
        return deliveries

    def move_messages(
        self,
        source: ResolvedQueue,
        target: ResolvedQueue,
        messages: list[StoredMessage],
        now: float,
        *,
        source_arn: str | None,
    ) -> None:
        """Move messages (same MessageId, body, attributes) to ``target``.

        ``source_arn`` is recorded as DeadLetterQueueSourceArn when moving into a DLQ, and
        cleared (``None``) when a move task redrives messages back.
        """
        sequences: list[int] = []
        if target.record.fifo:
            sequences = self.access.store.next_sequence_numbers(target.record, len(messages))
        moved = [
            NewMessage(
                message_id=m.message_id,
                body=m.body,
                md5_of_body=m.md5_of_body,
                message_attributes=m.message_attributes,
                md5_of_message_attributes=m.md5_of_message_attributes,
                # Standard queues keep the original enqueue time (retention counts from it);
                # FIFO queues reset it on redrive, as SQS documents.
                sent_at=now if target.record.fifo else m.sent_at,
                visible_at=now,
                sender_id=m.sender_id,
                group_id=m.group_id if target.record.fifo else None,
                dedup_id=m.dedup_id if target.record.fifo else None,
                sequence_number=(
                    self.format_sequence(sequences[i]) if target.record.fifo else None
                ),
                trace_header=m.trace_header,
                dead_letter_source_arn=source_arn,
                # Into a DLQ a message keeps its receive count and first receive time: its
                # first DLQ receive shows one more than its last source receive (AWS-
                # recorded). A move task back out starts them afresh.
                receive_count=m.receive_count if source_arn is not None else 0,
                first_receive_at=m.first_receive_at if source_arn is not None else None,
            )
            for i, m in enumerate(messages)
        ]
        self.access.store.delete_messages(source.record, messages)
        self.access.store.insert_messages(target.record, moved)
