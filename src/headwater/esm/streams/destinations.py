"""On-failure destination records for stream mappings (reference §4.5) and their delivery.

Delivery goes through a ``DestinationSender`` (the local one is in ``headwater.wiring``). A
record that cannot be delivered (a destination that is gone or cannot take it) counts as a
``DestinationDeliveryFailures`` and its records as dropped, as on AWS; the mapping keeps going.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from headwater.core.ids import new_uuid
from headwater.core.values import iso_millis
from headwater.esm.streams.source import StreamSource
from headwater.esm.streams.stream_settle import RECORD_AGE_EXCEEDED, Discard

#: Body key naming the object an S3 destination writes (read and removed by the sender).
S3_KEY_FIELD = "__headwater_s3_key__"


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


def s3_object_key(mapping_uuid: str, shard_id: str, now: float) -> str:
    """Where an S3 on-failure destination gets a record (AWS's documented layout):
    ``aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``."""
    moment = datetime.fromtimestamp(now, UTC)
    return (
        f"aws/lambda/{mapping_uuid}/{shard_id}/{moment:%Y/%m/%d}/"
        f"{moment:%Y-%m-%dT%H.%M.%S}-{new_uuid()}"
    )


class OnFailureDestination:
    """Sends failure records to the mapping's ``DestinationConfig.OnFailure`` target."""

    def __init__(self, sender: DestinationSender | None, destination_arn: str | None) -> None:
        self._sender = sender
        self.arn = destination_arn or None

    @property
    def is_s3(self) -> bool:
        return bool(self.arn and self.arn.startswith("arn:") and self.arn.split(":")[2] == "s3")

    def deliver(
        self,
        body: dict[str, Any],
        *,
        payload: bytes | None = None,
        object_key: str | None = None,
    ) -> bool:
        """Send one failure record; ``False`` if it could not be delivered.

        S3 destinations also get the invocation ``payload`` (as a JSON string, as AWS adds
        it) and are written under ``object_key``.
        """
        if self.arn is None or self._sender is None:
            return False
        if self.is_s3:
            body = {**body, "payload": (payload or b"").decode("utf-8", "replace")}
            body[S3_KEY_FIELD] = object_key or ""
        return self._sender.send(self.arn, body)
