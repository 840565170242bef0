"""Items as stored bytes: JSON (orjson) with binary values base64, decoded back exactly.

Numbers are already strings, so JSON keeps them exact. Only items that hold binary values
(``"B"`` / ``"BS"``) pay for a walk on the way back.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

Item = dict[str, Any]


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot store {type(value).__name__}")


def encode_item(item: Item) -> bytes:
    return orjson.dumps(item, default=_default)


def decode_item(raw: bytes) -> Item:
    item: Item = orjson.loads(raw)
    if b'"B' in raw:
        for value in item.values():
            _restore(value)
    return item


def _restore(value: dict[str, Any]) -> None:
    for kind, inner in value.items():
        if kind == "B":
            value["B"] = base64.b64decode(inner)
        elif kind == "BS":
            value["BS"] = [base64.b64decode(b) for b in inner]
        elif kind == "M":
            for member in inner.values():
                _restore(member)
        elif kind == "L":
            for member in inner:
                _restore(member)
