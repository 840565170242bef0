"""``EventsService``: Amazon EventBridge buses, rules, targets, PutEvents and schedules."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.base import ServiceEnvironment
from headwater.services.events.publishing import PublishOperations
from headwater.services.events.store import EventsStore
from headwater.services.ticker import ClockTicker

#: Clock seconds between looks for scheduled rules that are due (schedules have minute
#: granularity, so a firing is at most this late).
SCHEDULE_CHECK_INTERVAL = 1.0


class EventsService(PublishOperations):
    """Every EventBridge operation headwater serves; scheduled rules fire on the clock."""

    service_name: ClassVar[str] = "events"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = EventsStore(env.database)
        self._scheduler = ClockTicker(
            env.clock, SCHEDULE_CHECK_INTERVAL, self.fire_due, name="events-schedules"
        ).start()

    def close(self) -> None:
        self._scheduler.stop()
        super().close()
