"""Pattern validation, with EventBridge's exact rejection messages, into match branches.

A pattern becomes a list of *branches* (``$or`` forks the pattern; without it there is one),
each a mapping from a dotted field path to the :class:`FieldRules` of that field. Paths are
joined with ``.`` exactly as EventBridge does, so ``{"a": {"b": [..]}}`` and ``{"a.b": [..]}``
name the same field. Checks and messages follow EventBridge's rule compiler, in document order.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from headwater.core.errors import HeadwaterError
from headwater.core.filtering import operators as ops
from headwater.core.filtering.jsontext import PatternSyntaxError, is_nothing, read_pattern_text

MESSAGE_PREFIX = "Event pattern is not valid. Reason: "
OR_KEY = "$or"

#: Names that may not be used as field names inside ``$or`` (EventBridge reserves them).
RESERVED_IN_OR = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "html",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)

#: Wildcard patterns that can keep more pattern positions alive at once are "too complex".
#: Estimated from AWS's recorded answers: a pattern scoring 8 was accepted, one scoring 13
#: ("*:*:*:*:*:event-bus/*") rejected as too complex.
MAX_WILDCARD_COMPLEXITY = 10
_MAX_SUBSETS = 20_000
#: EventBridge's rule engine caps the fields of one rule (branch) at 256.
MAX_FIELDS_PER_BRANCH = 256
#: Our cap on the branches ``$or`` may expand to (AWS documents none; see docs/filtering.md).
MAX_BRANCHES = 1000
NESTING_MESSAGE = (
    "Document nesting depth exceeds the maximum allowed (1000, from "
    "`StreamReadConstraints.getMaxNestingDepth()`)"
)
_MASK_BITS = re.compile(r"[+-]?[0-9]{1,9}")

Branch = dict[str, ops.FieldRules]


class InvalidPatternError(HeadwaterError):
    """An event pattern EventBridge would reject; the message is EventBridge's."""

    def __init__(self, reason: str) -> None:
        super().__init__(MESSAGE_PREFIX + reason)
        self.reason = reason


def _barf(reason: str) -> NoReturn:
    raise InvalidPatternError(reason)


def _text(value: Any) -> str:
    """How the JSON parser would print a token in a message."""
    if isinstance(value, str):
        return value
    if isinstance(value, _End):
        return "]"
    if isinstance(value, list):
        return "["
    if isinstance(value, dict):
        return "{"
    return json.dumps(value)


def load_pattern(pattern: str | bytes | dict[str, Any]) -> Any:
    """Pattern text or object to a Python value, with Jackson's syntax messages."""
    if isinstance(pattern, dict):
        return pattern
    text = pattern.decode("utf-8") if isinstance(pattern, bytes) else pattern
    try:
        value = read_pattern_text(text)
    except PatternSyntaxError as exc:
        raise InvalidPatternError(exc.reason) from None
    except RecursionError:
        # Deeper than Python's stack allows (far beyond any pattern of 4096 characters).
        raise InvalidPatternError(NESTING_MESSAGE) from None
    if is_nothing(value):
        _barf("Filter is not an object")
    return value


def parse_pattern(pattern: str | bytes | dict[str, Any]) -> list[Branch]:
    """Validate a pattern and return its branches (at least one)."""
    value = load_pattern(pattern)
    if not isinstance(value, dict):
        _barf("Filter is not an object")
    branches: list[Branch] = []
    try:
        _parse_object(branches, [], value, inside_or=False)
    except RecursionError:
        _barf(NESTING_MESSAGE)
    for branch in branches:
        if len(branch) > MAX_FIELDS_PER_BRANCH:
            _barf(f"Size of rule exceeds max value of {MAX_FIELDS_PER_BRANCH}")
    return branches


def _parse_object(
    branches: list[Branch], path: list[str], obj: dict[str, Any], *, inside_or: bool
) -> None:
    if not obj:
        _barf("Empty objects are not allowed")
    for key, value in obj.items():
        if key == OR_KEY:
            _parse_or(branches, path, value)
            continue
        if inside_or and key in RESERVED_IN_OR:
            _barf(f"{key} is Ruler reserved fieldName which cannot be used inside $or.")
        if isinstance(value, dict):
            _parse_object(branches, [*path, key], value, inside_or=inside_or)
        elif isinstance(value, list):
            _write_rules(branches, ".".join([*path, key]), value)
        else:
            _barf(f'"{key}" must be an object or an array')


def _parse_or(branches: list[Branch], path: list[str], value: Any) -> None:
    current = [dict(b) for b in branches]
    branches.clear()
    if not isinstance(value, list):
        _barf("It must be an Array followed with $or.")
    for alternative in value:
        if not isinstance(alternative, dict):
            _barf("Only JSON object is allowed in array of $or relationship.")
        forked = [dict(b) for b in current] or [{}]
        _parse_object(forked, path, alternative, inside_or=True)
        branches.extend(forked)
    if len(value) < 2:
        _barf("There must have at least 2 Objects in $or relationship.")
    if len(branches) > MAX_BRANCHES:
        # Parallel $or multiply; unbounded, a 4 KB pattern could expand to 2**100 branches.
        _barf(f"Too many $or combinations (more than {MAX_BRANCHES})")


def _write_rules(branches: list[Branch], name: str, values: list[Any]) -> None:
    rules = ops.FieldRules()
    for value in values:
        if isinstance(value, dict):
            _match_expression(rules, value)
        elif isinstance(value, list):
            _barf("Match value must be String, number, true, false, or null")
        else:
            rules.add_exact(value)
    if not values:
        _barf("Empty arrays are not allowed")
    if not branches:
        branches.append({})
    for branch in branches:
        # A path given twice (duplicate key, or "a.b" next to {"a": {"b"}}): the last one wins.
        branch[name] = rules


def _only_key(
    expression: dict[str, Any], message: str = "Only one key allowed in match expression"
) -> None:
    if len(expression) > 1:
        _barf(message)


def _string_operand(value: Any, message: str) -> str:
    if not isinstance(value, str):
        _barf(message)
    return value


def _match_expression(rules: ops.FieldRules, expression: dict[str, Any]) -> None:
    if not expression:
        _barf("Match expression name not found")
    name, value = next(iter(expression.items()))
    if name == "exactly":
        rules.add_exact(_string_operand(value, "exact match pattern must be a string"))
        _only_key(expression)
    elif name in ("prefix", "suffix"):
        if isinstance(value, dict):
            operand = _ignore_case_operand(name, value)
            test = (
                ops.prefix_ignore_case_test(operand)
                if name == "prefix"
                else ops.suffix_ignore_case_test(operand)
            )
        else:
            operand = _string_operand(value, f"{name} match pattern must be a string")
            test = ops.prefix_test(operand) if name == "prefix" else ops.suffix_test(operand)
        _only_key(expression)
        rules.add_string_test(test)
    elif name == "equals-ignore-case":
        operand = _string_operand(value, "equals-ignore-case match pattern must be a string")
        _only_key(expression)
        rules.add_string_test(ops.equals_ignore_case_test(operand))
    elif name == "numeric":
        if not isinstance(value, list):
            _barf("Value of numeric must be an array.")
        rules.add_number_test(_numeric(value))
        _only_key(expression, "Too many elements in numeric expression")
    elif name == "anything-but":
        rules.add_any_test(_anything_but(value))
        _only_key(expression, "Too many elements in numeric expression")
    elif name == "exists":
        if value is not True and value is not False:
            _barf("exists match pattern must be either true or false.")
        _only_key(expression)
        rules.add_exists(value)
    elif name == "cidr":
        operand = _string_operand(value, "prefix match pattern must be a string")
        version, low, high = _cidr(operand)
        _only_key(expression)
        rules.add_string_test(ops.cidr_test(version, low, high))
    elif name == "wildcard":
        operand = _string_operand(value, "wildcard match pattern must be a string")
        _check_wildcard(operand)
        _only_key(expression)
        rules.add_string_test(ops.wildcard_test(operand))
    else:
        _barf(f"Unrecognized match type {name}")


def _ignore_case_operand(kind: str, inner: dict[str, Any]) -> str:
    title = kind.capitalize()
    if not inner:
        _barf(f"{title} expression name not found")
    op, operand = next(iter(inner.items()))
    if op != "equals-ignore-case":
        _barf(f"Unsupported {kind} pattern: {op}")
    text = _string_operand(operand, "equals-ignore-case match pattern must be a string")
    _only_key(inner)
    return text


# -- numbers -----------------------------------------------------------------------------------
def _comparable(value: int | float) -> float:
    if not -ops.NUMBER_LIMIT <= value <= ops.NUMBER_LIMIT:
        _barf("Value must be between -5.0E9 and 5.0E9, inclusive")
    return float(value)


def _numeric(terms: list[Any]) -> ops.Predicate:
    def term(i: int) -> Any:
        return terms[i] if i < len(terms) else _END

    first = term(0)
    if not isinstance(first, str):
        _barf(f"Invalid member in numeric match: {_text(first)}")
    operator = first
    operand = term(1)
    operand_ok = ops.is_number(operand)
    limit = ops.NUMBER_LIMIT
    if operator == "=":
        if not operand_ok:
            _barf("Value of equals must be numeric")
        if len(terms) > 2:
            _barf("Too many elements in numeric expression")
        number = _comparable(operand)
        return ops.range_test(number, False, number, False)
    if operator in (">=", ">"):
        if not operand_ok:
            _barf(f"Value of {operator} must be numeric")
        bottom = _comparable(operand)
        low_open = operator == ">"
        if len(terms) == 2:
            return ops.range_test(bottom, low_open, limit, False)
        second = term(2)
        if not isinstance(second, str):
            _barf(f"Bad value in numeric range: {_text(second)}")
        if second not in ("<", "<="):
            _barf(f"Bad numeric range operator: {second}")
        top_operand = term(3)
        if not ops.is_number(top_operand):
            _barf(f"Value of {second} must be numeric")
        if len(terms) > 4:
            _barf("Too many terms in numeric range expression")
        top = _comparable(top_operand)
        if bottom >= top:
            _barf("Bottom must be less than top")
        return ops.range_test(bottom, low_open, top, second == "<")
    if operator in ("<=", "<"):
        if not operand_ok:
            _barf(f"Value of {operator} must be numeric")
        if len(terms) > 2:
            _barf("Too many elements in numeric expression")
        top = _comparable(operand)
        return ops.range_test(-limit, False, top, operator == "<")
    _barf(f"Unrecognized numeric range operator: {operator}")


class _End:
    """The end of a JSON array (a missing term)."""


_END = _End()


# -- anything-but ------------------------------------------------------------------------------
_SET_KINDS = ("equals-ignore-case", "prefix", "suffix", "wildcard")


def _anything_but(value: Any) -> ops.Predicate:
    kind = "plain"
    if isinstance(value, dict):
        if not value:
            _barf("Anything-But expression name not found")
        op, inner = next(iter(value.items()))
        if op not in _SET_KINDS:
            _barf(f"Unsupported anything-but pattern: {op}")
        kind = op
        operand = inner
    else:
        operand = value
    if not (isinstance(operand, list | str) or ops.is_number(operand)):
        _barf("Value of anything-but must be an array or single string/number value.")
    items = operand if isinstance(operand, list) else [operand]
    if kind == "plain":
        predicate = _anything_but_plain(items, single=not isinstance(operand, list))
    else:
        predicate = _anything_but_set(kind, items)
    if isinstance(value, dict):
        _only_key(value, "Too many elements in numeric expression")
    return predicate


def _anything_but_plain(items: list[Any], *, single: bool) -> ops.Predicate:
    strings: set[str] = set()
    numbers: set[int | float] = set()
    for item in items:
        if isinstance(item, str):
            strings.add(item)
        elif ops.is_number(item):
            _comparable(item)
            numbers.add(item)
        elif single:
            _barf("Inside anything-but list, start|null|boolean is not supported.")
        else:
            _barf("Inside anything but list, start|null|boolean is not supported.")
    if bool(strings) == bool(numbers):
        _barf(
            "Inside anything but list, either all values are number or string, "
            "mixed type is not supported"
        )
    if strings:
        return ops.anything_but_strings(frozenset(strings))
    return ops.anything_but_numbers(frozenset(numbers))


def _anything_but_set(kind: str, items: list[Any]) -> ops.Predicate:
    texts: list[str] = []
    for item in items:
        if not isinstance(item, str):
            if kind == "equals-ignore-case":
                _barf(
                    "Inside anything-but/equals-ignore-case list, "
                    "number|start|null|boolean is not supported."
                )
            if kind == "wildcard":
                _barf("wildcard match pattern must be a string")
            _barf("prefix/suffix match pattern must be a string")
        if kind in ("prefix", "suffix") and not item:
            _barf("Null prefix/suffix not allowed")
        texts.append(item)
    if kind == "equals-ignore-case":
        folded = frozenset(t.lower() for t in texts)
        return ops.anything_but_string_test(lambda v: v.lower() in folded)
    if kind == "prefix":
        prefixes = tuple(texts)
        return ops.anything_but_string_test(lambda v: v.startswith(prefixes))
    if kind == "suffix":
        suffixes = tuple(texts)
        return ops.anything_but_string_test(lambda v: v.endswith(suffixes))
    for text in texts:
        _check_wildcard(text)
    tests = [ops.wildcard_test(t) for t in texts]
    return ops.anything_but_string_test(lambda v: any(test(v) for test in tests))


# -- cidr and wildcard -------------------------------------------------------------------------
def _ip_bytes(text: str) -> tuple[int, int]:
    if not ops.looks_like_ip(text):
        _barf(f"Nonstandard IP address: {text}")
    parsed = ops.ip_literal(text)
    if parsed is None:
        _barf(f"Invalid IP address: {text}")
    return parsed


def _cidr(text: str) -> tuple[int, int, int]:
    parts = text.split("/")
    while parts and parts[-1] == "":  # Java's String.split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        _barf("Malformed CIDR, one '/' required")
    if not _MASK_BITS.fullmatch(parts[1]):
        _barf("Malformed CIDR, mask bits must be an integer")
    mask = int(parts[1])
    if mask < 0:
        _barf("Malformed CIDR, mask bits must not be negative")
    version, address = _ip_bytes(parts[0])
    width = 32 if version == 4 else 128
    if mask > width - 1:
        _barf(f"IPv{version} mask bits must be < {width}")
    host_bits = (1 << (width - mask)) - 1
    # EventBridge's range starts at the address as written (host bits are not cleared).
    return version, address, address | host_bits


def _check_wildcard(text: str) -> None:
    """EventBridge's wildcard checks; positions count UTF-8 bytes of the quoted value."""
    data = ('"' + text + '"').encode("utf-8")
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x2A:  # *
            if i + 1 < len(data) and data[i + 1] == 0x2A:
                _barf(f"Consecutive wildcard characters at pos {i}")
        elif byte == 0x5C:  # backslash
            if i + 1 < len(data) and data[i + 1] in (0x2A, 0x5C):
                i += 2
                continue
            _barf(f"Invalid escape character at pos {i}")
        i += 1
    if _wildcard_complexity(text) > MAX_WILDCARD_COMPLEXITY:
        _barf(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating "
            "character sequences after a wildcard character"
        )


def _wildcard_complexity(text: str) -> int:
    """How many prefixes of the wildcard pattern one input can keep alive at once.

    EventBridge measures this (the most positions a worst-case value can be in simultaneously)
    and rejects patterns above a limit: wildcards and sequences repeated after a wildcard both
    raise it. Computed by exploring the subsets of pattern positions reachable by some input,
    stopping as soon as the limit is exceeded.
    """
    tokens: list[str | None] = []  # None is a wildcard, else a literal character
    i = 0
    while i < len(text):
        if text[i] == "\\":
            tokens.append(text[i + 1])
            i += 2
            continue
        tokens.append(None if text[i] == "*" else text[i])
        i += 1
    if None not in tokens:
        return 1
    n = len(tokens)

    def closure(positions: set[int]) -> frozenset[int]:
        # a wildcard may match nothing: being before it is also being after it
        stack = list(positions)
        while stack:
            position = stack.pop()
            if position < n and tokens[position] is None and position + 1 not in positions:
                positions.add(position + 1)
                stack.append(position + 1)
        return frozenset(positions)

    alphabet = {t for t in tokens if t is not None} | {""}  # "" stands for any other character
    start = closure({0})
    seen = {start}
    pending = [start]
    worst = len(start)
    while pending and worst <= MAX_WILDCARD_COMPLEXITY:
        current = pending.pop()
        for char in alphabet:
            following: set[int] = set()
            for position in current:
                if position < n:
                    token = tokens[position]
                    if token is None:
                        following.add(position)
                    elif token == char:
                        following.add(position + 1)
            if not following:
                continue
            reached = closure(following)
            if reached not in seen:
                seen.add(reached)
                pending.append(reached)
                worst = max(worst, len(reached))
        if len(seen) > _MAX_SUBSETS:
            return MAX_WILDCARD_COMPLEXITY + 1
    return worst
