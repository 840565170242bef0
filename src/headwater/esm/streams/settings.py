"""A stream mapping's settings as the shard pollers use them (from its ``MappingConfig``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.esm.streams.source import StartPosition
from headwater.esm.streams.stream_settle import RetryPolicy
from headwater.store.mappings import MappingRecord


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """The mapping's ``MappingConfig`` joined with the engine's retry backoff options."""

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
        return cls(
            function_arn=record.function_arn,
            batch_size=config.batch_size,
            window_seconds=config.window_seconds,
            parallelization=config.parallelization_factor,
            tumbling_window=config.tumbling_window,
            start=StartPosition(
                config.starting_position or "LATEST", config.starting_position_timestamp
            ),
            policy=RetryPolicy(
                maximum_retry_attempts=config.maximum_retry_attempts,
                maximum_record_age=config.maximum_record_age,
                bisect=config.bisect_on_error,
                report_item_failures=config.report_item_failures,
                backoff_seconds=backoff_seconds,
                backoff_max_seconds=backoff_max_seconds,
            ),
            destination=config.on_failure_destination,
            filter_criteria=config.filter_criteria,
        )
