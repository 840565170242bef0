"""``LogsService``: Amazon CloudWatch Logs on the log store, with Lambda's function logs."""

from __future__ import annotations

from collections.abc import Callable

from headwater.services.base import Params, RequestContext, Result, ServiceEnvironment
from headwater.services.logs.event_operations import EventOperations
from headwater.services.logs.store import LogStore
from headwater.services.ticker import ClockTicker

#: Clock seconds between retention sweeps (PutRetentionPolicy).
RETENTION_SWEEP_INTERVAL = 3600.0


class LogsService(EventOperations):
    """Every CloudWatch Logs operation headwater supports (``call("FilterLogEvents", ...)``)."""

    service_name = "logs"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.log_store = LogStore(env.database)
        self._read_hooks: list[Callable[[], None]] = []
        self._sweeper = ClockTicker(
            env.clock, RETENTION_SWEEP_INTERVAL, self.expire, name="logs-retention"
        ).start()

    def add_read_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before every operation (queued function logs flush through it)."""
        self._read_hooks.append(hook)

    def call(
        self, operation_name: str, params: Params, ctx: RequestContext | None = None
    ) -> Result:
        for hook in self._read_hooks:
            hook()
        return super().call(operation_name, params, ctx)

    def expire(self, now: float | None = None) -> int:
        """Drop events older than their group's retention; returns how many."""
        now = self.env.clock.now() if now is None else now
        dropped = 0
        for group in self.log_store.groups():
            if group.retention_days is not None:
                cutoff = int((now - group.retention_days * 86400) * 1000)
                dropped += self.log_store.expire(group, cutoff)
        return dropped

    def close(self) -> None:
        self._sweeper.stop()
        super().close()
