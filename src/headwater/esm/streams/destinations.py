"""On-failure destination records for stream mappings (reference §4.5) and their delivery.

Delivery goes through a ``DestinationSender`` (the local one is in ``headwater.wiring``). A
record that cannot be delivered (a destination that is gone or cannot take it) counts as a
``DestinationDeliveryFailures`` and its records as dropped, as on AWS; the mapping keeps going.
"""

from __future__ import annotations

from typing import Any, Protocol

from headwater.core.ids import new_uuid
from headwater.esm.streams.source import StreamSource, iso_millis
from headwater.esm.streams.stream_settle import RECORD_AGE_EXCEEDED, Discard


def failure_record(
    discard: Discard, *, function_arn: str, shard_id: str, source: StreamSource, now: float
) -> dict[str, Any]:
    """The on-failure record AWS sends to SQS/SNS destinations (metadata only)."""
    records = discard.records
    request: dict[str, Any] = {
        "requestId": discard.request_id or new_uuid(),
        "functionArn": function_arn,
        "condition": discard.condition,
        "approximateInvokeCount": discard.invoke_count,
    }
    body: dict[str, Any] = {"requestContext": request}
    if discard.condition != RECORD_AGE_EXCEEDED:
        body["responseContext"] = {
            "statusCode": 200,
            "executedVersion": discard.executed_version or "$LATEST",
            "functionError": discard.function_error,
        }
    body["version"] = "1.0"
    body["timestamp"] = iso_millis(now)
    body[source.batch_info_key] = {
        "shardId": shard_id,
        "startSequenceNumber": records[0].message_id,
        "endSequenceNumber": records[-1].message_id,
        "approximateArrivalOfFirstRecord": source.arrival_text(records[0].sent_timestamp),
        "approximateArrivalOfLastRecord": source.arrival_text(records[-1].sent_timestamp),
        "batchSize": len(records),
        "streamArn": source.arn,
    }
    return body


class DestinationSender(Protocol):
    """Delivers one failure record to an on-failure destination ARN (SQS, SNS, S3)."""

    def send(self, destination_arn: str, body: dict[str, Any]) -> bool:
        """``True`` once delivered; ``False`` (never an exception) if delivery failed."""
        ...


class OnFailureDestination:
    """Sends failure records to the mapping's ``DestinationConfig.OnFailure`` target."""

    def __init__(self, sender: DestinationSender | None, destination_arn: str | None) -> None:
        self._sender = sender
        self.arn = destination_arn or None

    def deliver(self, body: dict[str, Any]) -> bool:
        """Send one failure record; ``False`` if it could not be delivered."""
        if self.arn is None or self._sender is None:
            return False
        return self._sender.send(self.arn, body)
