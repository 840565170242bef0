"""How many batches a mapping may have in flight (reference §3.7).

Starts at 5, grows by ``scale_up_per_minute`` (AWS: 300) of clock time while the queue
has a backlog and halves (not below the start) when the function fails a batch; never
passes the lowest of the per-mapping ceiling (1,250), ``ScalingConfig.MaximumConcurrency``
and the function's reserved concurrency; drops back to the start when the queue runs empty.
"""

from __future__ import annotations

from dataclasses import dataclass

INITIAL_CONCURRENCY = 5
SCALE_UP_PER_MINUTE = 300
MAX_CONCURRENCY = 1250


@dataclass(slots=True)
class ScalingPolicy:
    initial: int = INITIAL_CONCURRENCY
    scale_up_per_minute: float = SCALE_UP_PER_MINUTE
    ceiling: int = MAX_CONCURRENCY


class ConcurrencyScaler:
    """Target concurrency of one mapping, moved by what the poller observes."""

    def __init__(self, policy: ScalingPolicy, now: float) -> None:
        self.policy = policy
        self.maximum_concurrency: int | None = None
        self.reserved_concurrency: int | None = None
        self._target = float(policy.initial)
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
        return max(0, cap)

    @property
    def target(self) -> int:
        """Batches that may be in flight now."""
        return min(int(self._target), self.cap)

    @property
    def seconds_per_step(self) -> float:
        """Clock seconds for the target to grow by one batch."""
        return 60.0 / self.policy.scale_up_per_minute if self.policy.scale_up_per_minute else 60.0

    def observe_backlog(self, now: float) -> None:
        """The queue still had messages after a receive: grow with the elapsed time."""
        elapsed = max(0.0, now - self._last_growth)
        self._last_growth = now
        grown = self._target + self.policy.scale_up_per_minute * elapsed / 60.0
        self._target = min(grown, float(max(self.cap, self.policy.initial)))

    def observe_function_error(self, now: float) -> None:
        """A batch failed in the function: Lambda backs off (halves, not below the start)."""
        self._target = max(float(self.policy.initial), self._target / 2)
        self._last_growth = now

    def observe_throttle(self, now: float) -> None:
        """An invoke was throttled: several mappings share the functions' capacity, back off."""
        self.observe_function_error(now)

    def observe_empty(self, now: float) -> None:
        """A receive found nothing: scale back down."""
        self._target = float(self.policy.initial)
        self._last_growth = now
