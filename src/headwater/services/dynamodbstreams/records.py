"""Stream records exactly as DynamoDB Streams writes them (GetRecords and Lambda events).

A change record of the table's feed becomes one stream record: ``Keys`` always, the images
the stream's view type keeps, ``SizeBytes`` counting what the record carries (keys and
kept images), a 32-hex ``eventID`` that is the same each time the record is read, and
decimal ``SequenceNumber`` strings (21 digits, like AWS's) that order as numbers.
"""

from __future__ import annotations

import hashlib
from typing import Any

from headwater.core.expressions.values import item_size
from headwater.services.dynamodb.change_feed import ChangeRecord

#: Added to feed positions so sequence numbers have AWS's 21 digits and no leading zero.
SEQUENCE_BASE = 10**20

_KEEPS_NEW = {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}
_KEEPS_OLD = {"OLD_IMAGE", "NEW_AND_OLD_IMAGES"}


def sequence_text(position: int) -> str:
    """The SequenceNumber of feed position ``position``."""
    return str(SEQUENCE_BASE + position)


def sequence_position(text: str) -> int | None:
    """The feed position of a SequenceNumber (``None`` if it is not one of ours)."""
    if not text.isdigit() or len(text) > 40:
        return None
    position = int(text) - SEQUENCE_BASE
    return position if position >= 0 else None


def event_id(stream_arn: str, position: int) -> str:
    """32 hex characters, stable for the record (redeliveries carry the same id)."""
    return hashlib.md5(f"{stream_arn}#{position}".encode(), usedforsecurity=False).hexdigest()


def stream_data(record: ChangeRecord, view_type: str) -> dict[str, Any]:
    """The ``dynamodb`` member: keys, the images ``view_type`` keeps, sequence and size."""
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": float(int(record.created)),
        "Keys": record.keys,
    }
    size = item_size(record.keys)
    if record.new_image is not None and view_type in _KEEPS_NEW:
        data["NewImage"] = record.new_image
        size += item_size(record.new_image)
    if record.old_image is not None and view_type in _KEEPS_OLD:
        data["OldImage"] = record.old_image
        size += item_size(record.old_image)
    data["SequenceNumber"] = sequence_text(record.sequence)
    data["SizeBytes"] = size
    data["StreamViewType"] = view_type
    return data


def stream_record(
    record: ChangeRecord, view_type: str, region: str, *, lambda_event: bool = False
) -> dict[str, Any]:
    """One record in AWS's key order; ``lambda_event`` spells ``userIdentity`` as Lambda
    events do (``type`` / ``principalId``) instead of the Streams API's."""
    shaped: dict[str, Any] = {
        "eventID": event_id(record.stream_arn, record.sequence),
        "eventName": record.event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream_data(record, view_type),
    }
    if record.by_service:
        shaped["userIdentity"] = (
            {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
            if lambda_event
            else {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
        )
    return shaped
