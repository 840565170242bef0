"""Kinesis-looking sequence numbers computed from (shard, counter).

Stores keep one small integer counter per record; the 56-digit decimal string a client
sees is derived from the shard's identity and that counter, so nothing large is stored:

    "49" + shard creation time (10 digits, epoch s) + shard index (12) + counter (32)

Within a shard the counter grows strictly, so sequence numbers grow strictly and compare
correctly as integers (same length, same prefix). Child shards are created later or have
a higher index than their parents, so their numbers are higher too.
"""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE_VERSION = "49"
CREATED_DIGITS = 10
INDEX_DIGITS = 12
COUNTER_DIGITS = 32
SEQUENCE_DIGITS = len(SEQUENCE_VERSION) + CREATED_DIGITS + INDEX_DIGITS + COUNTER_DIGITS

#: Counters live in 40 bits so stores can pack (shard, counter) into one SQLite rowid.
MAX_COUNTER = 2**40 - 1
#: The counter shown in a closed shard's EndingSequenceNumber (above any record's).
ENDING_COUNTER = 10**COUNTER_DIGITS - 1


@dataclass(frozen=True, slots=True)
class DecodedSequence:
    """The parts of a sequence number headwater issued."""

    shard_created: int
    shard_index: int
    counter: int


def shard_prefix(shard_created: float, shard_index: int) -> str:
    """The constant leading digits of every sequence number of one shard."""
    return f"{SEQUENCE_VERSION}{int(shard_created) % 10**CREATED_DIGITS:0{CREATED_DIGITS}d}" + (
        f"{shard_index:0{INDEX_DIGITS}d}"
    )


def format_sequence(prefix: str, counter: int) -> str:
    """The sequence number string of record ``counter`` in the shard with ``prefix``."""
    return f"{prefix}{counter:0{COUNTER_DIGITS}d}"


def decode_sequence(text: str) -> DecodedSequence | None:
    """Split a sequence number into its parts; ``None`` if headwater could not have issued it."""
    if len(text) != SEQUENCE_DIGITS or not text.isdigit() or not text.startswith(SEQUENCE_VERSION):
        return None
    start = len(SEQUENCE_VERSION)
    created = int(text[start : start + CREATED_DIGITS])
    start += CREATED_DIGITS
    index = int(text[start : start + INDEX_DIGITS])
    counter = int(text[start + INDEX_DIGITS :])
    return DecodedSequence(created, index, counter)
