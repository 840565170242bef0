"""Every AWS-recorded EventBridge pattern case: same match, no-match, or rejection message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater.filtering import InvalidPatternError, compile_pattern
from tests.conftest import DATA

CASES: list[dict[str, Any]] = json.loads(
    (DATA / "conformance" / "event-patterns.json").read_text("utf-8")
)


def _pattern(case: dict[str, Any]) -> str | dict[str, Any]:
    return case["pattern"] if case["pattern"] is not None else case["pattern_text"]


def test_corpus_is_complete() -> None:
    assert len(CASES) == 173


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_event_pattern(case: dict[str, Any]) -> None:
    if case["expect"] == "invalid":
        with pytest.raises(InvalidPatternError) as info:
            compile_pattern(_pattern(case))
        assert str(info.value) == case["error"]
        return
    matcher = compile_pattern(_pattern(case))
    assert matcher.matches(case["event"]) is (case["expect"] == "match")


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["expect"] != "invalid"],
    ids=[c["name"] for c in CASES if c["expect"] != "invalid"],
)
def test_event_pattern_from_text(case: dict[str, Any]) -> None:
    """The same verdicts when pattern and event arrive as JSON text (as the API sends them)."""
    pattern = case.get("pattern_text") or json.dumps(case["pattern"])
    event = case.get("event_text") or json.dumps(case["event"])
    assert compile_pattern(pattern).matches(event) is (case["expect"] == "match")
