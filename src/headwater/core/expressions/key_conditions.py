"""A Query's key condition (expression or legacy ``KeyConditions``) as per-key conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.expressions.syntax import (
    And,
    Between,
    Comparison,
    FunctionCall,
    In,
    Not,
    Or,
    PathOperand,
    SizeOperand,
    ValueOperand,
)
from headwater.core.expressions.values import AttributeValue, validation, value_type

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """One condition on one key attribute: ``=``, ``<``, ``<=``, ``>``, ``>=``,
    ``BETWEEN`` or ``begins_with``, with its value placeholders."""

    attribute: str
    operator: str
    operands: tuple[ValueOperand, ...]


def _invalid(message: str) -> Exception:
    return validation(f"Invalid KeyConditionExpression: {message}")


def key_conditions(root: Any, *, legacy: bool = False) -> list[KeyCondition]:
    """The per-key conditions of a key-condition tree, with AWS's errors for bad shapes."""
    found: dict[str, KeyCondition] = {}
    _collect(root, found, legacy)
    return list(found.values())


def _collect(node: Any, found: dict[str, KeyCondition], legacy: bool) -> None:
    if isinstance(node, And):
        _collect(node.left, found, legacy)
        _collect(node.right, found, legacy)
        return
    if isinstance(node, Or):
        raise _invalid("Invalid operator used in KeyConditionExpression: OR")
    if isinstance(node, Not):
        raise _invalid("Invalid operator used in KeyConditionExpression: NOT")
    not_indexable = _not_indexable(node)
    if not_indexable is not None:
        # Legacy KeyConditions (IN, NE, NULL, NOT_NULL, CONTAINS...) have AWS's own text.
        if legacy:
            raise validation("Attempted conditional constraint is not an indexable operation")
        raise _invalid(f"Invalid operator used in KeyConditionExpression: {not_indexable}")
    operands = _operands(node)
    if any(isinstance(o, SizeOperand) for o in operands):
        raise _invalid("KeyConditionExpressions cannot contain nested operations")
    if isinstance(node, Between | FunctionCall) and not isinstance(operands[0], PathOperand):
        name = "BETWEEN" if isinstance(node, Between) else node.name
        raise _invalid(f"{name} operator must have the key attribute as its first operand")
    paths = [i for i, o in enumerate(operands) if isinstance(o, PathOperand)]
    if len(paths) > 1:
        raise _invalid(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition"
        )
    if not paths:
        raise _invalid("Invalid condition in KeyConditionExpression: No key attribute specified")
    path = operands[paths[0]]
    assert isinstance(path, PathOperand)
    if len(path.path) > 1:
        raise _invalid("KeyConditionExpressions cannot have conditions on nested attributes")
    name = str(path.path[0])
    if name in found:
        raise _invalid("KeyConditionExpressions must only contain one condition per key")
    values = tuple(o for o in operands if isinstance(o, ValueOperand))
    if isinstance(node, Comparison):
        operator = node.operator if paths[0] == 0 else _FLIPPED[node.operator]
    elif isinstance(node, Between):
        operator = "BETWEEN"
    else:
        operator = "begins_with"
    found[name] = KeyCondition(name, operator, values)


#: The value types a key condition's operator can ever take: ``begins_with`` a string or
#: binary prefix, an ordering comparison any key type. ``=`` takes anything here, and a
#: value of the wrong key type fails the schema check later, with the table.
_OPERAND_TYPES = {"begins_with": ("S", "B"), "ordering": ("S", "N", "B")}


def check_key_operands(root: Any, values: Mapping[str, AttributeValue] | None) -> None:
    """AWS's first pass over a key condition: clause by clause as written, each value must
    be defined and of a type its operator could ever take (before the table is looked up
    and the conditions are counted)."""
    if isinstance(root, And):
        check_key_operands(root.left, values)
        check_key_operands(root.right, values)
        return
    if isinstance(root, Comparison):
        operator, allowed = (
            root.operator,
            (None if root.operator == "=" else _OPERAND_TYPES["ordering"]),
        )
    elif isinstance(root, Between):
        operator, allowed = "BETWEEN", _OPERAND_TYPES["ordering"]
    elif isinstance(root, FunctionCall) and root.name == "begins_with":
        operator, allowed = "begins_with", _OPERAND_TYPES["begins_with"]
    else:
        return
    for operand in _operands(root):
        if not isinstance(operand, ValueOperand):
            continue
        value = None if values is None else values.get(operand.name)
        if value is None:
            raise _invalid(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {operand.name}"
            )
        kind = value_type(value)
        if allowed is not None and kind not in allowed:
            raise _invalid(
                "Incorrect operand type for operator or function; operator or function: "
                f"{operator}, operand type: {kind}"
            )


def _not_indexable(node: Any) -> str | None:
    """The operator of a condition no key range can serve (``None`` for one it can)."""
    if isinstance(node, In):
        return "IN"
    if isinstance(node, Comparison) and node.operator == "<>":
        return "<>"
    if isinstance(node, FunctionCall) and node.name != "begins_with":
        return str(node.name)
    return None


def _operands(node: Any) -> tuple[Any, ...]:
    if isinstance(node, Comparison):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.subject, node.low, node.high)
    if isinstance(node, FunctionCall):
        return node.args
    raise _invalid("Syntax error")
