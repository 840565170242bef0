"""The digests SQS returns and SDKs verify: body MD5, attribute MD5, content dedup id."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

_TRANSPORT_STRING = b"\x01"
_TRANSPORT_BINARY = b"\x02"
_TRANSPORT_STRING_LIST = b"\x03"
_TRANSPORT_BINARY_LIST = b"\x04"


def md5_of_body(body: str) -> str:
    """Hex MD5 of the UTF-8 body (``MD5OfMessageBody`` / ``MD5OfBody``)."""
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """``MD5OfMessageAttributes`` (or system attributes) exactly as SQS computes it.

    Names sorted; each string is a 4-byte big-endian length plus its UTF-8 bytes; then a
    transport byte (1 string/number, 2 binary, 3 string list, 4 binary list) and the value.
    """
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(str(attribute["DataType"]).encode("utf-8")))
        if attribute.get("StringValue") is not None:
            digest.update(_TRANSPORT_STRING)
            digest.update(_length_prefixed(str(attribute["StringValue"]).encode("utf-8")))
        elif attribute.get("BinaryValue") is not None:
            digest.update(_TRANSPORT_BINARY)
            digest.update(_length_prefixed(bytes(attribute["BinaryValue"])))
        elif attribute.get("StringListValues"):
            digest.update(_TRANSPORT_STRING_LIST)
            for item in attribute["StringListValues"]:
                digest.update(_length_prefixed(str(item).encode("utf-8")))
        elif attribute.get("BinaryListValues"):
            digest.update(_TRANSPORT_BINARY_LIST)
            for item in attribute["BinaryListValues"]:
                digest.update(_length_prefixed(bytes(item)))
    return digest.hexdigest()


def content_dedup_id(body: str) -> str:
    """The deduplication id of ``ContentBasedDeduplication``: SHA-256 hex of the body."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
