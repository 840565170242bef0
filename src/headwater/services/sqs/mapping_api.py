"""The typed, non-boto3 API the ESM engine uses to consume queues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from headwater.services.sqs.delivery import ReceivePath, system_attributes, user_attributes
from headwater.services.sqs.queue_access import QueueAccess, QueueInfo
from headwater.services.sqs.validation import decode_receipt_handle
from headwater.store.queues import StoredMessage


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message received for an event source mapping (fields of the Lambda SQS record)."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    md5_of_message_attributes: str | None
    sent_timestamp: float


class MappingOperations:
    """queue_info, receive/delete/change visibility for mappings, wake-up hints."""

    def __init__(self, access: QueueAccess, delivery: ReceivePath) -> None:
        self.access = access
        self.delivery = delivery

    def queue_info(self, queue_arn: str) -> QueueInfo:
        """Facts about a queue; raises QueueDoesNotExist."""
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
        record = queue.record
        if self.access.env.endpoint_url:
            url = f"{self.access.env.endpoint_url.rstrip('/')}/{record.account}/{record.name}"
        else:
            url = self.access.queue_url(record)
        return QueueInfo(
            arn=queue.arn,
            name=record.name,
            url=url,
            region=record.region,
            fifo=record.fifo,
            visibility_timeout=queue.settings.visibility_timeout,
        )

    def receive_for_mapping(
        self, queue_arn: str, max_messages: int, visibility_timeout: int | None = None
    ) -> list[ReceivedMessage]:
        """Receive up to ``max_messages`` now (one transaction, full SQS semantics)."""
        moved_to: set[str] = set()
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
            timeout = (
                queue.settings.visibility_timeout
                if visibility_timeout is None
                else visibility_timeout
            )
            deliveries = self.delivery.receive_now(
                queue, self.access.now(), max_messages, timeout, moved_to
            )
        if moved_to:
            self.access.notify(moved_to)
        return [
            ReceivedMessage(
                message_id=d.message.message_id,
                receipt_handle=d.receipt_handle,
                body=d.message.body,
                md5_of_body=d.message.md5_of_body,
                attributes=system_attributes(d.message),
                message_attributes=user_attributes(d.message),
                md5_of_message_attributes=d.message.md5_of_message_attributes,
                sent_timestamp=d.message.sent_at,
            )
            for d in deliveries
        ]

    def _handles_to_messages(
        self, queue_id: int, handles: Sequence[str], lookup: Any
    ) -> list[StoredMessage]:
        found: list[StoredMessage] = []
        for handle in handles:
            handle_queue, row_id, generation, message_id = decode_receipt_handle(handle)
            if handle_queue != queue_id:
                continue
            message = lookup(row_id)
            if (
                message is not None
                and message.receive_count == generation
                and message.message_id == message_id
            ):
                found.append(message)
        return found

    def delete_for_mapping(self, queue_arn: str, receipt_handles: Sequence[str]) -> int:
        """Delete by receipt handles in one transaction; returns how many were deleted."""
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
            record = queue.record
            keys = []
            for handle in receipt_handles:
                queue_id, row_id, generation, message_id = decode_receipt_handle(handle)
                if queue_id == record.queue_id:
                    keys.append((row_id, generation, message_id))
            deleted = self.access.store.delete_received(record, keys)
        self.access.env.telemetry.sqs_deleted(queue.arn, [key[2] for key in keys])
        return deleted

    def change_visibility_for_mapping(
        self, queue_arn: str, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> None:
        """Set the visibility of received messages (stale handles are skipped)."""
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
            record = queue.record
            now = self.access.now()
            messages = self._handles_to_messages(
                record.queue_id,
                receipt_handles,
                lambda row_id: self.access.store.get_message(record, row_id),
            )
            for message in messages:
                self.access.store.set_visible_at(
                    record, message.row_id, message.group_id, now + visibility_timeout
                )
        if messages:
            self.access.notify((queue.arn,))
            ids = [m.message_id for m in messages]
            self.access.env.telemetry.sqs_visibility(queue.arn, ids, visibility_timeout)

    def next_visible_at(self, queue_arn: str, after: float | None = None) -> float | None:
        """Earliest clock time after ``after`` (default: now) a message becomes visible.

        A poller passes the time of its last receive: a message that became visible since
        then was not received yet, and must still count as a reason to wake up.
        """
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
            return self.access.store.next_visible_at(
                queue.record, self.access.now() if after is None else after
            )

    def approximate_age_of_oldest_message(self, queue_arn: str) -> float:
        """Seconds since the oldest message still in the queue was sent (0 when empty)."""
        with self.access.db.transaction():
            queue = self.access.require_arn(queue_arn)
            now = self.access.now()
            self.access.store.delete_sent_before(
                queue.record, now - queue.settings.retention_seconds
            )
            oldest = self.access.store.oldest_sent_at(queue.record)
        return 0.0 if oldest is None else max(0.0, now - oldest)


__all__ = ["MappingOperations", "ReceivedMessage"]
