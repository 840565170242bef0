"""The parts of a stream mapping the engine uses, read from its stored record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.esm.streams.source import StartPosition
from headwater.esm.streams.stream_settle import RetryPolicy
from headwater.store.mappings import MappingRecord


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """A stream mapping's configuration (defaults as AWS's)."""

    function_arn: str
    batch_size: int
    window_seconds: int
    parallelization: int
    tumbling_window: int
    start: StartPosition
    policy: RetryPolicy
    destination: str | None
    filter_criteria: dict[str, Any] | None

    @classmethod
    def from_record(
        cls,
        record: MappingRecord,
        *,
        backoff_seconds: float,
        backoff_max_seconds: float,
    ) -> StreamSettings:
        config = record.config
        timestamp = config.get("StartingPositionTimestamp")
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        return cls(
            function_arn=record.function_arn,
            batch_size=int(config.get("BatchSize", 100)),
            window_seconds=int(config.get("MaximumBatchingWindowInSeconds", 0)),
            parallelization=int(config.get("ParallelizationFactor", 1)),
            tumbling_window=int(config.get("TumblingWindowInSeconds", 0)),
            start=StartPosition(
                str(config.get("StartingPosition", "LATEST")),
                None if timestamp is None else float(timestamp),
            ),
            policy=RetryPolicy(
                maximum_retry_attempts=int(config.get("MaximumRetryAttempts", -1)),
                maximum_record_age=int(config.get("MaximumRecordAgeInSeconds", -1)),
                bisect=bool(config.get("BisectBatchOnFunctionError", False)),
                report_item_failures="ReportBatchItemFailures"
                in (config.get("FunctionResponseTypes") or []),
                backoff_seconds=backoff_seconds,
                backoff_max_seconds=backoff_max_seconds,
            ),
            destination=on_failure.get("Destination") or None,
            filter_criteria=config.get("FilterCriteria"),
        )
