"""Publish and PublishBatch: validation, FIFO deduplication and sequencing, fan-out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sns.errors import check_arn, invalid_parameter, topic_not_found
from headwater.services.sns.messages import (
    MAX_MESSAGE_BYTES,
    Notification,
    check_message_attributes,
    check_subject,
    iso_timestamp,
    parse_structure,
)
from headwater.services.sns.subscriptions import SubscriptionOperations
from headwater.services.sns.topics import TopicView

#: FIFO topics drop a repeated deduplication id for five minutes.
DEDUP_WINDOW_SECONDS = 300.0
MAX_BATCH = 10
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")


def _sequence_text(number: int) -> str:
    return f"{10**19 + number:020d}"


class PublishOperations(SubscriptionOperations):
    """Publish, PublishBatch and the typed in-process ``publish_message``."""

    def publish_message(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, str | int | float] | None = None,
        group_id: str | None = None,
    ) -> str:
        """Publish from inside headwater (alarm actions, destinations); returns the MessageId.

        ``attributes`` are String (or Number, for numbers) message attributes. Raises
        ``AwsError`` as Publish does (a missing topic is ``NotFound``).
        """
        arn = Arn.parse(topic_arn)
        params: Params = {"TopicArn": topic_arn, "Message": message}
        if subject is not None:
            params["Subject"] = subject
        if group_id is not None:
            params["MessageGroupId"] = group_id
        if attributes:
            params["MessageAttributes"] = {
                name: {
                    "DataType": "Number" if isinstance(value, int | float) else "String",
                    "StringValue": str(value),
                }
                for name, value in attributes.items()
            }
        ctx = RequestContext(region=arn.region, account=arn.account)
        return str(self.publish(params, ctx)["MessageId"])

    def _notification(self, entry: Mapping[str, Any], topic_arn: str, fifo: bool) -> Notification:
        """Validate one message (Publish or a batch entry) into a notification."""
        message = entry.get("Message")
        if message is None or message == "":
            raise invalid_parameter("Empty message")
        message = str(message)
        subject = entry.get("Subject")
        check_subject(subject)
        attributes = entry.get("MessageAttributes") or None
        size = len(message.encode()) + check_message_attributes(attributes)
        if size > MAX_MESSAGE_BYTES:
            raise invalid_parameter("Message too long")
        structure = None
        if entry.get("MessageStructure") == "json":
            structure = parse_structure(message)
        group_id = entry.get("MessageGroupId")
        dedup_id = entry.get("MessageDeduplicationId")
        if not fifo and dedup_id is not None:
            raise invalid_parameter(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        return Notification(
            message_id=new_uuid(),
            topic_arn=topic_arn,
            message=message,
            timestamp=iso_timestamp(self.env.clock.now()),
            subject=subject,
            attributes=dict(attributes) if attributes else None,
            structure=structure,
            group_id=group_id,
            dedup_id=dedup_id,
        )

    def _check_fifo(self, note: Notification, view: TopicView) -> None:
        if note.group_id is None:
            raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
        if note.dedup_id is None:
            if view.topic.attributes.get("ContentBasedDeduplication") != "true":
                raise invalid_parameter(
                    "The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
            note.dedup_id = hashlib.sha256(note.message.encode()).hexdigest()

    def _accept(self, notes: Sequence[Notification], view: TopicView) -> list[Notification]:
        """Deduplicate and sequence FIFO notifications; returns those to deliver."""
        if not view.topic.fifo:
            return list(notes)
        now = self.env.clock.now()
        fresh: list[Notification] = []
        seen: dict[str, Notification] = {}
        for note in notes:
            assert note.dedup_id is not None
            earlier = seen.get(note.dedup_id)
            if earlier is not None:
                note.message_id = earlier.message_id
                continue
            found = self.store.find_dedup(view.topic.arn, note.dedup_id, now)
            if found is not None:
                note.message_id, note.sequence_number = found
                continue
            seen[note.dedup_id] = note
            fresh.append(note)
        if fresh:
            numbers = self.store.next_sequence_numbers(view.topic.arn, len(fresh))
            for note, number in zip(fresh, numbers, strict=True):
                note.sequence_number = _sequence_text(number)
                assert note.dedup_id is not None
                self.store.put_dedup(
                    view.topic.arn,
                    note.dedup_id,
                    note.message_id,
                    note.sequence_number,
                    now + DEDUP_WINDOW_SECONDS,
                )
        for note in notes:  # in-batch duplicates answer with the first one's numbers
            if note.sequence_number is None and note.dedup_id in seen:
                note.sequence_number = seen[note.dedup_id].sequence_number
        return fresh

    def _fan_out(self, notes: Sequence[Notification], view: TopicView) -> bool:
        """Deliver to every matching subscription (inside the transaction); True if the
        outbox got rows."""
        ctx = self.delivery_context(view.topic)
        queued = False
        for note in notes:
            for sub, policy in view.subscriptions:
                if not sub.confirmed:
                    continue
                if policy is not None and not policy.matches(
                    note.message_for(sub.protocol), note.attributes or {}
                ):
                    continue
                if sub.protocol == "sqs":
                    self.deliverer.deliver_to_queue(sub, note, ctx)
                elif sub.protocol in ("lambda", "http", "https"):
                    self.deliverer.enqueue(sub, note)
                    queued = True
        return queued

    def _publish_view(self, topic_arn: str) -> TopicView:
        view = self.topic_view(topic_arn)
        if view is None:
            raise topic_not_found()
        return view

    @operation("Publish")
    def publish(self, params: Params, ctx: RequestContext) -> Result:
        target = params.get("TopicArn") or params.get("TargetArn")
        if not target:
            phone = params.get("PhoneNumber")
            if phone:
                if not _PHONE.fullmatch(str(phone)):
                    raise invalid_parameter("PhoneNumber Reason: input incorrectly formatted")
                return {"MessageId": new_uuid()}  # SMS is recorded, not sent
            raise invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter")
        member = "TopicArn" if params.get("TopicArn") else "TargetArn"
        arn = check_arn(str(target), member)
        if arn.service == "sns" and arn.resource.startswith("endpoint/"):
            raise invalid_parameter(
                "TargetArn Reason: No endpoint found for the target arn specified"
            )
        if arn.region != ctx.region:
            raise invalid_parameter(member)
        with self.store.db.transaction():
            view = self._publish_view(str(arn))
            note = self._notification(params, view.topic.arn, view.topic.fifo)
            if view.topic.fifo:
                self._check_fifo(note, view)
            fresh = self._accept([note], view)
            queued = self._fan_out(fresh, view)
        if queued:
            self.deliverer.kick()
        result: Result = {"MessageId": note.message_id}
        if note.sequence_number is not None:
            result["SequenceNumber"] = note.sequence_number
        return result

    @operation("PublishBatch")
    def publish_batch(self, params: Params, ctx: RequestContext) -> Result:
        topic_arn = self._topic_arn(params, ctx)
        entries: list[dict[str, Any]] = list(params.get("PublishBatchRequestEntries") or [])
        if not entries:
            raise AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH:
            raise AwsError(
                "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible.",
            )
        ids = [str(e.get("Id", "")) for e in entries]
        for entry_id in ids:
            if len(entry_id) > 80:
                raise AwsError(
                    "InvalidBatchEntryId",
                    f"The Id of a batch entry in the batch request is too long: {entry_id}",
                )
            if not _ENTRY_ID.fullmatch(entry_id):
                raise AwsError(
                    "InvalidBatchEntryId",
                    "The Id of a batch entry in the batch request contains an impermissible "
                    f"character: {entry_id}",
                )
        if len(set(ids)) != len(ids):
            raise AwsError(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            )
        total = sum(
            len(str(e.get("Message") or "").encode())
            + check_message_attributes(e.get("MessageAttributes") or None)
            for e in entries
        )
        if total > MAX_MESSAGE_BYTES:
            raise AwsError(
                "BatchRequestTooLong",
                "The length of all the messages put together is more than the limit.",
            )
        with self.store.db.transaction():
            view = self._publish_view(topic_arn)
            notes = [self._notification(e, topic_arn, view.topic.fifo) for e in entries]
            if view.topic.fifo:
                for note in notes:
                    self._check_fifo(note, view)
            fresh = self._accept(notes, view)
            queued = self._fan_out(fresh, view)
        if queued:
            self.deliverer.kick()
        successful = []
        for entry_id, note in zip(ids, notes, strict=True):
            item: dict[str, Any] = {"Id": entry_id, "MessageId": note.message_id}
            if note.sequence_number is not None:
                item["SequenceNumber"] = note.sequence_number
            successful.append(item)
        return {"Successful": successful, "Failed": []}
