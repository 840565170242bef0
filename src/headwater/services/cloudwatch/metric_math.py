"""CloudWatch metric math: the expression language of GetMetricData and alarms.

Supported: numbers, query ids (``m1``), ``+ - * / ^``, unary minus, parentheses, arrays
``[m1, m2]``, ``METRICS()`` / ``METRICS("part of an id")``, the aggregates ``SUM AVG MIN
MAX STDDEV`` (over an array: one series, timestamp by timestamp; over one series: a
scalar), ``FILL(x, value | REPEAT | LINEAR)``, and ``ABS CEIL FLOOR``. Arithmetic between
two series keeps the timestamps both have, as CloudWatch does.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from headwater.services.cloudwatch.series import Series

Value = float | Series | list[Series]


class MathError(ValueError):
    """An expression that cannot be parsed or evaluated (message says why)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r'|(?P<string>"[^"]*"|\'[^\']*\')'
    r"|(?P<op>[-+*/^(),\[\]]))"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


def tokenize(expression: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MathError(f"Unexpected character at position {position + 1}")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


# ---- syntax tree ----


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Ref:
    name: str


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


Node = Number | Ref | Text | Call | Array | Binary | Negate


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None:
            raise MathError("Unexpected end of expression")
        if text is not None and token.text != text:
            raise MathError(f"Expected '{text}' but found '{token.text}'")
        self.index += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while (token := self.peek()) is not None and token.text in ("+", "-"):
            self.index += 1
            node = Binary(token.text, node, self.term())
        return node

    def term(self) -> Node:
        node = self.power()
        while (token := self.peek()) is not None and token.text in ("*", "/"):
            self.index += 1
            node = Binary(token.text, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        token = self.peek()
        if token is not None and token.text == "^":
            self.index += 1
            return Binary("^", node, self.power())
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token.text == "-":
            self.index += 1
            return Negate(self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Number(float(token.text))
        if token.kind == "string":
            return Text(token.text[1:-1])
        if token.text == "(":
            node = self.expression()
            self.take(")")
            return node
        if token.text == "[":
            items = self.items("]")
            return Array(tuple(items))
        if token.kind == "name":
            following = self.peek()
            if following is not None and following.text == "(":
                self.index += 1
                return Call(token.text.upper(), tuple(self.items(")")))
            return Ref(token.text)
        raise MathError(f"Unexpected token '{token.text}'")

    def items(self, closing: str) -> list[Node]:
        items: list[Node] = []
        token = self.peek()
        if token is not None and token.text == closing:
            self.index += 1
            return items
        while True:
            items.append(self.expression())
            token = self.take()
            if token.text == closing:
                return items
            if token.text != ",":
                raise MathError(f"Expected ',' or '{closing}' but found '{token.text}'")


def parse(expression: str) -> Node:
    """The syntax tree of ``expression``; raises MathError."""
    parser = _Parser(tokenize(expression))
    node = parser.expression()
    if parser.peek() is not None:
        raise MathError(f"Unexpected token '{parser.peek().text}'")  # type: ignore[union-attr]
    return node


def references(node: Node) -> set[str]:
    """Query ids an expression reads (``METRICS()`` is resolved by the caller)."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Call | Array):
        children = node.args if isinstance(node, Call) else node.items
        found: set[str] = set()
        for child in children:
            found |= references(child)
        return found
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Negate):
        return references(node.operand)
    return set()


def uses_metrics_function(node: Node) -> bool:
    if isinstance(node, Call):
        return node.function == "METRICS" or any(uses_metrics_function(a) for a in node.args)
    if isinstance(node, Array):
        return any(uses_metrics_function(i) for i in node.items)
    if isinstance(node, Binary):
        return uses_metrics_function(node.left) or uses_metrics_function(node.right)
    if isinstance(node, Negate):
        return uses_metrics_function(node.operand)
    return False


# ---- evaluation ----


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression can see: other queries' results and the query's time grid."""

    values: Mapping[str, Value]
    #: Ids of MetricStat queries in request order (what ``METRICS()`` returns).
    metric_ids: Sequence[str]
    #: Every bucket start of the query range (for FILL).
    timestamps: Sequence[int]


def evaluate(node: Node, scope: Scope) -> Value:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Text):
        raise MathError("A string is only allowed as an argument of METRICS()")
    if isinstance(node, Ref):
        if node.name not in scope.values:
            raise MathError(f"Unknown metric or expression id '{node.name}'")
        return scope.values[node.name]
    if isinstance(node, Negate):
        return _elementwise(evaluate(node.operand, scope), lambda v: -v)
    if isinstance(node, Array):
        items: list[Series] = []
        for item in node.items:
            value = evaluate(item, scope)
            if isinstance(value, list):
                items.extend(value)
            elif isinstance(value, dict):
                items.append(value)
            else:
                raise MathError("Arrays can only hold time series")
        return items
    if isinstance(node, Binary):
        return _binary(node.op, evaluate(node.left, scope), evaluate(node.right, scope))
    return _call(node, scope)


def _call(node: Call, scope: Scope) -> Value:
    name = node.function
    if name == "METRICS":
        part = ""
        if node.args:
            if len(node.args) != 1 or not isinstance(node.args[0], Text):
                raise MathError("METRICS() takes at most one string argument")
            part = node.args[0].value
        found = [scope.values[i] for i in scope.metric_ids if part in i and i in scope.values]
        return [s for s in found if isinstance(s, dict)]
    if name == "FILL":
        if len(node.args) != 2:
            raise MathError("FILL takes two arguments")
        how = node.args[1]
        mode: str | float
        if isinstance(how, Ref) and how.name.upper() in ("REPEAT", "LINEAR"):
            mode = how.name.upper()
        else:
            filler = evaluate(how, scope)
            if not isinstance(filler, float):
                raise MathError("The second argument of FILL must be a number, REPEAT or LINEAR")
            mode = filler
        target = evaluate(node.args[0], scope)
        if isinstance(target, list):
            return [_fill(s, mode, scope.timestamps) for s in target]
        if isinstance(target, dict):
            return _fill(target, mode, scope.timestamps)
        raise MathError("The first argument of FILL must be a time series")
    args = [evaluate(arg, scope) for arg in node.args]
    if name in _AGGREGATES:
        if len(args) != 1:
            raise MathError(f"{name} takes exactly one argument")
        return _aggregate(_AGGREGATES[name], args[0])
    if name in _ELEMENTWISE:
        if len(args) != 1:
            raise MathError(f"{name} takes exactly one argument")
        return _elementwise(args[0], _ELEMENTWISE[name])
    raise MathError(f"Unrecognized function {name}")


_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": statistics.fmean,
    "MIN": min,
    "MAX": max,
    "STDDEV": lambda values: statistics.pstdev(values) if len(values) > 1 else 0.0,
}

_ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
}


def _aggregate(function: Callable[[list[float]], float], value: Value) -> Value:
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        return function(list(value.values())) if value else math.nan
    stamps = sorted({ts for series in value for ts in series})
    return {ts: function([s[ts] for s in value if ts in s]) for ts in stamps}


def _elementwise(value: Value, function: Callable[[float], float]) -> Value:
    if isinstance(value, float):
        return function(value)
    if isinstance(value, dict):
        return {ts: function(v) for ts, v in value.items()}
    return [{ts: function(v) for ts, v in series.items()} for series in value]


def _apply(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            return math.nan
        return left / right
    try:
        return float(left**right)
    except (OverflowError, ZeroDivisionError):
        return math.nan


def _binary(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, list):
        return [_as_series(_binary(op, item, right)) for item in left]
    if isinstance(right, list):
        return [_as_series(_binary(op, left, item)) for item in right]
    if isinstance(left, float) and isinstance(right, float):
        return _apply(op, left, right)
    if isinstance(left, float):
        assert isinstance(right, dict)
        return {ts: _apply(op, left, v) for ts, v in right.items()}
    if isinstance(right, float):
        return {ts: _apply(op, v, right) for ts, v in left.items()}
    return {ts: _apply(op, v, right[ts]) for ts, v in left.items() if ts in right}


def _as_series(value: Value) -> Series:
    if not isinstance(value, dict):
        raise MathError("Cannot combine an array with an array")
    return value


def _fill(series: Series, mode: str | float, timestamps: Sequence[int]) -> Series:
    filled: Series = {}
    known = sorted(series)
    for ts in timestamps:
        if ts in series:
            filled[ts] = series[ts]
            continue
        if isinstance(mode, float):
            filled[ts] = mode
            continue
        before = [k for k in known if k < ts]
        after = [k for k in known if k > ts]
        if mode == "REPEAT":
            if before:
                filled[ts] = series[before[-1]]
            elif after:
                filled[ts] = series[after[0]]
        elif before and after:
            a, b = before[-1], after[0]
            filled[ts] = series[a] + (series[b] - series[a]) * (ts - a) / (b - a)
    return filled


def finite(series: Series) -> Series:
    """Drop the points arithmetic made undefined (division by zero)."""
    return {ts: v for ts, v in series.items() if not math.isnan(v) and not math.isinf(v)}
