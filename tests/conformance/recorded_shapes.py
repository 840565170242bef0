"""Compare responses with AWS recordings (tests/data/recorded/<service>.json).

LocalStack's snapshot transformers replaced generated values with placeholders
(``<alarm-name:1>``, ``timestamp``, ``date``...): those match any value; everything else
must be equal. ``ResponseMetadata`` is compared on the status code only.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.conftest import DATA


@cache
def _entries(service: str) -> list[dict[str, Any]]:
    return json.loads((DATA / "recorded" / f"{service}.json").read_text())


def recorded(service: str, test: str, key: str) -> Any:
    """The recorded value ``key`` of the test whose id ends with ``test``."""
    for entry in _entries(service):
        if entry["test"].endswith(test):
            return entry["snapshot"][key]
    raise KeyError(f"no recording {service} {test}")


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and (
        value in ("timestamp", "date") or (value.startswith("<") and value.endswith(">"))
    )


def _masked(value: Any) -> bool:
    return isinstance(value, str) and "<" in value and ">" in value


def assert_matches(actual: Any, expected: Any, path: str = "") -> None:
    """``actual`` has ``expected``'s shape and values (placeholders match anything)."""
    if isinstance(expected, str):
        # LocalStack masked the recording account as 111111111111
        expected = expected.replace("111111111111", "<account>")
    if _placeholder(expected):
        assert actual is not None, f"{path}: missing"
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not a mapping"
        for key, value in expected.items():
            if key == "ResponseMetadata":
                assert actual[key]["HTTPStatusCode"] == value["HTTPStatusCode"], path
                continue
            assert key in actual, f"{path}.{key} missing from {sorted(actual)}"
            assert_matches(actual[key], value, f"{path}.{key}")
        extra = set(actual) - set(expected) - {"ResponseMetadata"}
        assert not extra, f"{path}: unexpected keys {sorted(extra)}"
        return
    if isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{index}]")
        return
    if _masked(expected):
        # partly masked text such as an ARN: compare the unmasked pieces in order
        pieces = [p for p in _split_masks(expected) if p]
        position = 0
        for piece in pieces:
            found = str(actual).find(piece, position)
            assert found >= 0, f"{path}: {actual!r} does not fit {expected!r}"
            position = found + len(piece)
        return
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def _split_masks(text: str) -> list[str]:
    pieces: list[str] = []
    rest = text
    while "<" in rest and ">" in rest[rest.index("<") :]:
        start = rest.index("<")
        end = rest.index(">", start)
        pieces.append(rest[:start])
        rest = rest[end + 1 :]
    pieces.append(rest)
    return pieces
