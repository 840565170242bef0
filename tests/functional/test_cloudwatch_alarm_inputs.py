"""PutMetricAlarm settings botocore's model leaves optional but the service needs."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock


@pytest.mark.parametrize("missing", ["ComparisonOperator", "EvaluationPeriods"])
def test_put_metric_alarm_names_a_missing_required_setting(missing: str) -> None:
    # botocore's model requires only AlarmName; a call without these raised KeyError (found
    # by the odd-input property test).
    params: dict[str, Any] = {
        "AlarmName": "alarm",
        "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 1,
    }
    del params[missing]
    with Headwater.in_memory(clock=ManualClock()) as hw:
        with pytest.raises(ClientError) as caught:
            hw.client("cloudwatch").put_metric_alarm(**params)
        assert caught.value.response["Error"] == {
            "Code": "MissingParameter",
            "Message": f"The parameter {missing} is required.",
            "QueryErrorCode": "MissingRequiredParameterException",
            "Type": "Sender",
        }
        assert hw.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


@pytest.mark.parametrize(
    ("period", "evaluation_periods", "longest"),
    [
        (
            60,
            1441,
            "a day (EvaluationPeriods * Period must be <= 86400) for alarms using period < 3600",
        ),
        (
            3600,
            169,
            "a week (EvaluationPeriods * Period must be <= 604800) for alarms using period >= 3600",
        ),
        (
            60 * (2**64 // 60),
            1,
            "a week (EvaluationPeriods * Period must be <= 604800) for alarms using period >= 3600",
        ),
        (
            60,
            2**64 - 1,
            "a day (EvaluationPeriods * Period must be <= 86400) for alarms using period < 3600",
        ),
    ],
)
def test_put_metric_alarm_refuses_a_window_longer_than_cloudwatch_evaluates(
    period: int, evaluation_periods: int, longest: str
) -> None:
    # botocore sends any integer: one beyond a signed 64 bits reached the stored
    # configuration's JSON and raised TypeError (found by the odd-input property test); a
    # request body carries up to an unsigned one. CloudWatch caps the window.
    alarm = {
        "AlarmName": "alarm",
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 1.0,
        "EvaluationPeriods": evaluation_periods,
    }
    metric = {"Namespace": "app", "MetricName": "errors"}
    calls = [
        {**alarm, **metric, "Statistic": "Sum", "Period": period},
        {
            **alarm,
            "Metrics": [
                {"Id": "m", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}}
            ],
        },
    ]
    with Headwater.in_memory(clock=ManualClock()) as hw:
        cloudwatch = hw.client("cloudwatch")
        for params in calls:
            with pytest.raises(ClientError) as caught:
                cloudwatch.put_metric_alarm(**params)
            error = caught.value.response["Error"]
            assert (error["Code"], error["Message"]) == (
                "ValidationError",
                f"Metrics cannot be checked across more than {longest}",
            )
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_put_metric_alarm_accepts_the_longest_windows() -> None:
    with Headwater.in_memory(clock=ManualClock()) as hw:
        cloudwatch = hw.client("cloudwatch")
        for name, period, count in (("day", 60, 1440), ("week", 3600, 168)):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="app",
                MetricName="errors",
                Statistic="Sum",
                Period=period,
                EvaluationPeriods=count,
                Threshold=1.0,
                ComparisonOperator="GreaterThanThreshold",
            )
        assert len(cloudwatch.describe_alarms()["MetricAlarms"]) == 2


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), 10**400])
def test_put_metric_alarm_refuses_a_threshold_that_is_not_a_finite_number(
    threshold: float,
) -> None:
    # A NaN was stored as null and every later evaluation raised TypeError; an integer beyond
    # a double's range (botocore sends it as given) raised OverflowError.
    with Headwater.in_memory(clock=ManualClock()) as hw:
        cloudwatch = hw.client("cloudwatch")
        with pytest.raises(ClientError) as caught:
            cloudwatch.put_metric_alarm(
                AlarmName="alarm",
                Namespace="app",
                MetricName="errors",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=threshold,
                ComparisonOperator="GreaterThanThreshold",
            )
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidParameterValue",
            f"The value {threshold} for parameter Threshold is invalid.",
        )
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_a_negative_alarm_page_token_is_invalid_not_a_page_from_the_end() -> None:
    # Python's negative slicing turned it into a page counted from the end (second hunt)
    with Headwater.in_memory(clock=ManualClock()) as hw:
        cloudwatch = hw.client("cloudwatch")
        for call in (cloudwatch.describe_alarms, cloudwatch.describe_alarm_history):
            with pytest.raises(ClientError) as caught:
                call(NextToken="-1")
            error = caught.value.response["Error"]
            assert (error["Code"], error["Message"]) == (
                "InvalidParameterValue",
                "The service cannot find the NextToken specified.",
            )
