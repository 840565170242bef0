"""Leaf rules of a pattern, and how one field's rule list becomes a single fast predicate.

A field's rules (the array under a pattern key) are ORed. They are compiled once into one
closure ``predicate(value) -> bool`` over a leaf value of the event (str, int, float, bool or
None); the type is checked first so that ``True`` never equals ``1`` and strings never equal
numbers. Single-rule fields, the common case, get a dedicated one-line closure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Predicate = Callable[[Any], bool]

#: EventBridge compares numbers only within +-5.0e9 (values outside never match numerically).
NUMBER_LIMIT = 5.0e9

_IPV4_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6_SHAPE = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def ip_literal(text: str) -> tuple[int, int] | None:
    """(version, integer) for an IPv4/IPv6 literal in EventBridge's accepted shapes, else None."""
    if _IPV4_SHAPE.fullmatch(text):
        parts = [int(p) for p in text.split(".")]
        if any(p > 255 for p in parts):
            return None
        return 4, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
    if _IPV6_SHAPE.fullmatch(text):
        try:
            return 6, int(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    return None


def looks_like_ip(text: str) -> bool:
    """The regex pre-check EventBridge applies before trying to parse an address."""
    return bool(_IPV4_SHAPE.fullmatch(text) or _IPV6_SHAPE.fullmatch(text))


def wildcard_regex(text: str) -> re.Pattern[str]:
    """Regex for a validated wildcard pattern: ``*`` is any run, ``\\*`` and ``\\\\`` literal."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            out.append(".*")
        elif ch == "\\":
            i += 1
            out.append(re.escape(text[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


@dataclass
class FieldRules:
    """The rules of one pattern field, grouped by the event value type they can match."""

    strings: set[str] = field(default_factory=set)
    numbers: set[int | float] = field(default_factory=set)
    booleans: set[bool] = field(default_factory=set)
    null: bool = False
    #: (version, int) of exact-match strings that are IP literals (matched as addresses).
    ip_exact: set[tuple[int, int]] = field(default_factory=set)
    string_tests: list[Predicate] = field(default_factory=list)
    number_tests: list[Predicate] = field(default_factory=list)
    #: anything-but rules: they apply to every leaf type.
    any_tests: list[Predicate] = field(default_factory=list)
    exists_true: bool = False
    exists_false: bool = False
    #: how many rules were added (an empty rule array is an error)
    count: int = 0

    # -- adders (called by the parser) --------------------------------------------------------
    def add_exact(self, value: Any) -> None:
        self.count += 1
        if value is None:
            self.null = True
        elif value is True or value is False:
            self.booleans.add(value)
        elif isinstance(value, str):
            self.strings.add(value)
            if looks_like_ip(value):
                parsed = ip_literal(value)
                if parsed is not None:
                    self.ip_exact.add(parsed)
        else:
            self.numbers.add(value)

    def add_string_test(self, test: Predicate) -> None:
        self.count += 1
        self.string_tests.append(test)

    def add_number_test(self, test: Predicate) -> None:
        self.count += 1
        self.number_tests.append(test)

    def add_any_test(self, test: Predicate) -> None:
        self.count += 1
        self.any_tests.append(test)

    def add_exists(self, present: bool) -> None:
        self.count += 1
        if present:
            self.exists_true = True
        else:
            self.exists_false = True

    # -- compilation ---------------------------------------------------------------------------
    def predicate(self) -> Predicate:
        """One closure that is true when any value rule matches a leaf value."""
        strings = frozenset(self.strings)
        numbers = frozenset(self.numbers)
        booleans = frozenset(self.booleans)
        null = self.null
        ip_exact = frozenset(self.ip_exact)
        string_tests = tuple(self.string_tests)
        number_tests = tuple(self.number_tests)
        any_tests = tuple(self.any_tests)

        kinds = sum(
            1
            for present in (
                strings,
                numbers,
                booleans,
                null,
                ip_exact,
                string_tests,
                number_tests,
                any_tests,
            )
            if present
        )
        # Fast paths: one kind of rule (a set of exact strings, one prefix, one range...).
        if kinds == 0:
            return _never
        if kinds == 1:
            if strings:
                return lambda v: type(v) is str and v in strings
            if numbers:
                return lambda v: (type(v) is int or type(v) is float) and v in numbers
            if len(string_tests) == 1:
                string_test = string_tests[0]
                return lambda v: type(v) is str and string_test(v)
            if len(number_tests) == 1:
                number_test = number_tests[0]
                return lambda v: (type(v) is int or type(v) is float) and number_test(v)
            if len(any_tests) == 1:
                return any_tests[0]
            if null:
                return lambda v: v is None
            if booleans:
                return lambda v: type(v) is bool and v in booleans

        def predicate(v: Any) -> bool:
            kind = type(v)
            if kind is str:
                if v in strings:
                    return True
                for test in string_tests:
                    if test(v):
                        return True
                if ip_exact and looks_like_ip(v) and ip_literal(v) in ip_exact:
                    return True
            elif kind is int or kind is float:
                if v in numbers:
                    return True
                for test in number_tests:
                    if test(v):
                        return True
            elif kind is bool:
                if v in booleans:
                    return True
            elif v is None and null:
                return True
            for test in any_tests:  # noqa: SIM110 (a generator is slower here)
                if test(v):
                    return True
            return False

        return predicate


def _never(_value: Any) -> bool:
    return False


# -- string rules ------------------------------------------------------------------------------
def prefix_test(prefix: str) -> Predicate:
    """String starts with prefix."""
    return lambda v: v.startswith(prefix)


def suffix_test(suffix: str) -> Predicate:
    """String ends with suffix."""
    return lambda v: v.endswith(suffix)


def prefix_ignore_case_test(prefix: str) -> Predicate:
    """String starts with prefix, ignoring case."""
    folded = prefix.lower()
    return lambda v: v.lower().startswith(folded)


def suffix_ignore_case_test(suffix: str) -> Predicate:
    """String ends with suffix, ignoring case."""
    folded = suffix.lower()
    return lambda v: v.lower().endswith(folded)


def equals_ignore_case_test(text: str) -> Predicate:
    """String equals text, ignoring case."""
    folded = text.lower()
    return lambda v: v.lower() == folded


def wildcard_test(text: str) -> Predicate:
    """String matches a wildcard pattern."""
    fullmatch = wildcard_regex(text).fullmatch
    return lambda v: fullmatch(v) is not None


def cidr_test(version: int, low: int, high: int) -> Predicate:
    """String is an IP literal of that version within [low, high]."""

    def test(v: str) -> bool:
        if not looks_like_ip(v):
            return False
        parsed = ip_literal(v)
        return parsed is not None and parsed[0] == version and low <= parsed[1] <= high

    return test


# -- number rules ------------------------------------------------------------------------------
def range_test(low: float, low_open: bool, high: float, high_open: bool) -> Predicate:
    """Number within bounds (unbounded sides are capped at +-5.0e9, EventBridge's range)."""
    if low_open and high_open:
        return lambda v: low < v < high
    if low_open:
        return lambda v: low < v <= high
    if high_open:
        return lambda v: low <= v < high
    return lambda v: low <= v <= high


# -- anything-but rules (apply to every leaf type) ----------------------------------------------
def anything_but_strings(values: frozenset[str]) -> Predicate:
    """Any leaf except these strings (null, numbers and booleans pass)."""
    return lambda v: type(v) is not str or v not in values


def anything_but_numbers(values: frozenset[int | float]) -> Predicate:
    """Any leaf except numbers equal to these."""
    return lambda v: not ((type(v) is int or type(v) is float) and v in values)


def anything_but_string_test(test: Predicate) -> Predicate:
    """Any leaf except strings for which test is true."""
    return lambda v: type(v) is not str or not test(v)
