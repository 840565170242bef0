"""Pattern validation, with EventBridge's exact rejection messages, into match branches.

A pattern becomes a list of *branches* (``$or`` forks the pattern; without it there is one),
each a mapping from a dotted field path to the :class:`FieldRules` of that field. Paths are
joined with ``.`` exactly as EventBridge does, so ``{"a": {"b": [..]}}`` and ``{"a.b": [..]}``
name the same field. Checks and messages follow EventBridge's rule compiler, in document order.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from headwater.core.errors import HeadwaterError
from headwater.core.filtering import operators as ops
from headwater.core.filtering.jsontext import PatternSyntaxError, Token, TokenReader, ValueTokens

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


class _Compiler:
    """EventBridge's rule compiler over a token stream (text or Python value)."""

    def __init__(self, tokens: TokenReader | ValueTokens) -> None:
        self.tokens = tokens
        #: wildcard operands, checked for complexity once the whole pattern is read
        self.wildcards: list[str] = []

    def next(self) -> Token:
        try:
            return self.tokens.next_token()
        except PatternSyntaxError as exc:
            raise InvalidPatternError(exc.reason) from None

    # -- structure -----------------------------------------------------------------------------
    def compile(self) -> list[Branch]:
        if self.next()[0] != "{":
            _barf("Filter is not an object")
        branches: list[Branch] = []
        self.parse_object(branches, [], inside_or=False)
        return branches

    def parse_object(self, branches: list[Branch], path: list[str], *, inside_or: bool) -> None:
        fields_present = False
        while True:
            kind, name, _ = self.next()
            if kind == "}":
                break
            fields_present = True
            if name == OR_KEY:
                self.parse_or(branches, path)
                continue
            if inside_or and name in RESERVED_IN_OR:
                _barf(f"{name} is Ruler reserved fieldName which cannot be used inside $or.")
            kind = self.next()[0]
            if kind == "{":
                self.parse_object(branches, [*path, name], inside_or=inside_or)
            elif kind == "[":
                self.write_rules(branches, ".".join([*path, name]))
            else:
                _barf(f'"{name}" must be an object or an array')
        if not fields_present:
            _barf("Empty objects are not allowed")

    def parse_or(self, branches: list[Branch], path: list[str]) -> None:
        current = [dict(b) for b in branches]
        branches.clear()
        if self.next()[0] != "[":
            _barf("It must be an Array followed with $or.")
        count = 0
        while (kind := self.next()[0]) != "]":
            count += 1
            if kind != "{":
                _barf("Only JSON object is allowed in array of $or relationship.")
            forked = [dict(b) for b in current] or [{}]
            self.parse_object(forked, path, inside_or=True)
            branches.extend(forked)
            if len(branches) > MAX_BRANCHES:
                # Parallel $or multiply; unbounded, 4 KB could expand to 2**100 branches.
                _barf(f"Too many $or combinations (more than {MAX_BRANCHES})")
        if count < 2:
            _barf("There must have at least 2 Objects in $or relationship.")

    def write_rules(self, branches: list[Branch], name: str) -> None:
        rules = ops.FieldRules()
        while True:
            kind, value, _ = self.next()
            if kind == "]":
                break
            if kind == "{":
                self.match_expression(rules)
            elif kind in ("string", "number", "true", "false", "null"):
                rules.add_exact(value)
            else:
                _barf("Match value must be String, number, true, false, or null")
        if not rules.count:
            _barf("Empty arrays are not allowed")
        if not branches:
            branches.append({})
        for branch in branches:
            # A path given twice (duplicate key, or "a.b" next to {"a": {"b"}}): last one wins.
            branch[name] = rules

    def end_of_expression(self, message: str = "Only one key allowed in match expression") -> None:
        if self.next()[0] != "}":
            _barf(message)

    def string_operand(self, message: str) -> str:
        kind, value, _ = self.next()
        if kind != "string":
            _barf(message)
        return str(value)

    # -- match expressions ---------------------------------------------------------------------
    def match_expression(self, rules: ops.FieldRules) -> None:
        kind, name, _ = self.next()
        if kind != "field":
            _barf("Match expression name not found")
        if name == "exactly":
            rules.add_exact(self.string_operand("exact match pattern must be a string"))
            self.end_of_expression()
        elif name in ("prefix", "suffix"):
            kind, value, _ = self.next()
            if kind == "{":
                operand = self.ignore_case_operand(name)
                test = (
                    ops.prefix_ignore_case_test(operand)
                    if name == "prefix"
                    else ops.suffix_ignore_case_test(operand)
                )
            else:
                if kind != "string":
                    _barf(f"{name} match pattern must be a string")
                test = ops.prefix_test(value) if name == "prefix" else ops.suffix_test(value)
            self.end_of_expression()
            rules.add_string_test(test)
        elif name == "equals-ignore-case":
            operand = self.string_operand("equals-ignore-case match pattern must be a string")
            self.end_of_expression()
            rules.add_string_test(ops.equals_ignore_case_test(operand))
        elif name == "numeric":
            if self.next()[0] != "[":
                _barf("Value of numeric must be an array.")
            test = self.numeric()
            self.end_of_expression("Too many elements in numeric expression")
            rules.add_number_test(test)
        elif name == "anything-but":
            rules.add_any_test(self.anything_but())
        elif name == "exists":
            kind = self.next()[0]
            if kind not in ("true", "false"):
                _barf("exists match pattern must be either true or false.")
            self.end_of_expression()
            rules.add_exists(kind == "true")
        elif name == "cidr":
            operand = self.string_operand("prefix match pattern must be a string")
            version, low, high = _cidr(operand)
            self.end_of_expression()
            rules.add_string_test(ops.cidr_test(version, low, high))
        elif name == "wildcard":
            operand = self.string_operand("wildcard match pattern must be a string")
            _check_wildcard_syntax(operand)
            self.wildcards.append(operand)
            self.end_of_expression()
            rules.add_string_test(ops.wildcard_test(operand))
        else:
            _barf(f"Unrecognized match type {name}")

    def ignore_case_operand(self, kind: str) -> str:
        token_kind, op, _ = self.next()
        if token_kind != "field":
            _barf(f"{kind.capitalize()} expression name not found")
        if op != "equals-ignore-case":
            _barf(f"Unsupported {kind} pattern: {op}")
        text = self.string_operand("equals-ignore-case match pattern must be a string")
        self.end_of_expression()
        return text

    # -- numeric ---------------------------------------------------------------------------------
    def numeric(self) -> ops.Predicate:
        kind, operator, text = self.next()
        if kind != "string":
            _barf(f"Invalid member in numeric match: {text}")
        kind, operand, _ = self.next()
        is_number = kind == "number"
        limit = ops.NUMBER_LIMIT
        if operator == "=":
            if not is_number:
                _barf("Value of equals must be numeric")
            self.end_of_array("Too many elements in numeric expression")
            number = _comparable(operand)
            return ops.range_test(number, False, number, False)
        if operator in (">=", ">"):
            if not is_number:
                _barf(f"Value of {operator} must be numeric")
            kind, second, text = self.next()
            if kind == "]":
                return _range(operand, operator == ">", limit, False)
            if kind != "string":
                _barf(f"Bad value in numeric range: {text}")
            if second not in ("<", "<="):
                _barf(f"Bad numeric range operator: {second}")
            kind, top, _ = self.next()
            if kind != "number":
                _barf(f"Value of {second} must be numeric")
            self.end_of_array("Too many terms in numeric range expression")
            return _range(operand, operator == ">", top, second == "<")
        if operator in ("<=", "<"):
            if not is_number:
                _barf(f"Value of {operator} must be numeric")
            self.end_of_array("Too many elements in numeric expression")
            return _range(-limit, False, operand, operator == "<")
        _barf(f"Unrecognized numeric range operator: {operator}")

    def end_of_array(self, message: str) -> None:
        if self.next()[0] != "]":
            _barf(message)

    # -- anything-but ----------------------------------------------------------------------------
    def anything_but(self) -> ops.Predicate:
        kind, value, _ = self.next()
        variant = "plain"
        if kind == "{":
            kind, op, _ = self.next()
            if kind != "field":
                _barf("Anything-But expression name not found")
            if op not in _SET_KINDS:
                _barf(f"Unsupported anything-but pattern: {op}")
            variant = op
            kind, value, _ = self.next()
        if kind not in ("[", "string", "number"):
            _barf("Value of anything-but must be an array or single string/number value.")
        if kind == "[":
            items = self.anything_but_list(variant)
        else:
            items = [value]
            if variant != "plain":
                _check_set_item(variant, value, kind)
        predicate = (
            _anything_but_plain(items) if variant == "plain" else _anything_but_set(variant, items)
        )
        if variant == "wildcard":
            for item in items:
                _check_wildcard_syntax(item)
                self.wildcards.append(item)
        self.end_of_expression("Too many elements in numeric expression")
        if variant != "plain":
            self.end_of_expression("Too many elements in numeric expression")
        return predicate

    def anything_but_list(self, variant: str) -> list[Any]:
        items: list[Any] = []
        while True:
            kind, value, _ = self.next()
            if kind == "]":
                return items
            if variant == "plain":
                if kind not in ("string", "number"):
                    _barf("Inside anything but list, start|null|boolean is not supported.")
                if kind == "number":
                    _comparable(value)
            else:
                _check_set_item(variant, value, kind)
            items.append(value)


def _check_set_item(variant: str, value: Any, kind: str | None) -> None:
    """An item of anything-but's equals-ignore-case / prefix / suffix / wildcard."""
    if kind != "string":
        if variant == "equals-ignore-case":
            _barf(
                "Inside anything-but/equals-ignore-case list, "
                "number|start|null|boolean is not supported."
            )
        if variant == "wildcard":
            _barf("wildcard match pattern must be a string")
        _barf("prefix/suffix match pattern must be a string")
    if variant in ("prefix", "suffix") and not value:
        _barf("Null prefix/suffix not allowed")


def load_tokens(pattern: str | bytes | dict[str, Any]) -> TokenReader | ValueTokens:
    """A token stream over pattern text or a pattern object."""
    if isinstance(pattern, dict):
        return ValueTokens(pattern)
    text = pattern.decode("utf-8") if isinstance(pattern, bytes) else pattern
    return TokenReader(text)


def parse_pattern(pattern: str | bytes | dict[str, Any]) -> list[Branch]:
    """Validate a pattern and return its branches (at least one)."""
    compiler = _Compiler(load_tokens(pattern))
    try:
        branches = compiler.compile()
    except RecursionError:
        # Deeper than Python's stack allows (far beyond any pattern of 4096 characters).
        _barf(NESTING_MESSAGE)
    for branch in branches:
        if len(branch) > MAX_FIELDS_PER_BRANCH:
            _barf(f"Size of rule exceeds max value of {MAX_FIELDS_PER_BRANCH}")
    for operand in compiler.wildcards:
        if _wildcard_complexity(operand) > MAX_WILDCARD_COMPLEXITY:
            _barf(
                "Rule is too complex - try using fewer wildcard characters or fewer repeating "
                "character sequences after a wildcard character"
            )
    return branches


# -- numbers -----------------------------------------------------------------------------------
def _comparable(value: int | float) -> float:
    if not -ops.NUMBER_LIMIT <= value <= ops.NUMBER_LIMIT:
        _barf("Value must be between -5.0E9 and 5.0E9, inclusive")
    return float(value)


def _range(bottom: float, low_open: bool, top: float, high_open: bool) -> ops.Predicate:
    """EventBridge's Range: ordered bounds first, then each within +-5.0e9."""
    if bottom >= top:
        _barf("Bottom must be less than top")
    return ops.range_test(_comparable(bottom), low_open, _comparable(top), high_open)


# -- anything-but ------------------------------------------------------------------------------
_SET_KINDS = ("equals-ignore-case", "prefix", "suffix", "wildcard")


def _anything_but_plain(items: list[Any]) -> ops.Predicate:
    strings = frozenset(i for i in items if isinstance(i, str))
    numbers = frozenset(i for i in items if not isinstance(i, str))
    if bool(strings) == bool(numbers):
        _barf(
            "Inside anything but list, either all values are number or string, "
            "mixed type is not supported"
        )
    if strings:
        return ops.anything_but_strings(strings)
    for number in numbers:
        _comparable(number)
    return ops.anything_but_numbers(numbers)


def _anything_but_set(kind: str, texts: list[str]) -> ops.Predicate:
    if kind == "equals-ignore-case":
        folded = frozenset(t.lower() for t in texts)
        return ops.anything_but_string_test(lambda v: v.lower() in folded)
    if kind == "prefix":
        prefixes = tuple(texts)
        return ops.anything_but_string_test(lambda v: v.startswith(prefixes))
    if kind == "suffix":
        suffixes = tuple(texts)
        return ops.anything_but_string_test(lambda v: v.endswith(suffixes))
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


def _check_wildcard_syntax(text: str) -> None:
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
