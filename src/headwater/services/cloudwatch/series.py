"""From stored buckets to the datapoints of a query: periods, alignment, units.

CloudWatch aligns a query's buckets to a rounded start time (whole minute for data under
15 days old, 5 minutes up to 63 days, the hour beyond; sub-minute periods to their own
multiple) and cuts the range into ``period``-second buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from headwater.services.cloudwatch.aggregate import Aggregate, merged
from headwater.services.cloudwatch.metric_store import DataRow

#: Time series: bucket start (epoch seconds) -> value, ordered by time.
Series = dict[int, float]


def aligned_start(start: float, period: int, now: float) -> int:
    """The start CloudWatch uses for a query beginning at ``start``."""
    whole = int(start)
    if period < 60:
        return whole - whole % period
    age = now - start
    if age <= 15 * 86400:
        step = 60
    elif age <= 63 * 86400:
        step = 300
    else:
        step = 3600
    return whole - whole % step


def datapoint_count(start: float, end: float, period: int) -> int:
    """How many datapoints ``[start, end)`` at ``period`` may hold (for the 1,440 limit)."""
    return max(0, math.ceil((end - start) / period))


@dataclass(frozen=True, slots=True)
class QueryGrid:
    """A query's time range, its period, and the clock time it is asked at."""

    start: float
    end: float
    period: int
    now: float


def bucketed(rows: Sequence[DataRow], grid: QueryGrid) -> dict[tuple[int, str], Aggregate]:
    """Rows merged into ``(bucket start, unit)`` statistic sets over the grid's range."""
    start, end, period = grid.start, grid.end, grid.period
    origin = aligned_start(start, period, grid.now)
    buckets: dict[tuple[int, str], list[Aggregate]] = {}
    for row in rows:
        if row.ts >= end or row.ts < origin:
            continue
        ts = origin + (row.ts - origin) // period * period
        buckets.setdefault((ts, row.unit), []).append(row.aggregate)
    result: dict[tuple[int, str], Aggregate] = {}
    for key in sorted(buckets):
        found = merged(buckets[key])
        if found is not None:
            result[key] = found
    return result


def statistic_series(
    rows: Sequence[DataRow], grid: QueryGrid, statistic: str, unit: str | None
) -> tuple[Series, list[str]]:
    """One statistic over time for ``unit`` (or, without one, for the first unit in
    alphabetical order, as CloudWatch does); also returns every unit that had data."""
    buckets = bucketed(rows, grid)
    units = sorted({u for _, u in buckets})
    chosen = unit if unit is not None else (units[0] if units else None)
    series: Series = {}
    for (ts, bucket_unit), aggregate in buckets.items():
        if bucket_unit != chosen:
            continue
        value = aggregate.statistic(statistic)
        if value is not None:
            series[ts] = value
    return series, units
