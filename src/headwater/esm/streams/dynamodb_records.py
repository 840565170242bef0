"""The DynamoDB Streams event record as Lambda sends it (reference §5).

The source hands the engine each record already shaped (``StreamRecord.data`` is the JSON
of the record without its ``eventSourceARN``, keys in AWS's order); the engine adds the
stream ARN, the one member that belongs to the mapping rather than to the record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from headwater.esm.streams.source import StreamRecord


def encode_dynamodb_record(record: StreamRecord, stream_arn: str) -> tuple[dict[str, Any], bytes]:
    """The ``event["Records"]`` entry and its JSON encoding."""
    shaped: dict[str, Any] = orjson.loads(record.data)
    shaped["eventSourceARN"] = stream_arn
    encoded = record.data[:-1] + b',"eventSourceARN":' + orjson.dumps(stream_arn) + b"}"
    return shaped, encoded


def iso_seconds(epoch: float) -> str:
    """``2019-11-14T00:13:19Z``: DynamoDB failure records show arrivals without millis."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
