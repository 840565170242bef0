"""Properties of pattern matching (hypothesis).

- key order in events and patterns never changes the result;
- a pattern built from an event's own values matches it;
- ``anything-but [v]`` is the negation of ``[v]`` on present scalar fields;
- a pattern given as a dict and as JSON text behave the same.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from headwater.core.filtering.jsontext import TokenReader, ValueTokens
from headwater.filtering import InvalidPatternError, compile_pattern

KEYS = st.sampled_from(["a", "b", "c", "detail", "id", "x-y", "Ünï"])
TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 -_./:*\\\"'é\U0001f680")), min_size=0, max_size=8
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(min_value=-6e9, max_value=6e9, allow_nan=False, allow_infinity=False),
)
SCALARS = st.one_of(TEXT, NUMBERS, st.booleans(), st.none())
EVENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(KEYS, children, max_size=4),
    ),
    max_leaves=12,
).map(lambda v: v if isinstance(v, dict) else {"a": v})

settings.register_profile("filtering", max_examples=150, deadline=None)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


# -- random patterns (valid ones) --------------------------------------------------------------
RULES = st.one_of(
    SCALARS,
    st.builds(lambda t: {"prefix": t}, TEXT),
    st.builds(lambda t: {"suffix": {"equals-ignore-case": t}}, TEXT),
    st.builds(lambda t: {"equals-ignore-case": t}, TEXT),
    st.builds(lambda t: {"anything-but": t}, TEXT),
    st.builds(lambda n: {"anything-but": [n]}, st.integers(-100, 100)),
    st.builds(lambda lo: {"numeric": [">=", lo, "<", lo + 10]}, st.integers(-100, 100)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.builds(lambda t: {"wildcard": t.replace("\\", "").replace("**", "*")}, TEXT),
)
PATTERN_BODIES = st.recursive(
    st.lists(RULES, min_size=1, max_size=3),
    lambda children: st.dictionaries(KEYS, children, min_size=1, max_size=3),
    max_leaves=6,
)
PLAIN_PATTERNS = st.dictionaries(KEYS, PATTERN_BODIES, min_size=1, max_size=3)


def with_or(first: dict[str, Any], second: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """``rest`` AND ``$or`` of two branches, with no field both in ``rest`` and a branch.

    A field in ``rest`` and in a branch is a duplicate key: EventBridge's compiler lets the
    later one (in document order) replace the earlier, so order matters there by design
    (see test_a_field_repeated_inside_or_follows_document_order in test_filtering.py).
    """
    shared = set(first) | set(second)
    return {**{k: v for k, v in rest.items() if k not in shared}, "$or": [first, second]}


PATTERNS = st.one_of(
    PLAIN_PATTERNS,
    st.builds(
        with_or,
        PLAIN_PATTERNS,
        PLAIN_PATTERNS,
        st.dictionaries(KEYS, PATTERN_BODIES, max_size=2),
    ),
)


def compiled(pattern: Any) -> Any:
    try:
        return compile_pattern(pattern)
    except InvalidPatternError:
        assume(False)
        raise


@settings(settings.get_profile("filtering"))
@given(pattern=PATTERNS, event=EVENTS, seed=st.integers(0, 2**32 - 1))
def test_key_order_never_changes_the_result(pattern: Any, event: Any, seed: int) -> None:
    rng = random.Random(seed)
    expected = compiled(pattern).matches(event)
    for _ in range(3):
        assert compiled(shuffled(pattern, rng)).matches(shuffled(event, rng)) is expected


@settings(settings.get_profile("filtering"))
@given(pattern=PATTERNS, event=EVENTS)
def test_text_and_dict_patterns_agree(pattern: Any, event: Any) -> None:
    matcher = compiled(pattern)
    text_matcher = compile_pattern(json.dumps(pattern))
    assert text_matcher.matches(json.dumps(event)) is matcher.matches(event)


# -- patterns built from the event -------------------------------------------------------------
def leaves(
    value: Any, path: tuple[str, ...] = (), trail: tuple[tuple[int, int], ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any, tuple[tuple[int, int], ...]]]:
    """(path, value, array trail) of every leaf, as EventBridge flattens events."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key), trail)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, path, (*trail, (id(value), index)))
    elif path:
        yield path, value, trail


def compatible(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    first = dict(a)
    return all(first.get(array_id, index) == index for array_id, index in b)


def rule_for(value: Any, choice: int) -> Any:
    """A rule that matches this leaf value (the choice picks which operator)."""
    if isinstance(value, str):
        options: list[Any] = [value, {"exists": True}, {"prefix": value[: choice % 4]}]
        options.append({"suffix": value[-(choice % 3) :] if choice % 3 else ""})
        if value.upper().lower() == value.lower():
            options.append({"equals-ignore-case": value.upper()})
            options.append({"prefix": {"equals-ignore-case": value[: choice % 3].upper()}})
        escaped = value.replace("\\", "\\\\").replace("*", "\\*")
        options.append({"wildcard": escaped})
        if len(value) >= 2:
            head = value[0].replace("\\", "\\\\").replace("*", "\\*")
            options.append({"wildcard": head + "*"})
        options.append({"anything-but": value + "-other"})
        return options[choice % len(options)]
    if isinstance(value, bool) or value is None:
        return [value, {"exists": True}][choice % 2]
    options = [value, {"exists": True}]
    if -5e9 <= value <= 5e9:
        options.append({"numeric": ["=", value]})
        # At the +-5e9 limit these ranges are empty, which EventBridge rejects
        # ("Bottom must be less than top"; pinned in test_filtering.py).
        if value < 5e9:
            options.append({"numeric": [">=", value]})
        if value > -5e9:
            options.append({"numeric": ["<=", value]})
        if value + 1 <= 5e9 and value - 1 >= -5e9:
            options.append({"numeric": [">", value - 1, "<", value + 1]})
        if value != 0:
            options.append({"anything-but": [0]})
    return options[choice % len(options)]


def put(pattern: dict[str, Any], path: tuple[str, ...], rule: Any) -> None:
    node = pattern
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = [rule]


def pattern_from(event: Any, data: st.DataObject) -> dict[str, Any]:
    """A pattern whose rules match leaves of the event (consistently chosen across arrays)."""
    found = list(leaves(event))
    assume(found)
    order = data.draw(st.permutations(range(len(found))))
    wanted = data.draw(st.integers(1, len(found)))
    chosen: list[tuple[tuple[str, ...], Any, Any]] = []
    for i in order:
        path, value, trail = found[i]
        taken = {p for p, _, _ in chosen}
        # a path must not be both a leaf and a prefix of another chosen leaf's path
        clash = any(p[: len(path)] == path or path[: len(p)] == p for p in taken)
        if clash or not all(compatible(trail, t) for _, _, t in chosen):
            continue
        chosen.append((path, value, trail))
        if len(chosen) == wanted:
            break
    pattern: dict[str, Any] = {}
    for path, value, _ in chosen:
        put(pattern, path, rule_for(value, data.draw(st.integers(0, 50))))
    return pattern


@settings(settings.get_profile("filtering"))
@given(event=EVENTS, data=st.data())
def test_pattern_from_the_events_own_values_matches(event: Any, data: st.DataObject) -> None:
    pattern = pattern_from(event, data)
    assert compile_pattern(pattern).matches(event), pattern


@settings(settings.get_profile("filtering"))
@given(event=EVENTS, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_key_order_never_changes_a_match(event: Any, data: st.DataObject, seed: int) -> None:
    """Key order, for patterns that do match (random patterns mostly do not)."""
    rng = random.Random(seed)
    pattern = pattern_from(event, data)
    assert compile_pattern(shuffled(pattern, rng)).matches(shuffled(event, rng))


# -- anything-but is the negation of exact match -----------------------------------------------
COMPARABLE = st.one_of(
    TEXT,
    st.integers(min_value=-(5 * 10**9), max_value=5 * 10**9),
    st.floats(min_value=-5e9, max_value=5e9, allow_nan=False),
)


@settings(settings.get_profile("filtering"))
@given(v=COMPARABLE, x=st.one_of(SCALARS, COMPARABLE), same=st.booleans(), single=st.booleans())
def test_anything_but_is_the_negation_of_exact(v: Any, x: Any, same: bool, single: bool) -> None:
    value = v if same else x
    event = {"detail": {"f": value}}
    exact = compile_pattern({"detail": {"f": [v]}}).matches(event)
    negated_rule = {"anything-but": v if single else [v]}
    negated = compile_pattern({"detail": {"f": [negated_rule]}}).matches(event)
    assert negated is (not exact)
    if same:
        assert exact


# -- the pattern tokenizer reads any JSON like the standard library ----------------------------
JSON_VALUES = st.recursive(
    st.one_of(
        st.text(max_size=6),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)


def token_list(reader: TokenReader | ValueTokens) -> list[tuple[Any, Any]]:
    tokens = []
    while (token := reader.next_token())[0] is not None:
        tokens.append(token[:2])
    return tokens


@settings(settings.get_profile("filtering"))
@given(value=JSON_VALUES, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]))
def test_tokenizer_reads_json_like_the_stdlib(value: Any, ascii_only: bool, indent: Any) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    if isinstance(value, str):
        return  # a root string is never decoded (EventBridge stops at "not an object")
    assert token_list(TokenReader(text + " trailing")) == token_list(ValueTokens(value))
