"""Applying an update expression's actions to an item.

Every operand reads the item as it was before the update (as on AWS), so
``SET a = b, b = a`` swaps. The result is a new item; the old one is not modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from headwater.core.expressions.documents import (
    Path,
    invalid_path,
    read_path,
    remove_paths,
    write_path,
)
from headwater.core.expressions.syntax import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    PathOperand,
    UpdateAction,
    ValueOperand,
)
from headwater.core.expressions.values import (
    AttributeValue,
    Item,
    add_numbers,
    ordered_members,
    set_members,
    validation,
    value_type,
)


def missing_attribute() -> Exception:
    return validation(
        "The provided expression refers to an attribute that does not exist in the item"
    )


WRONG_TYPE = "An operand in the update expression has an incorrect data type"


def wrong_type() -> Exception:
    return validation(WRONG_TYPE)


def _operand(node: object, item: Item, values: Mapping[str, AttributeValue]) -> AttributeValue:
    if isinstance(node, ValueOperand):
        return values[node.name]
    if isinstance(node, PathOperand):
        found = read_path(item, node.path)
        if found is None:
            raise missing_attribute()
        return found
    if isinstance(node, IfNotExists):
        found = read_path(item, node.path)
        return found if found is not None else _operand(node.fallback, item, values)
    if isinstance(node, ListAppend):
        first = _operand(node.first, item, values)
        second = _operand(node.second, item, values)
        if "L" not in first or "L" not in second:
            raise wrong_type()
        return {"L": [*first["L"], *second["L"]]}
    if isinstance(node, Arithmetic):
        left = _operand(node.left, item, values)
        right = _operand(node.right, item, values)
        if "N" not in left or "N" not in right:
            raise wrong_type()
        return {"N": add_numbers(left["N"], right["N"], subtract=node.operator != "+")}
    raise TypeError(f"not an update operand: {node!r}")


def apply_update(
    item: Item, actions: Sequence[UpdateAction], values: Mapping[str, AttributeValue]
) -> Item:
    """The item after ``actions`` (``item`` is the old item, ``{}`` plus key if absent)."""
    new: Item = dict(item)
    removals: list[Path] = []
    for action in actions:
        kind = action.kind
        if kind == "SET":
            write_path(new, action.path, _operand(action.value, item, values))
        elif kind == "REMOVE":
            removals.append(action.path)
        elif kind == "ADD":
            _add(new, item, action.path, values[action.value.name])  # type: ignore[union-attr]
        else:
            _delete(new, item, action.path, values[action.value.name])  # type: ignore[union-attr]
    if removals:
        remove_paths(new, removals)
    return new


def _add(new: Item, old: Item, path: Path, value: AttributeValue) -> None:
    current = read_path(old, path)
    kind = value_type(value)
    if kind == "N":
        if current is None:
            write_path(new, path, value)
            return
        if "N" not in current:
            raise wrong_type()
        write_path(new, path, {"N": add_numbers(current["N"], value["N"])})
        return
    if current is None:
        write_path(new, path, value)
        return
    if value_type(current) != kind:
        raise wrong_type()
    existing = current[kind]
    known = set(set_members(current))
    added = [
        raw
        for raw, member in zip(value[kind], set_members(value), strict=True)
        if member not in known and not known.add(member)  # type: ignore[func-returns-value]
    ]
    write_path(new, path, {kind: ordered_members(kind, [*existing, *added])})


def _delete(new: Item, old: Item, path: Path, value: AttributeValue) -> None:
    current = read_path(old, path)
    if current is None:
        # Nothing to delete, but only where the path could hold a value: a parent that is
        # missing, or is not the map or list the last step needs, is an invalid path.
        if len(path) > 1:
            parent = read_path(old, path[:-1])
            if parent is None or ("M" if isinstance(path[-1], str) else "L") not in parent:
                raise invalid_path()
        return
    kind = value_type(value)
    if value_type(current) != kind:
        raise wrong_type()
    drop = set(set_members(value))
    kept = [
        raw
        for raw, member in zip(current[kind], set_members(current), strict=True)
        if member not in drop
    ]
    if kept:
        write_path(new, path, {kind: kept})
    else:
        remove_paths(new, [path])


def updated_paths(actions: Sequence[UpdateAction]) -> list[Path]:
    """The paths an update touches (for ReturnValues UPDATED_OLD / UPDATED_NEW)."""
    return [action.path for action in actions]
