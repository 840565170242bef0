"""Offset pages: the paging of list operations whose token is only a position."""

from __future__ import annotations

from typing import Any


def offset_page(
    items: list[Any], token: Any, size: Any, default: int
) -> tuple[list[Any], str | None]:
    """The page of ``items`` that ``token`` (a position this function handed out, else the
    start) begins, ``size`` long (``default`` when not a positive integer), and the token of
    the next page (``None`` on the last)."""
    start = int(token) if isinstance(token, str) and token.isdigit() else 0
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        size = default
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
