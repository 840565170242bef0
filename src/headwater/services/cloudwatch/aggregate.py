"""Statistic sets: what CloudWatch keeps per metric, unit and time bucket.

A bucket holds SampleCount, Sum, Minimum and Maximum, plus the distinct values with their
counts so that percentiles (``p50``, ``p99.9``) can be answered. The value table is
bounded: past ``MAX_DISTINCT_VALUES`` entries, values are rounded to fewer significant
digits and merged, so percentiles become approximate (as CloudWatch's are) while the four
basic statistics stay exact. Values added after that are rounded to the same digits as they
come, so a busy metric (a duration per invocation) does not compact its table again and
again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: Distinct values a bucket keeps for percentiles before it starts merging close ones.
MAX_DISTINCT_VALUES = 512

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$", re.ASCII)


@dataclass(slots=True)
class Aggregate:
    """One bucket's statistic set (and, unless it came from StatisticValues, its values)."""

    count: float
    total: float
    minimum: float
    maximum: float
    #: value -> how many times it was seen; ``None`` once a StatisticSet was merged in.
    values: dict[float, float] | None = field(default_factory=dict)
    #: Significant digits the value table is rounded to (0: exact values).
    digits: int = 0

    @classmethod
    def of_value(cls, value: float, count: float = 1.0) -> Aggregate:
        return cls(count, value * count, value, value, {value: count})

    @classmethod
    def of_statistics(cls, count: float, total: float, minimum: float, maximum: float) -> Aggregate:
        return cls(count, total, minimum, maximum, None)

    def add(self, value: float, count: float = 1.0) -> None:
        self.count += count
        self.total += value * count
        # comparisons, not min()/max(): a builtin call each, on every recorded request
        if value < self.minimum:  # noqa: PLR1730
            self.minimum = value
        if value > self.maximum:  # noqa: PLR1730
            self.maximum = value
        values = self.values
        if values is not None:
            if self.digits:
                value = float(f"{value:.{self.digits}g}")
            values[value] = values.get(value, 0.0) + count
            if len(values) > MAX_DISTINCT_VALUES:
                self.values, self.digits = _compact(values)

    def add_many(self, values: Sequence[float]) -> None:
        """``add(value)`` for each of ``values`` in turn (the same statistics and value
        table), without a method call per value: a minute's durations are added in batches."""
        if not values:
            return
        total = self.total
        for value in values:
            total += value
        self.total = total
        self.count += len(values)
        self.minimum = min(self.minimum, *values)
        self.maximum = max(self.maximum, *values)
        table = self.values
        if table is None:
            return
        digits = self.digits
        for exact in values:
            value = float(f"{exact:.{digits}g}") if digits else exact
            table[value] = table.get(value, 0.0) + 1.0
            if len(table) > MAX_DISTINCT_VALUES:
                table, digits = self.values, self.digits = _compact(table)

    def merge(self, other: Aggregate) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        if self.values is None or other.values is None:
            self.values = None
            return
        for value, count in other.values.items():
            self.values[value] = self.values.get(value, 0.0) + count
        if len(self.values) > MAX_DISTINCT_VALUES:
            self.values, self.digits = _compact(self.values)

    def copy(self) -> Aggregate:
        values = None if self.values is None else dict(self.values)
        return Aggregate(self.count, self.total, self.minimum, self.maximum, values, self.digits)

    # ---- statistics ----

    def statistic(self, name: str) -> float | None:
        """The value of statistic ``name`` (``Sum``, ``p99``...); ``None`` when unknown."""
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Average":
            return self.total / self.count if self.count else None
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        quantile = percentile_of(name)
        if quantile is None or self.values is None or not self.values:
            return None
        return _percentile(self.values, quantile)

    def encode_values(self) -> str | None:
        """The value table as text for the store (``None`` for statistic sets)."""
        if self.values is None:
            return None
        return ";".join(f"{v!r}:{c!r}" for v, c in self.values.items())

    @staticmethod
    def decode_values(text: str | None) -> dict[float, float] | None:
        if text is None:
            return None
        values: dict[float, float] = {}
        if text:
            for pair in text.split(";"):
                value, _, count = pair.partition(":")
                values[float(value)] = float(count)
        return values


def percentile_of(statistic: str) -> float | None:
    """``p90`` -> 0.9; ``None`` when ``statistic`` is not a percentile."""
    match = _PERCENTILE.match(statistic)
    if match is None:
        return None
    return float(match.group(1)) / 100.0


def is_statistic(name: str) -> bool:
    return name in BASIC_STATISTICS or percentile_of(name) is not None


def merged(aggregates: Iterable[Aggregate]) -> Aggregate | None:
    """All ``aggregates`` as one (``None`` when there are none)."""
    result: Aggregate | None = None
    for aggregate in aggregates:
        if result is None:
            result = aggregate.copy()
        else:
            result.merge(aggregate)
    return result


def _percentile(values: dict[float, float], quantile: float) -> float:
    """Nearest-rank percentile over a weighted value table."""
    ordered: Sequence[tuple[float, float]] = sorted(values.items())
    total = sum(count for _, count in ordered)
    rank = max(1.0, math.ceil(quantile * total))
    seen = 0.0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    return ordered[-1][0]


def _compact(values: dict[float, float]) -> tuple[dict[float, float], int]:
    """Merge values that agree on fewer significant digits until few enough remain; the
    merged table and the digits its values were rounded to."""
    digits = 6
    compacted = values
    while len(compacted) > MAX_DISTINCT_VALUES // 2 and digits > 1:
        digits -= 1
        rounded: dict[float, float] = {}
        for value, count in values.items():
            key = float(f"{value:.{digits}g}")
            rounded[key] = rounded.get(key, 0.0) + count
        compacted = rounded
    return compacted, digits
