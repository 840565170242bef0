"""The SQS event record exactly as Lambda sends it (reference §3.8), and payload assembly.

Records are encoded to JSON once, when they are received; a batch payload is the encoded
records joined, so its size is known exactly while the batch is assembled (6 MB cap).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

#: Order in which AWS lists system attributes (standard, then FIFO, as in AWS's samples).
_ATTRIBUTE_ORDER = (
    "AWSTraceHeader",
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
)
_ATTRIBUTE_RANK = {name: rank for rank, name in enumerate(_ATTRIBUTE_ORDER)}

_PAYLOAD_HEAD = b'{"Records":['
_PAYLOAD_TAIL = b"]}"
#: Bytes of ``{"Records":[]}`` around the records.
PAYLOAD_OVERHEAD = len(_PAYLOAD_HEAD) + len(_PAYLOAD_TAIL)


class QueueMessage(Protocol):
    """What a queue source returns per message (``headwater.services.sqs.ReceivedMessage``)."""

    @property
    def message_id(self) -> str: ...
    @property
    def receipt_handle(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def md5_of_body(self) -> str: ...
    @property
    def attributes(self) -> dict[str, str]: ...
    @property
    def message_attributes(self) -> dict[str, dict[str, Any]]: ...
    @property
    def md5_of_message_attributes(self) -> str | None: ...
    @property
    def sent_timestamp(self) -> float: ...


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes | bytearray) else str(value).encode("utf-8")
    return base64.b64encode(bytes(raw)).decode("ascii")


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if "BinaryValue" in value and value["BinaryValue"] is not None:
        shaped["binaryValue"] = _b64(value["BinaryValue"])
    else:
        shaped["stringValue"] = value.get("StringValue")
    shaped["stringListValues"] = list(value.get("StringListValues") or [])
    shaped["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues") or []]
    shaped["dataType"] = value.get("DataType")
    return shaped


def sqs_record(message: QueueMessage, queue_arn: str, region: str) -> dict[str, Any]:
    """The record Lambda puts in ``event["Records"]`` for one SQS message (key order as AWS)."""
    attributes = dict(
        sorted(
            message.attributes.items(),
            key=lambda item: (_ATTRIBUTE_RANK.get(item[0], len(_ATTRIBUTE_ORDER)), item[0]),
        )
    )
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.message_attributes.items()
        },
        "md5OfMessageAttributes": message.md5_of_message_attributes
        if message.message_attributes
        else None,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def encode_record(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def payload_size(encoded: Sequence[bytes]) -> int:
    """Bytes of the ``{"Records": [...]}`` payload holding ``encoded`` records."""
    return PAYLOAD_OVERHEAD + sum(len(e) for e in encoded) + max(0, len(encoded) - 1)


def build_payload(encoded: Sequence[bytes]) -> bytes:
    """The invoke payload for already-encoded records."""
    return _PAYLOAD_HEAD + b",".join(encoded) + _PAYLOAD_TAIL
