"""Shard iterators: opaque, tamper-evident, five-minute lifetime with AWS's message."""

from __future__ import annotations

import base64

import pytest

from headwater.core.errors import AwsError
from headwater.services.kinesis.iterators import (
    IteratorState,
    check_not_expired,
    decode_iterator,
    encode_iterator,
)

STATE = IteratorState(
    "us-east-1", "000000000000", "clicks", "shardId-000000000001", 17, 1_421_889_722_000
)


def test_roundtrip_and_aws_prefix() -> None:
    text = encode_iterator(STATE)
    assert text.startswith("AAAAAAAAAAE")
    assert len(text) <= 512
    assert "clicks" not in base64.b64decode(text).decode("latin-1")
    assert decode_iterator(text) == STATE


def test_longest_stream_name_fits_512_chars() -> None:
    state = IteratorState(
        "ap-southeast-2", "123456789012", "s" * 128, "shardId-000000099999", 2**40, 10**13
    )
    assert len(encode_iterator(state)) <= 512


@pytest.mark.parametrize(
    "garbage", ["x", "AAAAAAAAAAE=", "!!!notbase64", "AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
def test_garbage_is_invalid_argument(garbage: str) -> None:
    with pytest.raises(AwsError) as caught:
        decode_iterator(garbage)
    assert caught.value.code == "InvalidArgumentException"
    assert caught.value.message == "Invalid ShardIterator."


def test_tampered_iterator_is_rejected() -> None:
    raw = bytearray(base64.b64decode(encode_iterator(STATE)))
    raw[12] ^= 1
    with pytest.raises(AwsError) as caught:
        decode_iterator(base64.b64encode(bytes(raw)).decode())
    assert caught.value.code == "InvalidArgumentException"


def test_expiry_after_five_minutes_with_aws_message() -> None:
    check_not_expired(STATE, STATE.issued_ms + 300_000)
    with pytest.raises(AwsError) as caught:
        check_not_expired(STATE, STATE.issued_ms + 300_001)
    assert caught.value.code == "ExpiredIteratorException"
    assert caught.value.message == (
        "Iterator expired. The iterator was created at time Thu Jan 22 01:22:02 UTC 2015 while "
        "right now it is Thu Jan 22 01:27:02 UTC 2015 which is further in the future than the "
        "tolerated delay of 300000 milliseconds."
    )
