"""Observability of a headwater: built-in CloudWatch metrics, record journeys, samplers.

``Observability.build`` is called by the composition root (``Headwater``): with metrics
and journeys off it installs nothing and every hook stays the no-op ``Telemetry``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.core.telemetry import NO_TELEMETRY, Telemetry
from headwater.services.ticker import ClockTicker
from headwater.telemetry.collector import SAMPLE_INTERVAL, Collector
from headwater.telemetry.journeys import JourneyLog, Step
from headwater.telemetry.recorder import Recorder

if TYPE_CHECKING:
    from headwater.esm.engine import EsmEngine
    from headwater.services.base import Service, ServiceEnvironment
    from headwater.services.cloudwatch.metric_store import MetricStore

#: Real seconds between flushes of buffered metrics and journey steps.
FLUSH_REAL_SECONDS = 0.5

__all__ = ["Observability", "Recorder", "Step"]


class Observability:
    """The recorder, its collector and the tickers that drive them."""

    def __init__(
        self,
        recorder: Recorder | None,
        collector: Collector | None,
        tickers: list[ClockTicker],
    ) -> None:
        self.recorder = recorder
        self.collector = collector
        self._tickers = tickers

    @property
    def telemetry(self) -> Telemetry:
        return self.recorder if self.recorder is not None else NO_TELEMETRY

    @classmethod
    def build(
        cls,
        env: ServiceEnvironment,
        *,
        peek: Callable[[str], Service | None],
        engine: Callable[[], EsmEngine | None],
    ) -> Observability:
        options = env.options
        if not options.metrics and not options.journeys:
            return cls(None, None, [])

        def metric_store() -> MetricStore:
            service: Any = env.service("cloudwatch")
            store: MetricStore = service.metric_store
            return store

        journeys = JourneyLog(options.journey_retention_seconds) if options.journeys else None
        recorder = Recorder(
            env,
            metric_store,
            journeys,
            metrics=options.metrics,
            journey_seconds=options.journey_retention_seconds,
        )
        collector = Collector(recorder, peek, engine, env.account)
        tickers = [
            ClockTicker(
                env.clock,
                0.0,
                lambda _now: recorder.flush(),
                name="telemetry-flush",
                real_interval_max=FLUSH_REAL_SECONDS,
            )
        ]
        if options.metrics:
            tickers.append(
                ClockTicker(env.clock, SAMPLE_INTERVAL, collector.sample, name="telemetry-sample")
            )
        return cls(recorder, collector, tickers)

    def start(self) -> Observability:
        for ticker in self._tickers:
            ticker.start()
        return self

    def journey(self, record_id: str) -> list[Step]:
        return [] if self.recorder is None else self.recorder.journey(record_id)

    def flush(self) -> None:
        if self.recorder is not None:
            self.recorder.flush()

    def stop(self) -> None:
        for ticker in self._tickers:
            ticker.stop()
        self._tickers = []
        self.flush()
