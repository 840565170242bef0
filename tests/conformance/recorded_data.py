"""AWS responses recorded by LocalStack's snapshot tests (tests/data/recorded, see NOTICE),
and a structural comparison that treats the snapshot tool's placeholders as wildcards."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded"
PLACEHOLDER = re.compile(r"<[^<>]+>|111111111111")
#: Unnumbered placeholders: only the value's presence was recorded.
PRESENCE = frozenset({"datetime", "date", "timestamp", "starting-sequence-number"})


@cache
def recorded(service: str) -> dict[str, dict[str, Any]]:
    """Snapshot per test name (``TestClass::test_name[param]`` without the file)."""
    entries = json.loads((RECORDED / f"{service}.json").read_text("utf-8"))
    return {entry["test"].split("::", 1)[1]: entry["snapshot"] for entry in entries}


def like(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from the recording (empty when it matches)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems = []
        spare = [key for key in actual if key not in expected]
        for recorded_key, value in expected.items():
            key = recorded_key
            if PLACEHOLDER.search(key) and key not in actual and len(spare) == 1:
                key = spare[0]  # a masked key (a table name) stands for the one unmatched key
            if key == "ResponseMetadata":
                status = value.get("HTTPStatusCode")
                got = actual.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status is not None and status != got:
                    problems.append(f"{path}.HTTPStatusCode: {status} != {got}")
                continue
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
                continue
            problems.extend(like(value, actual[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} elements, got {actual!r}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in like(e, a, f"{path}[{i}]")
        ]
    if isinstance(expected, str) and (PLACEHOLDER.search(expected) or expected in PRESENCE):
        ok = isinstance(actual, str | dt.datetime) and actual != ""
        return [] if ok else [f"{path}: expected a value, got {actual!r}"]
    if expected != actual:
        return [f"{path}: {expected!r} != {actual!r}"]
    return []
