"""Message operations: send, receive (with long polling), delete, change visibility."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sqs.delivery import (
    Delivery,
    ReceivePath,
    system_attributes,
    user_attributes,
)
from headwater.services.sqs.errors import (
    invalid_parameter,
    invalid_value,
    missing_parameter,
    receipt_handle_invalid,
    sqs_error,
)
from headwater.services.sqs.message_digest import (
    content_dedup_id,
    md5_of_attributes,
    md5_of_body,
)
from headwater.services.sqs.queue_access import QueueAccess, ResolvedQueue
from headwater.services.sqs.validation import (
    MAX_BATCH_BYTES,
    check_batch,
    check_body,
    check_fifo_id,
    check_integer,
    check_message_attributes,
    decode_receipt_handle,
    encode_attributes,
    normalized_attributes,
    select_attributes,
)
from headwater.store.queues import (
    DEDUP_WINDOW_SECONDS,
    DedupEntry,
    NewMessage,
    StoredMessage,
)

MAX_VISIBILITY_TIMEOUT = 43_200
_BEYOND_VISIBILITY_LIMIT = (
    f"Total VisibilityTimeout for the message is beyond the limit "
    f"[{MAX_VISIBILITY_TIMEOUT} seconds]"
)
#: How long a FIFO ReceiveRequestAttemptId replays its receive.
RECEIVE_ATTEMPT_SECONDS = 300.0
#: Remembered attempts before expired ones are swept.
MAX_REMEMBERED_ATTEMPTS = 10_000
NOT_FOR_QUEUE_TYPE = "The request include parameter that is not valid for this queue type."


def _system_attributes_of(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(AWSTraceHeader, MD5OfMessageSystemAttributes) from MessageSystemAttributes."""
    given = entry.get("MessageSystemAttributes")
    if not given:
        return None, None
    for name, value in given.items():
        if name != "AWSTraceHeader":
            raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        if value.get("DataType") != "String" or not value.get("StringValue"):
            raise invalid_parameter(
                "Message system attribute 'AWSTraceHeader' must contain a non-empty value of "
                "type 'String'."
            )
    trace = str(given["AWSTraceHeader"]["StringValue"])
    digest = md5_of_attributes({"AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
    return trace, digest


class MessageOperations:
    """SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch), ChangeMessageVisibility(Batch)."""

    def __init__(self, access: QueueAccess, delivery: ReceivePath) -> None:
        self.access = access
        self.delivery = delivery

    # -- send -----------------------------------------------------------------------------
    def _validate_entry(
        self, queue: ResolvedQueue, entry: Mapping[str, Any], ctx: RequestContext, *, batch: bool
    ) -> tuple[NewMessage, str | None]:
        """Validate one send; returns the message (no sequence number yet) and system MD5.

        ``batch``: a SendMessageBatch entry, whose size error AWS words differently.
        """
        settings = queue.settings
        body: str = entry["MessageBody"]
        check_body(body)
        raw_attributes = entry.get("MessageAttributes")
        attributes_size = check_message_attributes(raw_attributes)
        size = len(body.encode("utf-8")) + attributes_size
        if size > settings.maximum_message_size:
            wording = "cannot be validated" if batch else "are invalid"
            raise invalid_parameter(
                f"One or more parameters {wording}. Reason: Message must be shorter than "
                f"{settings.maximum_message_size} bytes."
            )
        trace, system_md5 = _system_attributes_of(entry)
        delay = entry.get("DelaySeconds")
        group_id = entry.get("MessageGroupId")
        dedup_id = entry.get("MessageDeduplicationId")
        check_fifo_id(group_id, "MessageGroupId")
        check_fifo_id(dedup_id, "MessageDeduplicationId")
        if settings.fifo:
            if delay is not None and int(delay) != 0:
                raise invalid_value(delay, "DelaySeconds", NOT_FOR_QUEUE_TYPE)
            if group_id is None:
                raise missing_parameter("MessageGroupId")
            if dedup_id is None:
                if not settings.content_based_dedup:
                    raise invalid_parameter(
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly"
                    )
                dedup_id = content_dedup_id(body)
        elif dedup_id is not None:
            raise invalid_value(dedup_id, "MessageDeduplicationId", NOT_FOR_QUEUE_TYPE)
        delay_seconds = check_integer(
            delay, "DelaySeconds", 0, 900, "DelaySeconds must be >= 0 and <= 900."
        )
        if delay_seconds is None or settings.fifo:
            # FIFO queues only take DelaySeconds=0 per message, and that 0 leaves the
            # queue's own delay in force (AWS-recorded).
            delay_seconds = settings.delay_seconds
        encoded = None
        attributes_md5 = None
        if raw_attributes:
            normalized = normalized_attributes(raw_attributes)
            encoded = encode_attributes(normalized)
            attributes_md5 = md5_of_attributes(normalized)
        now = self.access.now()
        message = NewMessage(
            message_id=new_uuid(),
            body=body,
            md5_of_body=md5_of_body(body),
            message_attributes=encoded,
            md5_of_message_attributes=attributes_md5,
            sent_at=now,
            visible_at=now + delay_seconds,
            sender_id=ctx.account,  # AWS shows the caller's principal id; one account here
            group_id=group_id,
            dedup_id=dedup_id if settings.fifo else None,
            trace_header=trace,
        )
        return message, system_md5

    def _send_entries(
        self,
        queue: ResolvedQueue,
        entries: Sequence[Mapping[str, Any]],
        ctx: RequestContext,
        *,
        raise_errors: bool,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[NewMessage]]:
        """Validate and enqueue entries (inside the transaction).

        Returns (successful results, failed entries, stored messages). FIFO queues drop
        duplicates of ids seen in the last 5 minutes (or earlier in this batch) and give
        every new message the next sequence number.
        """
        now = self.access.now()
        fifo = queue.settings.fifo
        per_group = queue.settings.dedup_per_group
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        accepted: list[NewMessage] = []
        #: FIFO results that take the sequence number of a message accepted in this batch.
        awaiting_sequence: list[tuple[dict[str, Any], NewMessage]] = []
        seen: dict[tuple[str, str], NewMessage] = {}
        #: FIFO messages new to this batch, with their results (dedup not checked yet).
        candidates: list[tuple[dict[str, Any], NewMessage]] = []
        for entry in entries:
            try:
                message, system_md5 = self._validate_entry(
                    queue, entry, ctx, batch=not raise_errors
                )
            except AwsError as error:
                if raise_errors:
                    raise
                failed.append(_failure(entry["Id"], error))
                continue
            result: dict[str, Any] = {"MessageId": message.message_id}
            if "Id" in entry:
                result = {"Id": entry["Id"], **result}
            result["MD5OfMessageBody"] = message.md5_of_body
            if message.md5_of_message_attributes is not None:
                result["MD5OfMessageAttributes"] = message.md5_of_message_attributes
            if system_md5 is not None:
                result["MD5OfMessageSystemAttributes"] = system_md5
            successful.append(result)
            if not fifo:
                accepted.append(message)
                continue
            assert message.dedup_id is not None
            key = ((message.group_id or "") if per_group else "", message.dedup_id)
            earlier = seen.get(key)
            if earlier is not None:
                awaiting_sequence.append((result, earlier))
                continue
            seen[key] = message
            candidates.append((result, message))
        if fifo and candidates:
            # Sequence numbers first, so the dedup check-and-insert is one store call (a
            # duplicate leaves a gap in the numbers, which SQS allows: they only increase).
            numbers = self.access.store.next_sequence_numbers(queue.record, len(candidates))
            for (_, message), number in zip(candidates, numbers, strict=True):
                message.sequence_number = self.delivery.format_sequence(number)
            remembered = self.access.store.claim_dedup(
                queue.record,
                [
                    DedupEntry(
                        scope,
                        dedup_id,
                        message.message_id,
                        message.sequence_number,
                        now + DEDUP_WINDOW_SECONDS,
                    )
                    for (scope, dedup_id), message in seen.items()
                ],
                now,
            )
            for result, message in candidates:
                assert message.dedup_id is not None
                key = ((message.group_id or "") if per_group else "", message.dedup_id)
                duplicate = remembered.get(key)
                if duplicate is None:
                    accepted.append(message)
                    result["SequenceNumber"] = message.sequence_number
                    continue
                # A duplicate of a message sent in the last 5 minutes: its id, not stored.
                message.message_id, message.sequence_number = duplicate
                result["MessageId"] = duplicate[0]
                if duplicate[1] is not None:
                    result["SequenceNumber"] = duplicate[1]
            for result, message in awaiting_sequence:
                result["MessageId"] = message.message_id
                if message.sequence_number is not None:
                    result["SequenceNumber"] = message.sequence_number
        if accepted:
            self.access.store.insert_messages(queue.record, accepted)
            self.access.env.telemetry.sqs_sent(queue.arn, accepted)
        return successful, failed, accepted

    @operation("SendMessage")
    def send_message(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            (result,), _, stored = self._send_entries(queue, [params], ctx, raise_errors=True)
        if stored:
            self.access.notify((queue.arn,))
        return result

    @operation("SendMessageBatch")
    def send_message_batch(self, params: Params, ctx: RequestContext) -> Result:
        entries: Sequence[Mapping[str, Any]] = params["Entries"]
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            check_batch(entries, "SendMessageBatchRequestEntry")
            if queue.settings.fifo:
                _check_fifo_batch(entries, queue.settings.content_based_dedup)
            total = 0
            for entry in entries:
                total += len(entry["MessageBody"].encode("utf-8"))
                total += check_message_attributes_size(entry.get("MessageAttributes"))
            if total > MAX_BATCH_BYTES:
                raise sqs_error(
                    "BatchRequestTooLong",
                    f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. "
                    f"You have sent {total} bytes.",
                )
            successful, failed, stored = self._send_entries(queue, entries, ctx, raise_errors=False)
        if stored:
            self.access.notify((queue.arn,))
        return _batch_result(successful, failed)

    # -- receive --------------------------------------------------------------------------
    @operation("ReceiveMessage")
    def receive_message(self, params: Params, ctx: RequestContext) -> Result:
        max_messages = check_integer(
            params.get("MaxNumberOfMessages"),
            "MaxNumberOfMessages",
            1,
            10,
            "Must be between 1 and 10, if provided.",
        )
        visibility = check_integer(
            params.get("VisibilityTimeout"),
            "VisibilityTimeout",
            0,
            MAX_VISIBILITY_TIMEOUT,
            "Must be >= 0 and <= 43200, if provided.",
        )
        wait = check_integer(
            params.get("WaitTimeSeconds"),
            "WaitTimeSeconds",
            0,
            20,
            "Must be >= 0 and <= 20, if provided.",
        )
        attempt_id: str | None = params.get("ReceiveRequestAttemptId")
        check_fifo_id(attempt_id, "ReceiveRequestAttemptId")
        url = params["QueueUrl"]
        with self.access.db.transaction():
            queue = self.access.resolve_url(url, ctx)
        if wait is None:
            wait = queue.settings.wait_seconds

        def attempt() -> tuple[list[Delivery], float | None]:
            moved_to: set[str] = set()
            with self.access.db.transaction():
                current = self.access.resolve_url(url, ctx)
                timeout = current.settings.visibility_timeout if visibility is None else visibility
                now = self.access.now()
                replay_key = None
                if attempt_id is not None and current.record.fifo:
                    replay_key = (current.record.queue_id, attempt_id)
                    replayed = self._replay_receive(current, replay_key, now, timeout)
                    if replayed is not None:
                        return replayed, None
                deliveries = self.delivery.receive_now(
                    current, now, max_messages or 1, timeout, moved_to
                )
                if replay_key is not None and deliveries:
                    self._remember_receive(replay_key, deliveries, now)
                next_visible = (
                    None if deliveries else self.access.store.next_visible_at(current.record, now)
                )
            if moved_to:
                self.access.notify(moved_to)
            return deliveries, next_visible

        deliveries = self.access.receive_waiting(attempt, wait)
        if not deliveries:
            return {}
        system_names = set(params.get("MessageSystemAttributeNames") or ())
        system_names.update(params.get("AttributeNames") or ())
        attribute_names = params.get("MessageAttributeNames")
        return {"Messages": [_render(d, system_names, attribute_names) for d in deliveries]}

    def _replay_receive(
        self, queue: ResolvedQueue, key: tuple[int, str], now: float, timeout: int
    ) -> list[Delivery] | None:
        """FIFO ReceiveRequestAttemptId: the same messages and handles within 5 minutes.

        Only while none of them was deleted or received again; their visibility restarts.
        """
        remembered = self.access.receive_attempts.get(key)
        if remembered is None or remembered[0] <= now:
            return None
        deliveries: list[Delivery] = []
        for handle in remembered[1]:
            _, row_id, generation, message_id = decode_receipt_handle(handle)
            message = self.access.store.get_message(queue.record, row_id)
            if message is None or message.receive_count != generation:
                return None
            if message.message_id != message_id:
                return None
            deliveries.append(Delivery(message, handle))
        for delivery in deliveries:
            message = delivery.message
            message.visible_at = now + timeout
            self.access.store.set_visible_at(
                queue.record, message.row_id, message.group_id, now + timeout
            )
        return deliveries

    def _remember_receive(
        self, key: tuple[int, str], deliveries: list[Delivery], now: float
    ) -> None:
        if len(self.access.receive_attempts) >= MAX_REMEMBERED_ATTEMPTS:
            for stale in [k for k, v in self.access.receive_attempts.items() if v[0] <= now]:
                del self.access.receive_attempts[stale]
        self.access.receive_attempts[key] = (
            now + RECEIVE_ATTEMPT_SECONDS,
            [d.receipt_handle for d in deliveries],
        )

    # -- delete ---------------------------------------------------------------------------
    def _current_message(self, queue: ResolvedQueue, handle: str) -> StoredMessage | None:
        """The message ``handle`` names if the handle is its latest receive; else None."""
        queue_id, row_id, generation, message_id = decode_receipt_handle(handle)
        if queue_id != queue.record.queue_id:
            raise receipt_handle_invalid(handle)
        message = self.access.store.get_message(queue.record, row_id)
        if message is None or message.receive_count != generation:
            return None
        if message.message_id != message_id:
            return None
        return message

    def _receipt_key(self, queue: ResolvedQueue, handle: str) -> tuple[int, int, str]:
        """(row id, receive count, message id) a handle names; it must be this queue's."""
        queue_id, row_id, generation, message_id = decode_receipt_handle(handle)
        if queue_id != queue.record.queue_id:
            raise receipt_handle_invalid(handle)
        return row_id, generation, message_id

    def _deletable_key(self, queue: ResolvedQueue, handle: str, now: float) -> tuple[int, int, str]:
        """The store key of the message ``handle`` deletes.

        A standard queue deletes with any handle of the latest receive, even after its
        visibility timeout lapsed; a stale one (received again since) deletes nothing yet
        succeeds. A FIFO queue refuses a handle whose visibility timeout has lapsed, and
        the message comes back (AWS-recorded).
        """
        key = self._receipt_key(queue, handle)
        if queue.record.fifo:
            message = self.access.store.get_message(queue.record, key[0])
            if (
                message is not None
                and message.message_id == key[2]
                and (message.receive_count != key[1] or message.visible_at <= now)
            ):
                raise invalid_value(handle, "ReceiptHandle", "The receipt handle has expired.")
        return key

    @operation("DeleteMessage")
    def delete_message(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            key = self._deletable_key(queue, params["ReceiptHandle"], self.access.now())
            self.access.store.delete_received(queue.record, [key])
        self.access.env.telemetry.sqs_deleted(queue.arn, [key[2]])
        return {}

    @operation("DeleteMessageBatch")
    def delete_message_batch(self, params: Params, ctx: RequestContext) -> Result:
        entries: Sequence[Mapping[str, Any]] = params["Entries"]
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            check_batch(entries, "DeleteMessageBatchRequestEntry")
            keys: list[tuple[int, int, str]] = []
            now = self.access.now()
            result = _each_entry(
                entries,
                lambda entry: keys.append(self._deletable_key(queue, entry["ReceiptHandle"], now)),
            )
            self.access.store.delete_received(queue.record, keys)
        self.access.env.telemetry.sqs_deleted(queue.arn, [key[2] for key in keys])
        return result

    # -- visibility -----------------------------------------------------------------------
    def _change_visibility(
        self, queue: ResolvedQueue, handle: str, timeout: Any, now: float
    ) -> None:
        seconds = int(timeout)
        if not 0 <= seconds <= MAX_VISIBILITY_TIMEOUT:
            raise invalid_value(seconds, "VisibilityTimeout", _BEYOND_VISIBILITY_LIMIT)
        message = self._current_message(queue, handle)
        if message is None:
            raise invalid_value(
                handle,
                "ReceiptHandle",
                "Message does not exist or is not available for visibility timeout change.",
            )
        # A message whose visibility timeout lapsed, and that nobody received since, is
        # hidden again: AWS answers 200 here (recorded), not MessageNotInflight.
        received_at = now if message.received_at is None else message.received_at
        if now + seconds - received_at > MAX_VISIBILITY_TIMEOUT:
            raise invalid_value(seconds, "VisibilityTimeout", _BEYOND_VISIBILITY_LIMIT)
        self.access.store.set_visible_at(
            queue.record, message.row_id, message.group_id, now + seconds
        )
        self.access.env.telemetry.sqs_visibility(queue.arn, [message.message_id], seconds)

    @operation("ChangeMessageVisibility")
    def change_message_visibility(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            self._change_visibility(
                queue, params["ReceiptHandle"], params["VisibilityTimeout"], self.access.now()
            )
        self.access.notify((queue.arn,))
        return {}

    @operation("ChangeMessageVisibilityBatch")
    def change_message_visibility_batch(self, params: Params, ctx: RequestContext) -> Result:
        entries: Sequence[Mapping[str, Any]] = params["Entries"]
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
            now = self.access.now()
            result = _each_entry(
                entries,
                lambda entry: self._change_visibility(
                    queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout", 0), now
                ),
            )
        if result.get("Successful"):
            self.access.notify((queue.arn,))
        return result


def check_message_attributes_size(attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes user attributes add to a message (names, types, values); no validation."""
    if not attributes:
        return 0
    size = 0
    for name, attribute in attributes.items():
        size += len(name.encode("utf-8")) + len(str(attribute.get("DataType", "")).encode())
        value = attribute.get("StringValue")
        if value is not None:
            size += len(str(value).encode("utf-8"))
        binary = attribute.get("BinaryValue")
        if binary is not None:
            size += len(binary) if isinstance(binary, bytes | bytearray) else len(str(binary))
    return size


def _check_fifo_batch(entries: Sequence[Mapping[str, Any]], content_based: bool) -> None:
    """FIFO batch entries without a group or dedup id fail the whole request, as in SQS."""
    for entry in entries:
        if entry.get("MessageGroupId") is None:
            raise invalid_parameter("The request must contain the parameter MessageGroupId.")
        if entry.get("MessageDeduplicationId") is None and not content_based:
            raise invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )


def _each_entry(
    entries: Sequence[Mapping[str, Any]], action: Callable[[Mapping[str, Any]], object]
) -> dict[str, list[dict[str, Any]]]:
    """A batch response: ``action`` on each entry; an AWS error fails that entry only."""
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            action(entry)
        except AwsError as error:
            failed.append(_failure(entry["Id"], error))
            continue
        successful.append({"Id": entry["Id"]})
    return _batch_result(successful, failed)


def _batch_result(
    successful: list[dict[str, Any]], failed: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """A batch response; AWS leaves an empty list out (recorded), though the model says
    both are required."""
    result: dict[str, list[dict[str, Any]]] = {}
    if successful:
        result["Successful"] = successful
    if failed:
        result["Failed"] = failed
    return result


def _failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault,
        "Code": error.query_code or error.code,
        "Message": error.message,
    }


def _render(
    delivery: Delivery, system_names: set[str], attribute_names: Sequence[str] | None
) -> dict[str, Any]:
    message = delivery.message
    rendered: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": delivery.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    if system_names:
        everything = system_attributes(message)
        if "All" not in system_names:
            everything = {k: v for k, v in everything.items() if k in system_names}
        if everything:
            rendered["Attributes"] = everything
    if attribute_names and message.message_attributes is not None:
        chosen = select_attributes(user_attributes(message), attribute_names)
        if chosen:
            rendered["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
            rendered["MessageAttributes"] = chosen
    return rendered
