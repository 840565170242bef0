"""Document paths (``a.b[2].c``) inside items: read, write, remove and project."""

from __future__ import annotations

from typing import Any

from headwater.core.expressions.values import AttributeValue, Item, validation

#: A resolved document path: attribute names (str) and list indexes (int).
Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    """AWS's rendering of a path in messages: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


def read_path(item: Item, path: Path) -> AttributeValue | None:
    """The value at ``path`` in ``item``, or ``None`` when any step is missing."""
    head = path[0]
    value: Any = item.get(head) if isinstance(head, str) else None
    for step in path[1:]:
        if value is None:
            return None
        if isinstance(step, str):
            inner = value.get("M")
            value = inner.get(step) if inner is not None else None
        else:
            inner = value.get("L")
            value = inner[step] if inner is not None and step < len(inner) else None
    return value  # type: ignore[no-any-return]


def invalid_path() -> Exception:
    return validation("The document path provided in the update expression is invalid for update")


def _container(item: Item, path: Path) -> Any:
    """The container holding the last step of ``path``; containers on the way are copied,
    so values shared with the item before the update are never modified."""
    container: Any = item
    for depth, step in enumerate(path[:-1]):
        if isinstance(step, str):
            value = container.get(step)
        else:
            value = container[step] if step < len(container) else None
        if value is None:
            raise invalid_path()
        kind = "M" if isinstance(path[depth + 1], str) else "L"
        inner = value.get(kind)
        if inner is None:
            raise invalid_path()
        copied = dict(inner) if kind == "M" else list(inner)
        container[step] = {kind: copied}
        container = copied
    return container


def write_path(item: Item, path: Path, value: AttributeValue) -> None:
    """Set ``path`` to ``value`` in ``item`` (modified in place, nested values copied).

    A list index past the end appends, as DynamoDB does; a missing parent is an error.
    """
    if len(path) == 1:
        item[path[0]] = value  # type: ignore[index]
        return
    container = _container(item, path)
    last = path[-1]
    if isinstance(last, str) or last < len(container):
        container[last] = value
    else:
        container.append(value)


def remove_paths(item: Item, paths: list[Path]) -> None:
    """Remove every path; list indexes refer to the list before any removal."""

    # Remove higher indexes first so earlier removals do not shift later ones.
    def order(path: Path) -> tuple[Any, ...]:
        return tuple((1, -p) if isinstance(p, int) else (0, p) for p in path)

    for path in sorted(paths, key=order):
        if len(path) == 1:
            item.pop(path[0], None)  # type: ignore[arg-type]
            continue
        if read_path(item, path[:-1]) is None:
            raise invalid_path()
        container = _container(item, path)
        last = path[-1]
        if isinstance(last, str):
            if not isinstance(container, dict):
                raise invalid_path()
            container.pop(last, None)
        elif isinstance(container, list):
            if last < len(container):
                del container[last]
        else:
            raise invalid_path()


def project(item: Item, paths: list[Path]) -> Item:
    """The parts of ``item`` named by ``paths`` (a ProjectionExpression's result).

    List elements picked by index keep their relative order and close up, as on AWS.
    """
    result: Item = {}
    for path in paths:
        value = read_path(item, path)
        if value is None:
            continue
        _merge(result, path, value)
    return {name: _compact(value) for name, value in result.items()}


def _merge(result: Item, path: Path, value: AttributeValue) -> None:
    target: Any = result
    key: Any = path[0]
    for step in path[1:]:
        kind = "M" if isinstance(step, str) else "L"
        existing = target.get(key)
        if existing is None or not isinstance(existing.get(kind), dict):
            # list elements are gathered by original index and closed up by _compact
            existing = {kind: {}}
            target[key] = existing
        target = existing[kind]
        key = step
    target[key] = value


def _compact(value: AttributeValue) -> AttributeValue:
    ((kind, inner),) = value.items()
    if kind == "L" and isinstance(inner, dict):
        return {"L": [_compact(inner[i]) for i in sorted(inner)]}
    if kind == "M" and isinstance(inner, dict):
        return {"M": {k: _compact(v) for k, v in inner.items()}}
    return value
