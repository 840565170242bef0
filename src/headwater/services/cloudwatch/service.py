"""``CloudWatchService``: Amazon CloudWatch metrics and metric alarms, on the headwater clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headwater.services.base import ServiceEnvironment
from headwater.services.cloudwatch.alarm_operations import AlarmOperations
from headwater.services.cloudwatch.alarm_store import AlarmStore
from headwater.services.cloudwatch.metric_store import MetricStore
from headwater.services.ticker import ClockTicker

#: Clock seconds between alarm evaluation passes (high-resolution alarms need 10 s).
EVALUATION_INTERVAL = 10.0
#: Clock seconds between retention roll-ups.
ROLL_UP_INTERVAL = 3600.0


class CloudWatchService(AlarmOperations):
    """Every CloudWatch operation headwater supports (``call("PutMetricData", ...)``)."""

    service_name = "cloudwatch"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.metric_store = MetricStore(env.database)
        self.alarm_store = AlarmStore(env.database)
        self.read_hooks: list[Callable[[], None]] = [env.telemetry.flush]
        self._tickers = [
            ClockTicker(env.clock, EVALUATION_INTERVAL, self.evaluate_alarms, name="cw-alarms"),
            ClockTicker(env.clock, ROLL_UP_INTERVAL, self.metric_store.roll_up, name="cw-rollup"),
        ]
        for ticker in self._tickers:
            ticker.start()

    def add_read_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before reads (built-in metrics flush their buffer through it)."""
        self.read_hooks.append(hook)

    def close(self) -> None:
        for ticker in self._tickers:
            ticker.stop()
        super().close()

    def alarms_overview(self) -> list[dict[str, Any]]:
        """Every alarm of every region with its state (for the dashboard)."""
        return [
            {
                "name": a.name,
                "region": a.region,
                "state": a.state["StateValue"],
                "reason": a.state["StateReason"],
                "updated": a.state["StateUpdatedTimestamp"],
                "metric": a.config.get("MetricName"),
                "namespace": a.config.get("Namespace"),
                "dimensions": a.config.get("Dimensions") or [],
                "actions_enabled": a.state.get("ActionsEnabled", True),
            }
            for a in self.alarm_store.alarms()
        ]
