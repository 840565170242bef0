"""A thread-safe set of callbacks that callers add and remove while others call them."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

CallbackT = TypeVar("CallbackT", bound=Callable[..., object])


class Listeners(Generic[CallbackT]):
    """Registered callbacks, in registration order.

    Callers take a ``snapshot()`` and call it outside any lock they hold, so a callback may
    add or remove listeners (or take other locks) without deadlocking.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: dict[int, CallbackT] = {}
        self._ids = itertools.count()

    def add(self, callback: CallbackT) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it (safe to call twice)."""
        with self._lock:
            key = next(self._ids)
            self._callbacks[key] = callback

        def remove() -> None:
            with self._lock:
                self._callbacks.pop(key, None)

        return remove

    def snapshot(self) -> list[CallbackT]:
        """The callbacks registered now."""
        if not self._callbacks:  # nobody listens (most writes): no lock to take
            return []
        with self._lock:
            return list(self._callbacks.values())
