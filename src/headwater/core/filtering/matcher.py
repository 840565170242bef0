"""Compiled matchers: a pattern's branches turned into closures over the event.

Semantics (EventBridge's): the event is seen as a set of leaf values (strings, numbers,
booleans, null) addressed by dotted paths, where an event key may itself contain dots
(``{"a.b": 1}`` and ``{"a": {"b": 1}}`` both put 1 at ``a.b``). Arrays contribute each element
at the array's own path; objects are not leaves. A field matches when any of its leaves
matches any of its rules (``exists: true`` matches any leaf, ``exists: false`` matches when
there is none). A branch matches when all its fields match *consistently*: two values taken
from elements of the same event array must come from the same element. A pattern matches when
any branch does.

Per field, a fast path walks plain nested dicts with direct lookups and tests the single leaf;
only arrays or dotted event keys fall back to the general walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from headwater.core.filtering import operators as ops
from headwater.core.filtering.parser import Branch, parse_pattern

Trail = tuple[tuple[int, int], ...]
#: What a field test returns: None = no match, MATCHED = matched by a value outside any array,
#: else the array trails of the matching values (to be reconciled across fields).
FieldResult = Any
MATCHED: Any = True

_MISSING: Any = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def parse_event_json(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse event JSON (orjson; the stdlib only for lone surrogates, which orjson refuses).

    Raises ValueError (orjson.JSONDecodeError is one) for text that is not JSON.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)


class _Field:
    """One field of a branch: its path and compiled rules."""

    __slots__ = ("alternatives", "exists_false", "exists_true", "path", "predicate", "segments")

    def __init__(self, path: str, rules: ops.FieldRules) -> None:
        self.path = path
        self.segments = tuple(path.split("."))
        n = len(self.segments)
        # At segment i, an event key may cover segments i..j-1 joined with dots.
        self.alternatives = tuple(
            tuple((".".join(self.segments[i:j]), j) for j in range(i + 1, n + 1)) for i in range(n)
        )
        self.predicate = rules.predicate()
        self.exists_true = rules.exists_true
        self.exists_false = rules.exists_false

    def compile(self) -> Callable[[Any], FieldResult]:
        segments = self.segments
        alternatives = self.alternatives
        predicate = self.predicate
        exists_true = self.exists_true
        exists_false = self.exists_false
        n = len(segments)
        dotted = tuple(tuple(key for key, _ in level[1:]) for level in alternatives)
        has_dotted = any(dotted)
        missing = _MISSING

        def walk(node: Any, i: int, trail: Trail, out: list[tuple[Any, Trail]]) -> None:
            kind = type(node)
            if i == n:
                if kind is list:
                    array_id = id(node)
                    for index, element in enumerate(node):
                        walk(element, n, (*trail, (array_id, index)), out)
                elif kind is not dict:
                    out.append((node, trail))
                return
            if kind is dict:
                for key, j in alternatives[i]:
                    child = node.get(key, missing)
                    if child is not missing:
                        walk(child, j, trail, out)
            elif kind is list:
                array_id = id(node)
                for index, element in enumerate(node):
                    walk(element, i, (*trail, (array_id, index)), out)

        def general(event: Any) -> FieldResult:
            leaves: list[tuple[Any, Trail]] = []
            walk(event, 0, (), leaves)
            if not leaves:
                return MATCHED if exists_false else None
            trails = [t for v, t in leaves if exists_true or predicate(v)]
            if not trails:
                return None
            for trail in trails:
                if not trail:
                    return MATCHED
            return trails

        # Results for "no leaf at the path" and for a leaf reached without arrays.
        absent = MATCHED if exists_false else None
        accept: ops.Predicate = _always if exists_true else predicate

        if n == 1:
            key0 = segments[0]

            def field_one(event: Any) -> FieldResult:
                if type(event) is dict:
                    value = event.get(key0, missing)
                    if value is missing:
                        return absent
                    kind = type(value)
                    if kind is not dict and kind is not list:
                        return MATCHED if accept(value) else None
                    if kind is dict:
                        return absent
                return general(event)

            return field_one

        if n == 2:
            key0, key1 = segments
            joined = dotted[0][0]

            def field_two(event: Any) -> FieldResult:
                if type(event) is dict and joined not in event:
                    node = event.get(key0, missing)
                    if node is missing:
                        return absent
                    if type(node) is dict:
                        value = node.get(key1, missing)
                        if value is missing:
                            return absent
                        kind = type(value)
                        if kind is not dict and kind is not list:
                            return MATCHED if accept(value) else None
                        if kind is dict:
                            return absent
                return general(event)

            return field_two

        def field_many(event: Any) -> FieldResult:
            node = event
            for i in range(n):
                if type(node) is not dict:
                    return general(event)
                if has_dotted:
                    for key in dotted[i]:
                        if key in node:
                            return general(event)
                node = node.get(segments[i], missing)
                if node is missing:
                    return absent
            kind = type(node)
            if kind is dict:
                return absent
            if kind is list:
                return general(event)
            return MATCHED if accept(node) else None

        return field_many


def _always(_value: Any) -> bool:
    return True


def _consistent(groups: list[list[Trail]]) -> bool:
    """True if one trail per group can be chosen with no array used at two indexes."""
    assigned: dict[int, int] = {}

    def solve(k: int) -> bool:
        if k == len(groups):
            return True
        for trail in groups[k]:
            if all(assigned.get(array_id, index) == index for array_id, index in trail):
                added = [a for a, i in trail if a not in assigned]
                assigned.update(trail)
                if solve(k + 1):
                    return True
                for array_id in added:
                    del assigned[array_id]
        return False

    return solve(0)


def compile_branch(branch: Branch) -> Callable[[Any], bool]:
    """One branch (a map of field path -> rules) as a closure ``event -> bool``."""
    tests = tuple(_Field(path, rules).compile() for path, rules in branch.items())

    if len(tests) == 1:
        (only,) = tests

        def single(event: Any) -> bool:
            result = only(event)
            if result is None:
                return False
            return result is MATCHED or _consistent([result])

        return single

    def branch_test(event: Any) -> bool:
        pending: list[list[Trail]] | None = None
        for test in tests:
            result = test(event)
            if result is None:
                return False
            if result is not MATCHED:
                if pending is None:
                    pending = [result]
                else:
                    pending.append(result)
        return pending is None or _consistent(pending)

    return branch_test


class Matcher:
    """A compiled event pattern. ``matches(event)`` takes a dict or JSON text/bytes."""

    __slots__ = ("_test", "branch_paths", "branches")

    def __init__(self, branches: list[Branch]) -> None:
        self.branches = tuple(compile_branch(b) for b in branches)
        #: the field paths of each branch (used by FilterCriteria per-source rules)
        self.branch_paths = tuple(frozenset(b) for b in branches)
        self._test = self._combine(self.branches)

    @staticmethod
    def _combine(branches: tuple[Callable[[Any], bool], ...]) -> Callable[[Any], bool]:
        if len(branches) == 1:
            return branches[0]

        def any_branch(event: Any) -> bool:
            # a plain loop: any() over a generator costs a frame per event
            for branch in branches:  # noqa: SIM110
                if branch(event):
                    return True
            return False

        return any_branch

    def matches(self, event: Any) -> bool:
        """Whether the event (dict, or JSON str/bytes) matches the pattern."""
        if type(event) is not dict and isinstance(event, str | bytes | bytearray | memoryview):
            event = parse_event_json(event)
        return self._test(event)

    def matches_dict(self, event: dict[str, Any]) -> bool:
        """Like matches() for an already parsed event, without the type check."""
        return self._test(event)


def compile_pattern(pattern: str | bytes | dict[str, Any]) -> Matcher:
    """Validate and compile an EventBridge pattern (JSON text or dict) into a Matcher.

    Raises InvalidPatternError with EventBridge's message for a pattern it would reject.
    """
    return Matcher(parse_pattern(pattern))
