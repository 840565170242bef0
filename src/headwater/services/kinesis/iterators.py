"""Opaque, tamper-evident shard iterators that expire after five minutes.

Like AWS's, an iterator is base64 of eight bytes ``00..01`` followed by an opaque body (so
it starts ``AAAAAAAAAAE``). The body carries the stream, shard, read position and issue
time, scrambled and signed with an HMAC so a garbled or edited iterator is rejected with
``InvalidArgumentException`` instead of reading from a wrong place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from headwater.core.errors import AwsError

#: AWS's eight bytes ``00..01`` and headwater's format byte (below 0x40, so the base64
#: text always starts ``AAAAAAAAAAE`` like AWS's).
ITERATOR_VERSION = b"\x00\x00\x00\x00\x00\x00\x00\x01\x01"
ITERATOR_LIFETIME_MS = 300_000
_KEY = b"headwater-kinesis-shard-iterator-v1"
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class IteratorState:
    """Where an iterator reads: records of ``shard_id`` with counter > ``after_counter``."""

    region: str
    account: str
    stream_name: str
    shard_id: str
    after_counter: int
    issued_ms: int


def _scramble(body: bytes) -> bytes:
    pad = hashlib.shake_256(_KEY).digest(len(body))
    return bytes(a ^ b for a, b in zip(body, pad, strict=True))


def encode_iterator(state: IteratorState) -> str:
    """The iterator string for ``state``."""
    body = "/".join(
        (
            str(state.issued_ms),
            state.region,
            state.account,
            state.stream_name,
            state.shard_id,
            str(state.after_counter),
        )
    ).encode("utf-8")
    mac = hmac.new(_KEY, body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b64encode(ITERATOR_VERSION + _scramble(body) + mac).decode("ascii")


def invalid_iterator() -> AwsError:
    return AwsError("InvalidArgumentException", "Invalid ShardIterator.")


def decode_iterator(text: str) -> IteratorState:
    """Parse and verify an iterator; raises ``InvalidArgumentException`` if it is not one.

    AWS accepts an iterator wrapped in double quotes (as copied from JSON output), so
    headwater does too.
    """
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise invalid_iterator() from None
    if len(raw) <= len(ITERATOR_VERSION) + _MAC_BYTES or not raw.startswith(ITERATOR_VERSION):
        raise invalid_iterator()
    body = _scramble(raw[len(ITERATOR_VERSION) : -_MAC_BYTES])
    mac = hmac.new(_KEY, body, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, raw[-_MAC_BYTES:]):
        raise invalid_iterator()
    try:
        issued, region, account, name, shard, after = body.decode("utf-8").split("/")
        return IteratorState(region, account, name, shard, int(after), int(issued))
    except ValueError:
        raise invalid_iterator() from None


def _aws_time(epoch_ms: int) -> str:
    # Java's Date.toString() in UTC, as AWS prints it: "Thu Jan 22 01:22:02 UTC 2015".
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def check_not_expired(state: IteratorState, now_ms: int) -> None:
    """Raise AWS's ``ExpiredIteratorException`` if the iterator is older than 5 minutes."""
    if now_ms - state.issued_ms > ITERATOR_LIFETIME_MS:
        raise AwsError(
            "ExpiredIteratorException",
            f"Iterator expired. The iterator was created at time {_aws_time(state.issued_ms)}"
            f" while right now it is {_aws_time(now_ms)} which is further in the future than"
            f" the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
        )
