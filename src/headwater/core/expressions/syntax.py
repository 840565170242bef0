"""The expression tree shared by condition, filter, key-condition, update and projection
expressions, and how conditions evaluate against an item.

Nodes hold ``#name`` placeholders already resolved (paths are real attribute names) and
``:value`` placeholders by name, so a parsed expression can be cached and evaluated with
each request's ``ExpressionAttributeValues``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from headwater.core.expressions.documents import Path, read_path
from headwater.core.expressions.values import (
    AttributeValue,
    Item,
    compare,
    set_members,
    value_type,
    values_equal,
)

Values = dict[str, AttributeValue]


# ---- operands ----


@dataclass(frozen=True, slots=True)
class PathOperand:
    path: Path

    def resolve(self, item: Item, values: Values) -> AttributeValue | None:
        return read_path(item, self.path)


@dataclass(frozen=True, slots=True)
class ValueOperand:
    name: str

    def resolve(self, item: Item, values: Values) -> AttributeValue | None:
        return values[self.name]


@dataclass(frozen=True, slots=True)
class SizeOperand:
    """``size(path)``: string characters, binary bytes, or element count."""

    target: Operand

    def resolve(self, item: Item, values: Values) -> AttributeValue | None:
        value = self.target.resolve(item, values)
        if value is None:
            return None
        ((kind, inner),) = value.items()
        if kind in ("N", "BOOL", "NULL"):
            return None
        return {"N": str(len(inner))}


Operand = PathOperand | ValueOperand | SizeOperand


# ---- conditions ----


@dataclass(frozen=True, slots=True)
class Comparison:
    operator: str  # = <> < <= > >=
    left: Operand
    right: Operand

    def evaluate(self, item: Item, values: Values) -> bool:
        left = self.left.resolve(item, values)
        right = self.right.resolve(item, values)
        op = self.operator
        if left is None or right is None:
            return op == "<>" and (left is not None or right is not None)
        if op == "=":
            return values_equal(left, right)
        if op == "<>":
            return not values_equal(left, right)
        order = compare(left, right)
        if order is None:
            return False
        if op == "<":
            return order < 0
        if op == "<=":
            return order <= 0
        if op == ">":
            return order > 0
        return order >= 0


@dataclass(frozen=True, slots=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand

    def evaluate(self, item: Item, values: Values) -> bool:
        value = self.subject.resolve(item, values)
        low = self.low.resolve(item, values)
        high = self.high.resolve(item, values)
        if value is None or low is None or high is None:
            return False
        above = compare(value, low)
        below = compare(value, high)
        return above is not None and below is not None and above >= 0 and below <= 0


@dataclass(frozen=True, slots=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]

    def evaluate(self, item: Item, values: Values) -> bool:
        value = self.subject.resolve(item, values)
        if value is None:
            return False
        for option in self.options:
            candidate = option.resolve(item, values)
            if candidate is not None and values_equal(value, candidate):
                return True
        return False


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A condition function: attribute_exists, attribute_not_exists, attribute_type,
    begins_with, contains."""

    name: str
    args: tuple[Operand, ...]

    def evaluate(self, item: Item, values: Values) -> bool:
        name = self.name
        first = self.args[0].resolve(item, values)
        if name == "attribute_exists":
            return first is not None
        if name == "attribute_not_exists":
            return first is None
        second = self.args[1].resolve(item, values)
        if first is None or second is None:
            return False
        if name == "attribute_type":
            return value_type(first) == second.get("S")
        if name == "begins_with":
            return _begins_with(first, second)
        return _contains(first, second)


def _begins_with(value: AttributeValue, prefix: AttributeValue) -> bool:
    ((kind, inner),) = value.items()
    ((prefix_kind, start),) = prefix.items()
    if kind != prefix_kind or kind not in ("S", "B"):
        return False
    return bool(inner.startswith(start) if kind == "S" else bytes(inner).startswith(bytes(start)))


def _contains(value: AttributeValue, operand: AttributeValue) -> bool:
    ((kind, inner),) = value.items()
    ((operand_kind, needle),) = operand.items()
    if kind == "S":
        return operand_kind == "S" and needle in inner
    if kind == "B":
        return operand_kind == "B" and bytes(needle) in bytes(inner)
    if kind in ("SS", "NS", "BS"):
        if operand_kind != kind[0]:
            return False
        return set_members({operand_kind + "S": [needle]})[0] in set_members(value)
    if kind == "L":
        return any(values_equal(element, operand) for element in inner)
    return False


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition

    def evaluate(self, item: Item, values: Values) -> bool:
        return self.left.evaluate(item, values) and self.right.evaluate(item, values)


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition

    def evaluate(self, item: Item, values: Values) -> bool:
        return self.left.evaluate(item, values) or self.right.evaluate(item, values)


@dataclass(frozen=True, slots=True)
class Not:
    inner: Condition

    def evaluate(self, item: Item, values: Values) -> bool:
        return not self.inner.evaluate(item, values)


@dataclass(frozen=True, slots=True)
class Always:
    """A condition that holds (legacy ``Expected`` with no entries)."""

    def evaluate(self, item: Item, values: Values) -> bool:
        return True


Condition = Comparison | Between | In | FunctionCall | And | Or | Not | Always


def condition_attributes(condition: Condition) -> set[str]:
    """The top-level attribute names the paths in ``condition`` start from."""
    return {str(path[0]) for path in condition_paths(condition)}


def condition_paths(condition: Condition) -> list[Path]:
    """Every attribute path ``condition`` reads."""
    found: list[Path] = []
    pending: list[Any] = [condition]
    while pending:
        node = pending.pop()
        if isinstance(node, PathOperand):
            found.append(node.path)
        elif isinstance(node, SizeOperand):
            pending.append(node.target)
        elif isinstance(node, Comparison):
            pending += (node.left, node.right)
        elif isinstance(node, Between):
            pending += (node.subject, node.low, node.high)
        elif isinstance(node, In):
            pending += (node.subject, *node.options)
        elif isinstance(node, FunctionCall):
            pending += node.args
        elif isinstance(node, And | Or):
            pending += (node.left, node.right)
        elif isinstance(node, Not):
            pending.append(node.inner)
    return found


# ---- update actions ----


@dataclass(frozen=True, slots=True)
class Arithmetic:
    operator: str  # + or -
    left: UpdateOperand
    right: UpdateOperand


@dataclass(frozen=True, slots=True)
class IfNotExists:
    path: Path
    fallback: UpdateOperand


@dataclass(frozen=True, slots=True)
class ListAppend:
    first: UpdateOperand
    second: UpdateOperand


UpdateOperand = PathOperand | ValueOperand | IfNotExists | ListAppend
SetValue = UpdateOperand | Arithmetic


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """One action: ``SET path = value``, ``REMOVE path``, ``ADD path :v``, ``DELETE path :v``."""

    kind: str  # SET | REMOVE | ADD | DELETE
    path: Path
    value: SetValue | None = None


def nested_path_heads(actions: Sequence[UpdateAction]) -> set[str]:
    """The top attributes of the nested paths (``a.b``, ``a[0]``) an update names, as the
    paths it writes or in the operands it reads."""
    heads: set[str] = set()
    pending: list[Any] = []
    for action in actions:
        if len(action.path) > 1:
            heads.add(str(action.path[0]))
        if action.value is not None and type(action.value) is not ValueOperand:
            pending.append(action.value)
    # Dispatched on the exact type (the operand classes have no subclasses): isinstance
    # against a union built per call was most of the cost of a one-action update.
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is Arithmetic:
            pending += (node.left, node.right)
        elif kind is PathOperand or kind is IfNotExists:
            if len(node.path) > 1:
                heads.add(str(node.path[0]))
            if kind is IfNotExists:
                pending.append(node.fallback)
        elif kind is ListAppend:
            pending += (node.first, node.second)
    return heads


# ---- parsed expressions ----


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed expression: its tree plus what it uses of the request's placeholders."""

    root: Any  # Condition, tuple[UpdateAction, ...] or tuple[Path, ...]
    names_used: frozenset[str] = frozenset()
    values_used: tuple[str, ...] = ()
    #: Checks that need the values themselves (operand types, BETWEEN bounds), run per call.
    value_checks: tuple[Any, ...] = field(default=())
