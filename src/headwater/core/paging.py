"""Offset pages: the paging of list operations whose token is only a position.

Services differ in how they write the position into a token (plain digits, ``o/12``, base64,
base64 JSON) and in what they answer for a token they did not hand out; those stay each
service's own (clients hold tokens across restarts and upgrades), and only the reading,
slicing and next-token logic is shared here. Lists paged by key (SQS, SSM, DynamoDB, S3) do
not belong here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)


def digits(token: Any) -> int:
    """The position a token of plain digits holds; ValueError for anything else (a sign,
    spaces or underscores included, which ``int`` alone would take)."""
    text = str(token)
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


@dataclass(frozen=True)
class OffsetTokens:
    """One service's page tokens: how a position is written (``encode``) and read back
    (``decode``, raising ValueError, TypeError or KeyError on what it cannot read), and the
    error for a token it cannot read or that reads as a negative position (``invalid``, given
    the token; ``None`` pages such a token from the start)."""

    invalid: Callable[[Any], Exception] | None
    encode: Callable[[int], str] = str
    decode: Callable[[Any], int] = digits
    # Most services take an empty token as none; a few refuse it as unreadable.
    blank_starts: bool = True

    def position(self, token: Any) -> int:
        """Where the page ``token`` names begins (0 without a token)."""
        if token is None or (self.blank_starts and not token):
            return 0
        try:
            start = self.decode(token)
        except _UNREADABLE:
            start = -1
        if start >= 0:
            return start
        if self.invalid is None:
            return 0
        raise self.invalid(token)

    def page(self, items: Sequence[Any], token: Any, size: int) -> tuple[list[Any], str | None]:
        """The ``size`` items from where ``token`` points, and the next page's token (``None``
        on the last page)."""
        start = self.position(token)
        end = start + size
        return list(items[start:end]), (self.encode(end) if end < len(items) else None)


# Positions as plain digits; a token that is not one pages from the start.
LENIENT_DIGITS = OffsetTokens(invalid=None)


def offset_page(
    items: list[Any], token: Any, size: Any, default: int
) -> tuple[list[Any], str | None]:
    """The page of ``items`` that ``token`` (a position this function handed out, else the
    start) begins, ``size`` long (``default`` when not a positive integer), and the token of
    the next page (``None`` on the last)."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        size = default
    return LENIENT_DIGITS.page(items, token, size)
