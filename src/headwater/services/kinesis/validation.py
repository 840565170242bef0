"""Input checks with AWS's Kinesis error codes and messages.

The in-process client runs botocore's validation (types, required members, minimums),
but the wire layer does not, and botocore skips maximums and patterns: every operation
checks its input here before touching storage.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError, validation_error
from headwater.core.values import as_epoch_seconds

STREAM_NAME_PATTERN = "[a-zA-Z0-9_.-]+"
_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_HASH_KEY = re.compile(r"0|[1-9]\d{0,38}", re.ASCII)
_SEQUENCE = re.compile(r"0|[1-9]\d{0,128}", re.ASCII)
_SHARD_ID = re.compile(r"[a-zA-Z0-9_.-]+")

MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760


def invalid_argument(message: str) -> AwsError:
    return AwsError("InvalidArgumentException", message)


def require(params: dict[str, Any], key: str, member: str) -> Any:
    """A required member, or AWS's "must not be null" ValidationException."""
    value = params.get(key)
    if value is None:
        raise validation_error(None, member, "Member must not be null")
    return value


def check_string(value: Any, member: str, *, min_len: int = 0, max_len: int | None = None) -> str:
    """A string member within its length limits."""
    if not isinstance(value, str):
        raise AwsError("SerializationException", f"Expected a string for {member}")
    if len(value) < min_len:
        raise validation_error(
            value, member, f"Member must have length greater than or equal to {min_len}"
        )
    if max_len is not None and len(value) > max_len:
        raise validation_error(
            value, member, f"Member must have length less than or equal to {max_len}"
        )
    return value


def check_int(value: Any, member: str, *, minimum: int | None, maximum: int | None) -> int:
    """An integer member within its range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AwsError("SerializationException", f"Expected an integer for {member}")
    if minimum is not None and value < minimum:
        raise validation_error(
            value, member, f"Member must have value greater than or equal to {minimum}"
        )
    if maximum is not None and value > maximum:
        raise validation_error(
            value, member, f"Member must have value less than or equal to {maximum}"
        )
    return value


def check_timestamp(value: Any, member: str) -> float:
    """A timestamp member (datetime, epoch number or ISO string) as epoch seconds."""
    try:
        return as_epoch_seconds(value)
    except (TypeError, ValueError):
        raise AwsError(
            "SerializationException", f"Expected a timestamp for {member}, got {value!r:.64}"
        ) from None


def check_stream_name(value: Any, member: str = "streamName") -> str:
    name = check_string(value, member, min_len=1, max_len=128)
    if not _STREAM_NAME.fullmatch(name):
        raise validation_error(
            name, member, f"Member must satisfy regular expression pattern: {STREAM_NAME_PATTERN}"
        )
    return name


def check_shard_id(value: Any, member: str = "shardId") -> str:
    shard = check_string(value, member, min_len=1, max_len=128)
    if not _SHARD_ID.fullmatch(shard):
        raise validation_error(
            shard, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return shard


def check_hash_key(value: Any, member: str) -> int:
    key = check_string(value, member)
    if not _HASH_KEY.fullmatch(key):
        raise validation_error(
            key, member, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"
        )
    return int(key)


def check_sequence_number(value: Any, member: str) -> str:
    text = check_string(value, member)
    if not _SEQUENCE.fullmatch(text):
        raise validation_error(
            text, member, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"
        )
    return text


def stream_name_from_arn(value: Any, member: str = "streamARN") -> tuple[str, str, str]:
    """``(region, account, name)`` of a stream ARN."""
    text = check_string(value, member, min_len=1, max_len=2048)
    arn = Arn.try_parse(text)
    if (
        arn is None
        or arn.service != "kinesis"
        or not arn.resource.startswith("stream/")
        or not re.fullmatch(r"\d{12}", arn.account)
    ):
        raise validation_error(
            text,
            member,
            "Member must satisfy regular expression pattern: "
            "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        )
    name = arn.resource[len("stream/") :]
    if "/" in name:
        raise invalid_argument(f"Invalid StreamARN {text}")
    check_stream_name(name, member)
    return arn.region, arn.account, name
