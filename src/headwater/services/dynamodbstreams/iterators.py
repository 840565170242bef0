"""DynamoDB Streams shard iterators: ``<stream arn>|1|<opaque base64>``, valid 15 minutes.

The opaque part carries the shard, the read position and the issue time, signed with an
HMAC so a garbled or edited iterator is refused instead of reading from a wrong place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from headwater.core.errors import AwsError

#: DynamoDB Streams iterators expire after 15 minutes.
ITERATOR_LIFETIME_MS = 900_000
_KEY = b"headwater-dynamodb-streams-iterator-v1"
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class ShardIterator:
    """Where an iterator reads: records of ``shard_id`` with position > ``after``."""

    stream_arn: str
    shard_id: str
    after: int
    issued_ms: int


def encode_iterator(state: ShardIterator) -> str:
    body = f"{state.issued_ms}/{state.shard_id}/{state.after}".encode()
    mac = hmac.new(_KEY, state.stream_arn.encode() + b"|" + body, hashlib.sha256).digest()
    opaque = base64.b64encode(body + mac[:_MAC_BYTES]).decode("ascii")
    return f"{state.stream_arn}|1|{opaque}"


def invalid_iterator() -> AwsError:
    return AwsError("ValidationException", "Invalid ShardIterator")


def decode_iterator(text: str) -> ShardIterator:
    """Parse and verify an iterator; raises ``ValidationException`` if it is not one."""
    arn, _, rest = text.partition("|1|")
    try:
        raw = base64.b64decode(rest.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise invalid_iterator() from None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    expected = hmac.new(_KEY, arn.encode() + b"|" + body, hashlib.sha256).digest()
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, expected[:_MAC_BYTES]):
        raise invalid_iterator()
    issued, shard_id, after = body.decode().split("/")
    return ShardIterator(arn, shard_id, int(after), int(issued))


def check_not_expired(state: ShardIterator, now_ms: int) -> None:
    """Raise AWS's ``ExpiredIteratorException`` if the iterator is older than 15 minutes."""
    if now_ms - state.issued_ms > ITERATOR_LIFETIME_MS:
        raise AwsError(
            "ExpiredIteratorException",
            f"Iterator expired. The iterator was created at time {_aws_time(state.issued_ms)}"
            f" while right now it is {_aws_time(now_ms)} which is further in the future than"
            f" the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
        )


def _aws_time(epoch_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")
