"""Sequence numbers: Kinesis-looking, strictly increasing, decodable."""

from __future__ import annotations

from headwater.services.kinesis.sequence import (
    ENDING_COUNTER,
    SEQUENCE_DIGITS,
    decode_sequence,
    format_sequence,
    shard_prefix,
)


def test_sequence_numbers_look_like_kinesis() -> None:
    text = format_sequence(shard_prefix(1_700_000_000.5, 3), 42)
    assert len(text) == SEQUENCE_DIGITS == 56
    assert text.startswith("49") and text.isdigit()


def test_sequence_numbers_grow_as_integers_within_and_across_shards() -> None:
    prefix = shard_prefix(1_700_000_000, 0)
    numbers = [int(format_sequence(prefix, c)) for c in (1, 2, 9, 10, 1000, 2**40 - 1)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    child = shard_prefix(1_700_000_000, 2)
    assert int(format_sequence(child, 0)) > int(format_sequence(prefix, 2**40 - 1))
    assert int(format_sequence(prefix, ENDING_COUNTER)) < int(format_sequence(child, 0))


def test_decode_roundtrip_and_rejects_foreign_numbers() -> None:
    decoded = decode_sequence(format_sequence(shard_prefix(1_700_000_123, 7), 99))
    assert decoded is not None
    assert (decoded.shard_created, decoded.shard_index, decoded.counter) == (1_700_000_123, 7, 99)
    assert decode_sequence("12345") is None
    assert decode_sequence("59" + "0" * 54) is None
