"""The pre-expression parameters, translated into the expression tree.

``Expected`` / ``QueryFilter`` / ``ScanFilter`` / ``KeyConditions`` (with
``ConditionalOperator``) become conditions, ``AttributeUpdates`` update actions and
``AttributesToGet`` projection paths, so one evaluator serves both styles. Literal values
get synthetic placeholder names that no request can spell (``:\\x00N``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headwater.core.errors import validation_error
from headwater.core.expressions.documents import Path
from headwater.core.expressions.syntax import (
    Always,
    And,
    Between,
    Comparison,
    FunctionCall,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Or,
    PathOperand,
    UpdateAction,
    ValueOperand,
)
from headwater.core.expressions.values import (
    AttributeValue,
    compare,
    invalid,
    validate_value,
    validation,
    value_type,
)

_ARGUMENTS = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1,
    "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2,
}  # fmt: skip
_VALUE_TYPES = {
    "EQ": ("S", "N", "B", "SS", "NS", "BS", "L", "M", "BOOL", "NULL"),
    "NE": ("S", "N", "B", "SS", "NS", "BS", "L", "M", "BOOL", "NULL"),
    "LE": ("S", "N", "B"), "LT": ("S", "N", "B"), "GE": ("S", "N", "B"), "GT": ("S", "N", "B"),
    "CONTAINS": ("S", "N", "B"), "NOT_CONTAINS": ("S", "N", "B"), "BEGINS_WITH": ("S", "B"),
    "IN": ("S", "N", "B"), "BETWEEN": ("S", "N", "B"),
}  # fmt: skip
_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
#: Enum value sets in the order AWS lists them in its messages.
COMPARISON_OPERATORS = (
    "IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE",
    "BEGINS_WITH", "GE", "CONTAINS",
)  # fmt: skip
#: As DynamoDB Local, written by AWS, lists them (the model's order is ADD, PUT, DELETE).
ATTRIBUTE_ACTIONS = ("ADD", "DELETE", "PUT")


def not_in_enum(value: Any, where: str, allowed: tuple[str, ...]) -> Exception:
    """AWS's model check of an enum member (``where`` is its path in the request)."""
    return validation(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


@dataclass
class Legacy:
    """Literal values of translated legacy parameters, under synthetic placeholder names."""

    values: dict[str, AttributeValue] = field(default_factory=dict)

    def operand(self, value: AttributeValue) -> ValueOperand:
        name = f":\x00{len(self.values)}"
        self.values[name] = value
        return ValueOperand(name)

    # ---- conditions ----

    def expected(self, expected: Mapping[str, Any], operator: str | None) -> Any:
        """``Expected`` (PutItem/UpdateItem/DeleteItem) as a condition."""
        # The request model's enum checks come before any of the conditions' own checks.
        if operator not in (None, "AND", "OR"):
            raise not_in_enum(operator, "conditionalOperator", ("AND", "OR"))
        for name, entry in expected.items():
            comparison = entry.get("ComparisonOperator")
            if comparison is not None and comparison not in COMPARISON_OPERATORS:
                raise not_in_enum(
                    comparison, f"expected.{name}.member.comparisonOperator", COMPARISON_OPERATORS
                )
        parts = [self._expected_entry(name, entry) for name, entry in expected.items()]
        return _combine(parts, operator)

    def _expected_entry(self, name: str, entry: Mapping[str, Any]) -> Any:
        has_list = "AttributeValueList" in entry
        if has_list and "Value" in entry:
            raise invalid(
                f"Value and AttributeValueList cannot be used together for Attribute: {name}"
            )
        if "ComparisonOperator" in entry:
            if "Exists" in entry:
                raise invalid(
                    f"Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )
            operator = entry["ComparisonOperator"]
            if operator not in ("NULL", "NOT_NULL") and not has_list and "Value" not in entry:
                raise invalid(
                    "Value or AttributeValueList must be used with ComparisonOperator: "
                    f"{operator} for Attribute: {name}"
                )
            arguments = entry.get("AttributeValueList")
            if arguments is None:
                arguments = [entry["Value"]] if "Value" in entry else []
            return self.comparison(name, operator, arguments)
        if has_list:
            raise invalid(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: "
                f"{name}"
            )
        exists = entry.get("Exists")
        if exists is None or exists:
            if "Value" not in entry:
                shown = "null" if exists is None else str(exists).lower()
                raise invalid(
                    f"Value must be provided when Exists is {shown} for Attribute: {name}"
                )
            value = validate_value(entry["Value"])
            return Comparison("=", PathOperand((name,)), self.operand(value))
        if "Value" in entry:
            raise invalid(f"Value cannot be used when Exists is false for Attribute: {name}")
        return FunctionCall("attribute_not_exists", (PathOperand((name,)),))

    def filter(self, conditions: Mapping[str, Any], operator: str | None) -> Any:
        """``QueryFilter`` / ``ScanFilter`` / ``KeyConditions`` as a condition."""
        parts = [
            self.comparison(
                name, entry.get("ComparisonOperator"), entry.get("AttributeValueList") or []
            )
            for name, entry in conditions.items()
        ]
        return _combine(parts, operator)

    def comparison(self, name: str, operator: Any, arguments: list[Any]) -> Any:
        count = _ARGUMENTS.get(operator)
        if (count is not None and len(arguments) != count) or (operator == "IN" and not arguments):
            raise invalid(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
        values = [validate_value(v) for v in arguments]
        if values:
            first = value_type(values[0])
            if any(value_type(v) != first for v in values):
                raise invalid("AttributeValues inside AttributeValueList must be of same type")
            allowed = _VALUE_TYPES.get(operator, ())
            for value in values:
                if value_type(value) not in allowed:
                    raise invalid(
                        f"ComparisonOperator {operator} is not valid for {value_type(value)} "
                        "AttributeValue type"
                    )
        if operator == "BETWEEN":
            order = compare(values[0], values[1])
            if order is not None and order > 0:
                raise validation(
                    "The BETWEEN condition was provided a range where the lower bound is "
                    "greater than the upper bound"
                )
        path = PathOperand((name,))
        if operator in _COMPARATORS:
            return Comparison(_COMPARATORS[operator], path, self.operand(values[0]))
        if operator == "NULL":
            return FunctionCall("attribute_not_exists", (path,))
        if operator == "NOT_NULL":
            return FunctionCall("attribute_exists", (path,))
        if operator == "CONTAINS":
            return FunctionCall("contains", (path, self.operand(values[0])))
        if operator == "NOT_CONTAINS":
            return And(
                FunctionCall("attribute_exists", (path,)),
                Not(FunctionCall("contains", (path, self.operand(values[0])))),
            )
        if operator == "BEGINS_WITH":
            return FunctionCall("begins_with", (path, self.operand(values[0])))
        if operator == "IN":
            return In(path, tuple(self.operand(v) for v in values))
        if operator == "BETWEEN":
            return Between(path, self.operand(values[0]), self.operand(values[1]))
        raise not_in_enum(operator, "comparisonOperator", COMPARISON_OPERATORS)

    # ---- updates ----

    def attribute_updates(self, updates: Mapping[str, Any]) -> tuple[UpdateAction, ...]:
        """``AttributeUpdates`` as update actions."""
        # The request model's enum check comes before any of the updates' own checks.
        for name, update in updates.items():
            action = update.get("Action")
            if action is not None and action not in ATTRIBUTE_ACTIONS:
                raise not_in_enum(
                    action, f"attributeUpdates.{name}.member.action", ATTRIBUTE_ACTIONS
                )
        actions: list[UpdateAction] = []
        for name, update in updates.items():
            action = update.get("Action", "PUT")
            raw = update.get("Value")
            path: Path = (name,)
            if raw is None:
                if action != "DELETE":
                    raise invalid(
                        "Only DELETE action is allowed when no attribute value is specified"
                    )
                actions.append(UpdateAction("REMOVE", path))
                continue
            value = validate_value(raw)
            kind = value_type(value)
            if action == "PUT":
                actions.append(UpdateAction("SET", path, self.operand(value)))
            elif action == "DELETE":
                if kind not in ("SS", "NS", "BS"):
                    raise invalid(f"DELETE action with value is not supported for the type {kind}")
                actions.append(UpdateAction("DELETE", path, self.operand(value)))
            elif kind == "L":
                empty = self.operand({"L": []})
                appended = ListAppend(IfNotExists(path, empty), self.operand(value))
                actions.append(UpdateAction("SET", path, appended))
            elif kind in ("N", "SS", "NS", "BS"):
                actions.append(UpdateAction("ADD", path, self.operand(value)))
            else:
                raise invalid(f"ADD action is not supported for the type {kind}")
        return tuple(actions)


def attributes_to_get(names: list[str]) -> tuple[Path, ...]:
    """``AttributesToGet`` as projection paths (top-level names, no duplicates)."""
    if not names:
        # The request model's length constraint on the list.
        raise validation_error(
            "[]", "attributesToGet", "Member must have length greater than or equal to 1"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise invalid(f"Duplicate value in attribute name: {name}")
        seen.add(name)
    return tuple((name,) for name in names)


def _combine(parts: list[Any], operator: str | None) -> Any:
    if not parts:
        return Always()
    if operator not in (None, "AND", "OR"):
        raise not_in_enum(operator, "conditionalOperator", ("AND", "OR"))
    joined = parts[0]
    for part in parts[1:]:
        joined = Or(joined, part) if operator == "OR" else And(joined, part)
    return joined
