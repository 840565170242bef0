"""Wake-ups for coroutines waiting on "something may have changed" (sends, clock moves)."""

from __future__ import annotations

import asyncio
import contextlib

from headwater.core.clock import Clock


class Pulse:
    """Every waiter of the current generation wakes when ``fire()`` is called.

    Only used on its event loop; other threads call ``fire_threadsafe``. Because checks and
    waits run without an ``await`` between them, no wake-up can be lost.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def fire(self) -> None:
        if not self._future.done():
            self._future.set_result(None)
        self._future = self._loop.create_future()

    def mark(self) -> asyncio.Future[None]:
        """The current generation: waits given it as ``since`` return at once if ``fire()``
        ran after this call, so a check that awaits (a store call off the loop) loses no
        wake-up that lands during it."""
        return self._future

    def fire_threadsafe(self) -> None:
        # A closed loop raises RuntimeError: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self.fire)

    async def wait(
        self, timeout: float | None = None, since: asyncio.Future[None] | None = None
    ) -> None:
        """Wait for the next ``fire()`` (after ``since``, a ``mark()``) or ``timeout`` real
        seconds, whichever comes first."""
        future = self._future if since is None else since
        if timeout is None:
            await asyncio.shield(future)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), timeout)

    async def sleep_until(
        self, clock: Clock, deadline: float | None, since: asyncio.Future[None] | None = None
    ) -> None:
        """Wait until clock time ``deadline`` (or any wake-up before it, or since ``since``)."""
        if deadline is None:
            await self.wait(None, since)
            return
        remaining = deadline - clock.now()
        if remaining <= 0:
            return
        await self.wait(clock.real_delay(remaining), since)
