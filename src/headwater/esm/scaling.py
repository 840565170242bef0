"""How many batches a mapping may have in flight (reference §3.7).

Starts at 5, grows by ``scale_up_per_minute`` (AWS: 300) of clock time while the queue
has a backlog and halves (not below the start) when the function fails a batch; never
passes the lowest of the per-mapping ceiling (1,250), ``ScalingConfig.MaximumConcurrency``
and the function's reserved concurrency; drops back to the start when the queue runs empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

INITIAL_CONCURRENCY = 5
SCALE_UP_PER_MINUTE = 300
MAX_CONCURRENCY = 1250


@dataclass(slots=True)
class ScalingPolicy:
    initial: int = INITIAL_CONCURRENCY
    scale_up_per_minute: float = SCALE_UP_PER_MINUTE
    ceiling: int = MAX_CONCURRENCY


def _whole(total: int) -> int:
    return total


class ConcurrencyScaler:
    """Target concurrency of one mapping, moved by what the poller observes.

    With several engine nodes, ``share`` gives this node's part of a cluster-wide number
    (``NodeMembership.share``): the caps, the start and the growth rate are split over the
    live nodes, so together they hold MaximumConcurrency, reserved concurrency and the ramp.
    """

    def __init__(
        self, policy: ScalingPolicy, now: float, share: Callable[[int], int] = _whole
    ) -> None:
        self.policy = policy
        self.share = share
        self.maximum_concurrency: int | None = None
        self.reserved_concurrency: int | None = None
        self._target = float(self.initial)
        self._last_growth = now

    def configure(self, maximum_concurrency: int | None, reserved_concurrency: int | None) -> None:
        self.maximum_concurrency = maximum_concurrency
        self.reserved_concurrency = reserved_concurrency

    @property
    def cap(self) -> int:
        """The hard upper bound: ceiling, MaximumConcurrency, reserved concurrency."""
        cap = self.policy.ceiling
        if self.maximum_concurrency is not None:
            cap = min(cap, self.maximum_concurrency)
        if self.reserved_concurrency is not None:
            cap = min(cap, self.reserved_concurrency)
        return max(0, self.share(cap))

    @property
    def initial(self) -> int:
        """Where this node starts: its share of the start (at least one batch)."""
        return max(1, self.share(self.policy.initial))

    @property
    def scale_up_per_minute(self) -> float:
        return self.policy.scale_up_per_minute * self.share(1000) / 1000.0

    @property
    def target(self) -> int:
        """Batches that may be in flight now."""
        return min(int(self._target), self.cap)

    @property
    def seconds_per_step(self) -> float:
        """Clock seconds for the target to grow by one batch."""
        rate = self.scale_up_per_minute
        return 60.0 / rate if rate else 60.0

    def observe_backlog(self, now: float) -> None:
        """The queue still had messages after a receive: grow with the elapsed time."""
        elapsed = max(0.0, now - self._last_growth)
        self._last_growth = now
        grown = self._target + self.scale_up_per_minute * elapsed / 60.0
        self._target = min(grown, float(max(self.cap, self.initial)))

    def observe_function_error(self, now: float) -> None:
        """A batch failed in the function: Lambda backs off (halves, not below the start)."""
        self._target = max(float(self.initial), self._target / 2)
        self._last_growth = now

    def observe_throttle(self, now: float) -> None:
        """An invoke was throttled: several mappings share the functions' capacity, back off."""
        self.observe_function_error(now)

    def observe_empty(self, now: float) -> None:
        """A receive found nothing: scale back down."""
        self._target = float(self.initial)
        self._last_growth = now
