"""Coercions for values boto3 accepts in several forms (blobs, timestamps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

UTC = dt.UTC
#: The values of a Java ``int`` and ``long``, the types behind AWS's integer and long
#: members (botocore sends any Python integer; a store's 64-bit columns hold a long).
JAVA_INT = range(-(2**31), 2**31)
JAVA_LONG = range(-(2**63), 2**63)


def utf8_length(text: str) -> int:
    """Bytes of ``text`` in UTF-8, counting a lone surrogate (from bytes that were not
    UTF-8) as the three bytes it stands for: a length check must not fail on text the
    character checks refuse."""
    return len(text.encode("utf-8", "surrogatepass"))


def as_bytes(value: Any) -> bytes:
    """A blob parameter as bytes (boto3 accepts bytes, bytearray, str and file-likes)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    read = getattr(value, "read", None)
    if callable(read):
        return as_bytes(read())
    raise TypeError(f"expected bytes, got {type(value).__name__}")


def assume_utc(value: dt.datetime) -> dt.datetime:
    """``value`` with a time zone: a naive datetime is read as UTC, as botocore reads one
    given to a timestamp parameter; an aware one is left as it is."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def iso_millis(epoch: float) -> str:
    """``2025-11-25T16:34:01.000Z``: epoch seconds as the millisecond ISO 8601 text AWS
    writes in event documents (stream records, destinations, S3 events)."""
    moment = dt.datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def as_epoch_seconds(value: Any) -> float:
    """A timestamp parameter as epoch seconds (datetime, number or ISO-8601 string)."""
    if isinstance(value, dt.datetime):
        return float(assume_utc(value).timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return as_epoch_seconds(parsed)
    raise TypeError(f"expected a timestamp, got {type(value).__name__}")


def as_datetime(epoch_seconds: float) -> dt.datetime:
    """Epoch seconds as the timezone-aware datetime boto3 returns for timestamp members."""
    return dt.datetime.fromtimestamp(epoch_seconds, tz=UTC)


def as_millisecond_datetime(epoch_seconds: float) -> dt.datetime:
    """Epoch seconds as a datetime to the whole millisecond, for services whose XML answers
    write timestamps to the millisecond (CloudFormation, STS): in process the same value
    boto3 parses over the wire."""
    exact = as_datetime(epoch_seconds)
    return exact.replace(microsecond=exact.microsecond // 1000 * 1000)


def json_object(text: str) -> dict[str, Any] | None:
    """``text`` read as a JSON object; ``None`` when it is not JSON or not an object."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
