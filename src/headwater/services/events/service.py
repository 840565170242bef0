"""``EventsService``: Amazon EventBridge buses, rules, targets, PutEvents and schedules."""

from __future__ import annotations

from typing import ClassVar

from headwater.core.clock import Clock
from headwater.services.base import ServiceEnvironment
from headwater.services.events.publishing import PublishOperations
from headwater.services.events.retries import PendingDelivery, TargetDeliveries
from headwater.services.events.store import EventsStore
from headwater.services.ticker import ClockTicker

#: Clock seconds between looks for scheduled rules that are due, at most (schedules have
#: minute granularity, so a firing is at most this late on the clock).
SCHEDULE_CHECK_INTERVAL = 1.0
#: Real seconds between looks, at least: a clock sped up 60x would otherwise look 60 times
#: a real second.
MIN_REAL_CHECK_SECONDS = 0.25


def schedule_check_interval(clock: Clock) -> float:
    """Clock seconds between looks for due rules on ``clock``: one clock second, or a
    quarter of a real second on a clock sped up more than four times."""
    real_per_clock_second = clock.real_delay(1.0)
    if not real_per_clock_second:  # a ManualClock: every move it makes is looked at
        return SCHEDULE_CHECK_INTERVAL
    return max(SCHEDULE_CHECK_INTERVAL, MIN_REAL_CHECK_SECONDS / real_per_clock_second)


class EventsService(PublishOperations):
    """Every EventBridge operation headwater serves; scheduled rules fire on the clock."""

    service_name: ClassVar[str] = "events"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = EventsStore(env.database)
        self.deliveries = TargetDeliveries(env, "events", self._count_outcome)
        self._scheduler = ClockTicker(
            env.clock,
            schedule_check_interval(env.clock),
            self._tick,
            name="events-schedules",
        ).start()

    def _tick(self, now: float) -> None:
        """Fire the scheduled rules that are due, then retry the deliveries that are."""
        self.fire_due(now)
        self.deliveries.retry_due(now)

    def _count_outcome(self, delivery: PendingDelivery, metric: str) -> None:
        self.env.telemetry.events_target_outcome(
            delivery.origin_arn, delivery.bus or "default", metric
        )

    def close(self) -> None:
        self._scheduler.stop()
        super().close()
