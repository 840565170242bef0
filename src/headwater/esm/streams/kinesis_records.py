"""The Kinesis event record exactly as Lambda sends it (reference §4.7)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from headwater.esm.streams.source import StreamRecord


def kinesis_record(
    record: StreamRecord, shard_id: str, stream_arn: str, region: str, role_arn: str
) -> dict[str, Any]:
    """The ``event["Records"]`` entry for one Kinesis record (AWS's key order)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode("ascii"),
            # epoch seconds with millisecond precision, as a number
            "approximateArrivalTimestamp": round(record.approximate_arrival, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def encode_kinesis_record(
    record: StreamRecord, shard_id: str, stream_arn: str, region: str, role_arn: str
) -> tuple[dict[str, Any], bytes]:
    """The record and its JSON encoding (the payload is assembled from encodings)."""
    shaped = kinesis_record(record, shard_id, stream_arn, region, role_arn)
    return shaped, orjson.dumps(shaped)
