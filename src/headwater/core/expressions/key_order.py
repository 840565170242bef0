"""Byte strings that sort as DynamoDB sorts key values, so a Query is an index range scan.

- ``S``: UTF-8 bytes (DynamoDB orders strings by their UTF-8 bytes).
- ``B``: the bytes themselves (unsigned byte order).
- ``N``: a sign byte, a biased exponent byte and one byte per decimal digit; negative numbers
  have their exponent and digits complemented and end with ``0xFF`` so that a longer
  negative mantissa (a number further from zero) sorts first.

A partition key's encoding also gives its *scan token*: the first 4 bytes of its MD5, which
orders a Scan by hash as DynamoDB does (not by key) and splits a parallel Scan's segments.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Callable
from typing import Any

from headwater.core.expressions.values import number_parts


def _md5_constructor() -> Callable[[bytes], Any]:
    """CPython's own MD5, half the time of OpenSSL's (hashlib) for a key's few bytes; the
    same digests. hashlib's where a build lacks it."""
    try:
        constructor: Callable[[bytes], Any] = importlib.import_module("_md5").md5
    except ImportError:  # pragma: no cover - a build without it
        constructor = functools.partial(hashlib.md5, usedforsecurity=False)
    return constructor


_md5 = _md5_constructor()

#: Scan tokens are 31-bit, so they fit a signed 32-bit INTEGER column on every store.
TOKEN_SPACE = 1 << 31

_NEGATIVE, _ZERO, _POSITIVE = b"\x01", b"\x02", b"\x03"
_DIGITS = bytes(range(1, 11))  # digit d -> d + 1
_NEGATIVE_DIGITS = bytes(254 - d for d in range(10))  # digit d -> 254 - d


def encode_number(text: str) -> bytes:
    """Order-preserving bytes of a (validated) number string."""
    if text.isdigit() and text.isascii() and text[0] != "0":
        # A positive integer (most number keys): its digits without the trailing zeros,
        # positioned by its length, as number_parts would give them, without the regex.
        digits = text.rstrip("0")
        return _POSITIVE + bytes((len(text) + 129,)) + digits.encode("ascii").translate(_POS_TABLE)
    parts = number_parts(text)
    if parts is None or not parts[1]:
        return _ZERO
    negative, digits, exp = parts
    # value = 0.d1d2... x 10**position, position in [-129, 126] for valid numbers
    position = len(digits) + exp
    exponent_byte = position + 129
    encoded = digits.encode("ascii")
    if negative:
        body = encoded.translate(_NEG_TABLE)
        return _NEGATIVE + bytes((255 - exponent_byte,)) + body + b"\xff"
    return _POSITIVE + bytes((exponent_byte,)) + encoded.translate(_POS_TABLE)


_POS_TABLE = bytes.maketrans(b"0123456789", _DIGITS)
_NEG_TABLE = bytes.maketrans(b"0123456789", _NEGATIVE_DIGITS)


def encode_key_value(value: dict[str, Any]) -> bytes:
    """The sort bytes of a key attribute value (``S``, ``N`` or ``B``)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return inner.encode("utf-8", "surrogatepass")  # type: ignore[no-any-return]
    if kind == "B":
        return bytes(inner)
    if kind == "N":
        return encode_number(inner)
    raise ValueError(f"not a key type: {kind}")


def scan_token(partition: bytes) -> int:
    """Where a partition sits in Scan order (and which parallel-scan segment holds it)."""
    digest = _md5(partition).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def segment_bounds(segment: int, total_segments: int) -> tuple[int, int]:
    """The half-open token range ``[low, high)`` of one parallel-scan segment."""
    low = segment * TOKEN_SPACE // total_segments
    high = (segment + 1) * TOKEN_SPACE // total_segments
    return low, high


# ---- multi-attribute keys ----
#
# A global secondary index may key on up to four HASH and four RANGE attributes. Its
# partition (and its sort key) is stored as the concatenation of one *component* per
# attribute, each self-delimiting and order-preserving, so that byte order of the whole is
# DynamoDB's order of the tuple (first attribute, then the next...) and the items whose
# first attributes have given values are exactly those starting with given bytes: a Query
# on a prefix of the sort attributes is a byte range, as for a one-attribute key.
#
# - ``S`` and ``B``: the bytes with each ``00`` written ``00 FF``, then ``00 01``. The end
#   mark sorts below every continuation (a prefix of a value sorts first, as it should),
#   and no escaped byte sequence contains it.
# - ``N``: ``encode_number``'s bytes, which already end themselves for zero (one byte) and
#   negative numbers (``FF``); a positive number's digit bytes are 1-10, so a ``00`` after
#   them ends it and sorts it before any longer mantissa.

_COMPONENT_END = b"\x00\x01"


def escape_component(raw: bytes) -> bytes:
    """``raw`` (S or B bytes) as a component's body, without its end mark: what every
    component whose value starts with ``raw`` starts with (``begins_with``'s range)."""
    return raw.replace(b"\x00", b"\x00\xff")


def encode_key_component(value: dict[str, Any]) -> bytes:
    """One attribute of a multi-attribute key as self-delimiting sort bytes."""
    ((kind, inner),) = value.items()
    if kind == "N":
        encoded = encode_number(inner)
        return encoded + b"\x00" if encoded[:1] == _POSITIVE else encoded
    raw = inner.encode("utf-8", "surrogatepass") if kind == "S" else bytes(inner)
    return escape_component(raw) + _COMPONENT_END
