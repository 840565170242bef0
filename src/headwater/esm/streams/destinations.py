"""On-failure destination records for stream mappings (reference §4.5) and their delivery.

Only SQS queues exist in headwater: a batch discarded towards an SNS topic or an S3 bucket
(or a FIFO queue, or a queue that is gone) counts as a ``DestinationDeliveryFailures`` and
its records as dropped, as on AWS when delivery fails; the mapping keeps going.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from headwater.core.arn import Arn
from headwater.core.ids import new_uuid
from headwater.esm.streams.source import StreamSource, iso_millis
from headwater.esm.streams.stream_settle import RECORD_AGE_EXCEEDED, Discard
from headwater.services.base import RequestContext

log = logging.getLogger(__name__)


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


class OnFailureDestination:
    """Sends failure records to the mapping's ``DestinationConfig.OnFailure`` queue."""

    def __init__(self, sqs: Any, destination_arn: str | None) -> None:
        self._sqs = sqs
        self.arn = destination_arn or None

    def deliver(self, body: dict[str, Any]) -> bool:
        """Send one failure record; ``False`` if it could not be delivered."""
        if self.arn is None:
            return False
        arn = Arn.try_parse(self.arn)
        if arn is None or arn.service != "sqs" or arn.resource.endswith(".fifo"):
            log.warning("on-failure destination %s is not a standard SQS queue", self.arn)
            return False
        try:
            info = self._sqs.queue_info(self.arn)
            self._sqs.call(
                "SendMessage",
                {"QueueUrl": info.url, "MessageBody": orjson.dumps(body).decode()},
                RequestContext(region=arn.region, account=arn.account),
            )
        except Exception as error:  # a missing queue fails delivery, not the mapping
            log.warning("on-failure delivery to %s failed: %s", self.arn, error)
            return False
        return True
