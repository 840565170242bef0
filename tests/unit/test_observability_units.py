"""Pure pieces of CloudWatch and CloudWatch Logs: statistics, metric math, alarm
evaluation, filter patterns."""

from __future__ import annotations

import pytest

from headwater.services.cloudwatch.aggregate import Aggregate, percentile_of
from headwater.services.cloudwatch.alarm_evaluation import evaluate
from headwater.services.cloudwatch.metric_math import MathError, Scope, parse
from headwater.services.cloudwatch.metric_math import evaluate as math
from headwater.services.logs.filter_pattern import PatternError, compile_pattern


def test_aggregate_statistics_and_percentiles() -> None:
    aggregate = Aggregate.of_value(1.0, 2)
    aggregate.add(10.0, 4)
    assert aggregate.statistic("Sum") == 42.0
    assert aggregate.statistic("SampleCount") == 6.0
    assert aggregate.statistic("Average") == 7.0
    assert aggregate.statistic("p50") == 10.0
    assert aggregate.statistic("p10") == 1.0
    assert percentile_of("p99.9") == pytest.approx(0.999)
    assert percentile_of("Sum") is None
    stats = Aggregate.of_statistics(3, 30, 5, 15)
    stats.merge(aggregate)
    assert stats.statistic("Maximum") == 15.0 and stats.statistic("p50") is None
    encoded = aggregate.encode_values()
    assert Aggregate.decode_values(encoded) == {1.0: 2.0, 10.0: 4.0}


def test_value_table_stays_bounded() -> None:
    aggregate = Aggregate.of_value(0.0)
    for i in range(1, 5000):
        aggregate.add(i / 7.0)
    assert aggregate.values is not None and len(aggregate.values) <= 512
    assert aggregate.statistic("SampleCount") == 5000
    assert aggregate.statistic("p50") == pytest.approx(2500 / 7.0, rel=0.05)


def test_values_after_a_compaction_are_rounded_as_they_come() -> None:
    # a duration per invocation: the table compacts once, then stays small without
    # compacting again, while the basic statistics stay exact
    aggregate = Aggregate.of_value(0.1)
    exact_sum = 0.1
    for i in range(1, 600):
        aggregate.add(0.1 + i / 7000.0)
        exact_sum += 0.1 + i / 7000.0
    assert aggregate.digits > 0
    values = aggregate.values
    assert values is not None and len(values) <= 256
    aggregate.add(0.123456789)
    assert 0.123456789 not in values
    assert float(f"{0.123456789:.{aggregate.digits}g}") in values
    assert aggregate.statistic("Maximum") == pytest.approx(0.1 + 599 / 7000.0)
    assert aggregate.statistic("Sum") == pytest.approx(exact_sum + 0.123456789)
    assert aggregate.copy().digits == aggregate.digits
    fresh = Aggregate.of_value(0.5)
    fresh.add(0.123456789)
    assert 0.123456789 in (fresh.values or {})  # exact until the table overflows


def test_add_many_is_add_in_turn() -> None:
    # durations across a compaction and after it: the same statistics and value table
    values = [0.05 + (i * 37 % 1000) / 7000.0 for i in range(1500)] + [3.25, 0.001]
    one_by_one = Aggregate.of_value(0.2)
    for value in values:
        one_by_one.add(value)
    batched = Aggregate.of_value(0.2)
    batched.add_many(values[:700])
    batched.add_many(values[700:])
    batched.add_many([])
    assert batched == one_by_one
    assert batched.digits > 0 and batched.statistic("Minimum") == 0.001


def _scope(**series: dict[int, float]) -> Scope:
    return Scope(series, list(series), [0, 60, 120, 180])


def test_metric_math_expressions() -> None:
    a = {0: 1.0, 60: 2.0, 180: 4.0}
    b = {0: 10.0, 60: 20.0, 120: 30.0, 180: 40.0}
    scope = _scope(a=a, b=b)
    assert math(parse("a + b"), scope) == {0: 11.0, 60: 22.0, 180: 44.0}
    assert math(parse("SUM([a, b])"), scope) == {0: 11.0, 60: 22.0, 120: 30.0, 180: 44.0}
    assert math(parse("SUM(METRICS())"), scope) == math(parse("SUM([a, b])"), scope)
    assert math(parse("MAX(b)"), scope) == 40.0
    assert math(parse("AVG(b) * 2 - -1"), scope) == 51.0
    assert math(parse("FILL(a, 0)"), scope) == {0: 1.0, 60: 2.0, 120: 0.0, 180: 4.0}
    assert math(parse("FILL(a, REPEAT)"), scope)[120] == 2.0
    assert math(parse("FILL(a, LINEAR)"), scope)[120] == 3.0
    assert math(parse("MIN([a, b])"), scope)[120] == 30.0
    assert math(parse("2 ^ 3 ^ 2"), scope) == 512.0
    with pytest.raises(MathError):
        parse("a +")
    with pytest.raises(MathError):
        math(parse("NOPE(a)"), scope)


ALARM = {"ComparisonOperator": "GreaterThanThreshold", "Threshold": 2.0, "Statistic": "Average"}


@pytest.mark.parametrize(
    ("treat", "values", "to_alarm", "expected"),
    [
        ("missing", {0: 5.0, 60: 6.0, 120: 7.0}, None, "ALARM"),
        ("missing", {0: 5.0, 60: 1.0, 120: 7.0}, None, "OK"),
        ("missing", {0: 5.0, 60: 1.0, 120: 7.0}, 2, "ALARM"),
        ("missing", {}, None, "INSUFFICIENT_DATA"),
        ("missing", {120: 5.0, 60: 6.0}, None, "ALARM"),
        ("missing", {120: 1.0}, None, "OK"),
        ("ignore", {}, None, None),
        ("ignore", {120: 5.0}, None, None),
        ("breaching", {}, None, "ALARM"),
        ("breaching", {120: 1.0}, None, "OK"),
        ("notBreaching", {120: 5.0}, None, "OK"),
        ("notBreaching", {}, None, "OK"),
    ],
)
def test_alarm_evaluation_missing_data(
    treat: str, values: dict[int, float], to_alarm: int | None, expected: str | None
) -> None:
    config = {**ALARM, "TreatMissingData": treat}
    if to_alarm is not None:
        config["DatapointsToAlarm"] = to_alarm
    result = evaluate(config, "OK", [0, 60, 120], values, {}, now=180.0)
    assert result.state == expected


def test_alarm_reasons_read_like_cloudwatchs() -> None:
    one = {**ALARM, "Threshold": 21.0}
    result = evaluate(one, "OK", [0], {0: 21.5}, {0: 1.0}, now=60.0)
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [21.5 (01/01/70 00:00:00)] was greater than the "
        "threshold (21.0)."
    )
    assert result.reason_data is not None
    assert result.reason_data["evaluatedDatapoints"][0]["sampleCount"] == 1.0
    missing = evaluate({**ALARM, "TreatMissingData": "breaching"}, "OK", [0, 60], {}, {}, now=1.0)
    assert missing.reason == (
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
        "datapoints were treated as [Breaching]."
    )


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("", "anything", True),
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),
        ("ERROR Exception", "ERROR only", False),
        ("ERROR -Exiting", "ERROR Exiting now", False),
        ("?WARN ?ERROR", "WARN x", True),
        ('"out of memory"', "java: out of memory!", True),
        ('{ $.level = "ERROR" }', '{"level": "ERROR"}', True),
        ('{ $.level = "ERROR" }', "level ERROR", False),
        ("{ $.latency >= 100 }", '{"latency": 100}', True),
        ("{ $.latency > 100 || $.user.id = 7 }", '{"latency": 1, "user": {"id": 7}}', True),
        ("{ ($.a = 1) && ($.b != x) }", '{"a": 1, "b": "y"}', True),
        ("{ $.items[1] = b* }", '{"items": ["a", "bee"]}', True),
        ("{ $.gone NOT EXISTS }", '{"here": 1}', True),
        ("{ $.flag IS TRUE }", '{"flag": true}', True),
        ("{ $.v IS NULL }", '{"v": null}', True),
        ("%time(out)?%", "a timeout", True),
    ],
)
def test_filter_patterns(pattern: str, message: str, matches: bool) -> None:
    assert compile_pattern(pattern)(message) is matches


def test_bad_filter_patterns_are_errors() -> None:
    # A quoted value JSON refuses (a lone surrogate's escape, written or as the character)
    # raised orjson's JSONDecodeError; found by the odd-input property test.
    for pattern in (
        "{ $.a = ",
        "{ level = 1 }",
        "%(%",
        '{ $.a = "\\ud800" }',
        '{ $.a = "\ud800" }',
    ):
        with pytest.raises(PatternError):
            compile_pattern(pattern)
