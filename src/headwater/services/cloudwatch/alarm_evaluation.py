"""How a metric alarm decides its state from the datapoints of its evaluation range.

The evaluation range is the last ``EvaluationPeriods`` (N) complete periods. Each period
is breaching, not breaching or missing; ``TreatMissingData`` turns missing periods into
breaching ones (``breaching``), good ones (``notBreaching``), or leaves them out
(``missing``, the default, and ``ignore``). The alarm goes to ALARM when at least
``DatapointsToAlarm`` (M, default N) periods breach. With ``missing``, fewer than M
present datapoints that all breach also alarm, a range with no datapoint is
INSUFFICIENT_DATA; ``ignore`` keeps the current state unless M datapoints are present
(AWS's table in "Configuring how CloudWatch alarms treat missing data").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COMPARISONS: dict[str, str] = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A new state (``None``: keep the current one), why, and the data behind it."""

    state: str | None
    reason: str
    reason_data: dict[str, Any] | None = None


def breaches(operator: str, value: float, threshold: float) -> bool:
    if operator == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if operator == "GreaterThanThreshold":
        return value > threshold
    if operator == "LessThanThreshold":
        return value < threshold
    if operator == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"unsupported comparison {operator}")


def _when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(ts: float) -> str:
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _listed(points: Sequence[tuple[int, float]]) -> str:
    return ", ".join(f"{value} ({_when(ts)})" for ts, value in points)


def evaluate(
    config: Mapping[str, Any],
    current_state: str,
    period_starts: Sequence[int],
    values: Mapping[int, float],
    sample_counts: Mapping[int, float],
    *,
    now: float,
) -> Evaluation:
    """The state ``config``'s alarm should be in, given the values of ``period_starts``."""
    operator = config["ComparisonOperator"]
    threshold = float(config.get("Threshold", 0.0))
    n = len(period_starts)
    m = int(config.get("DatapointsToAlarm") or n)
    treat = config.get("TreatMissingData") or "missing"
    newest_first = sorted(period_starts, reverse=True)
    present = [(ts, values[ts]) for ts in newest_first if ts in values]
    breaching = [(ts, v) for ts, v in present if breaches(operator, v, threshold)]
    missing = n - len(present)
    words = COMPARISONS[operator]
    data = _reason_data(config, period_starts, present, sample_counts, threshold=threshold, now=now)

    if treat == "breaching":
        count = len(breaching) + missing
    elif treat == "notBreaching":
        count = len(breaching)
    else:
        count = len(breaching)
        if not present:
            if treat == "ignore":
                return Evaluation(None, "")
            plural = "datapoint was" if n == 1 else "datapoints were"
            return Evaluation(
                "INSUFFICIENT_DATA", f"Insufficient Data: {n} {plural} unknown.", data
            )
        if len(present) < m:
            if treat == "ignore":
                return Evaluation(None, "")
            if len(breaching) == len(present):
                count = m
    if count >= m:
        if not present:
            reason = (
                f"Threshold Crossed: no datapoints were received for {n} period"
                f"{'s' if n != 1 else ''} and {missing} missing datapoint"
                f"{'s were' if missing != 1 else ' was'} treated as [Breaching]."
            )
        else:
            reason = _crossed(breaching or present, n, m, words, threshold, alarm=True)
        return Evaluation("ALARM", reason, data)
    shown = [p for p in present if p not in breaching] or present
    if not present:
        reason = (
            f"Threshold Crossed: no datapoints were received for {n} period"
            f"{'s' if n != 1 else ''} and {missing} missing datapoint"
            f"{'s were' if missing != 1 else ' was'} treated as [NonBreaching]."
        )
    else:
        reason = _crossed(shown, n, m, f"not {words}", threshold, alarm=False)
    return Evaluation("OK", reason, data)


def _crossed(
    points: Sequence[tuple[int, float]],
    n: int,
    m: int,
    words: str,
    threshold: float,
    *,
    alarm: bool,
) -> str:
    count = len(points)
    if count == 1 and n == 1:
        return (
            f"Threshold Crossed: 1 datapoint [{_listed(points)}] was {words} the threshold "
            f"({threshold})."
        )
    if m == n:
        noun = "datapoint was" if count == 1 else "datapoints were"
        return (
            f"Threshold Crossed: {count} {noun.split(maxsplit=1)[0]} [{_listed(points)}] "
            f"{noun.split()[1]} {words} the threshold ({threshold})."
        )
    transition = "OK -> ALARM" if alarm else "ALARM -> OK"
    return (
        f"Threshold Crossed: {count} out of the last {n} datapoints [{_listed(points)}] were "
        f"{words} the threshold ({threshold}) (minimum {m} datapoint"
        f"{'s' if m != 1 else ''} for {transition} transition)."
    )


def _reason_data(
    config: Mapping[str, Any],
    period_starts: Sequence[int],
    present: Sequence[tuple[int, float]],
    sample_counts: Mapping[int, float],
    *,
    threshold: float,
    now: float,
) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "1.0", "queryDate": _iso(now)}
    if period_starts:
        data["startDate"] = _iso(min(period_starts))
    if config.get("Statistic"):
        data["statistic"] = config["Statistic"]
    elif config.get("ExtendedStatistic"):
        data["statistic"] = config["ExtendedStatistic"]
    if config.get("Unit"):
        data["unit"] = config["Unit"]
    if config.get("Period"):
        data["period"] = int(config["Period"])
    data["recentDatapoints"] = [value for _, value in sorted(present)]
    data["threshold"] = threshold
    evaluated = []
    for ts, value in present:
        point: dict[str, Any] = {"timestamp": _iso(ts)}
        if ts in sample_counts:
            point["sampleCount"] = sample_counts[ts]
        point["value"] = value
        evaluated.append(point)
    data["evaluatedDatapoints"] = evaluated
    return data
