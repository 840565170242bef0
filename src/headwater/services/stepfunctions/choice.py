"""Choice rules: the comparison operators, ``And``/``Or``/``Not`` and the type tests.

A comparison of a value of the wrong type (a string against NumericEquals) is false, as
on AWS; a ``Variable`` that names nothing fails the execution with States.Runtime, as
on AWS (test it first with ``IsPresent``).
Timestamps compare as instants (RFC 3339 text).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from typing import Any

from headwater.services.stepfunctions.failures import RUNTIME, StatesError
from headwater.services.stepfunctions.paths import MISSING, read_path

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
#: Every comparison operator name (with its ``Path`` variant) -> (kind, ordering).
COMPARISONS: dict[str, tuple[str, str]] = {}
for _kind in _KINDS:
    for _order in _ORDERINGS:
        if _kind == "Boolean" and _order != "Equals":
            continue
        COMPARISONS[f"{_kind}{_order}"] = (_kind, _order)
        COMPARISONS[f"{_kind}{_order}Path"] = (_kind, _order)
TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
OPERATORS = frozenset(COMPARISONS) | frozenset(TYPE_TESTS) | {"StringMatches"}


def parse_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _typed(kind: str, value: Any) -> Any:
    """``value`` as a ``kind`` operand, or ``MISSING`` when it is not one."""
    if kind == "String":
        return value if isinstance(value, str) else MISSING
    if kind == "Numeric":
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        return value if numeric else MISSING
    if kind == "Boolean":
        return value if isinstance(value, bool) else MISSING
    stamp = parse_timestamp(value)
    return MISSING if stamp is None else stamp


def _string_matches(value: Any, pattern: str) -> bool:
    if not isinstance(value, str):
        return False
    # "*" is any run of characters; "\*" a literal star (and "\\" a backslash).
    regex = "".join(
        re.escape(piece[1])
        if piece.startswith("\\")
        else ".*"
        if piece == "*"
        else re.escape(piece)
        for piece in re.findall(r"\\.|\*|[^\\*]+", pattern)
    )
    return re.fullmatch(regex, value, re.DOTALL) is not None


def rule_matches(rule: dict[str, Any], data: Any, context: Any) -> bool:
    """Whether the Choice rule ``rule`` holds for the state's input ``data``."""
    if "And" in rule:
        return all(rule_matches(inner, data, context) for inner in rule["And"])
    if "Or" in rule:
        return any(rule_matches(inner, data, context) for inner in rule["Or"])
    if "Not" in rule:
        return not rule_matches(rule["Not"], data, context)
    value = read_path(str(rule["Variable"]), data, context)
    for name in TYPE_TESTS:
        if name in rule:
            wanted = bool(rule[name])
            return _type_test(name, value) == wanted
    if value is MISSING:
        # AWS fails the execution rather than taking the rule as false.
        raise StatesError(
            RUNTIME,
            f"Invalid path '{rule['Variable']}': The choice state's condition path"
            " references an invalid value.",
        )
    if "StringMatches" in rule:
        return _string_matches(value, str(rule["StringMatches"]))
    for name, (kind, order) in COMPARISONS.items():
        if name not in rule:
            continue
        expected = rule[name]
        if name.endswith("Path"):
            expected = read_path(str(expected), data, context)
            if expected is MISSING:
                return False
        left, right = _typed(kind, value), _typed(kind, expected)
        if left is MISSING or right is MISSING:
            return False
        return _ORDERINGS[order](left, right)
    return False


def _type_test(name: str, value: Any) -> bool:
    if name == "IsPresent":
        return value is not MISSING
    if value is MISSING:
        return False
    if name == "IsNull":
        return value is None
    if name == "IsNumeric":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "IsString":
        return isinstance(value, str)
    if name == "IsBoolean":
        return isinstance(value, bool)
    return parse_timestamp(value) is not None
