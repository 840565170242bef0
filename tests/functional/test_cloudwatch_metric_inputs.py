"""PutMetricData values a double cannot hold: found by the odd-input property test, where a
NaN in StatisticValues reached the metric store and failed its NOT NULL constraint."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

STATISTICS = {"SampleCount": 1.0, "Sum": 1.0, "Minimum": 1.0, "Maximum": 1.0}


@pytest.mark.parametrize(
    ("datum", "parameter", "shown"),
    [
        (
            {"StatisticValues": {**STATISTICS, "SampleCount": math.nan}},
            "StatisticValues.SampleCount",
            "nan",
        ),
        (
            {"StatisticValues": {**STATISTICS, "Maximum": math.inf}},
            "StatisticValues.Maximum",
            "inf",
        ),
        ({"Values": [1.0, math.nan]}, "Values.member.2", "nan"),
        ({"Values": [1.0], "Counts": [-math.inf]}, "Counts.member.1", "-inf"),
        ({"Value": 10**400}, "Value", str(10**400)),
    ],
)
def test_values_that_are_not_finite_doubles_are_invalid(
    hw: Headwater, datum: dict[str, Any], parameter: str, shown: str
) -> None:
    cloudwatch = hw.client("cloudwatch")
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_data(Namespace="ns", MetricData=[{"MetricName": "m", **datum}])
    assert caught.value.response["Error"]["Message"] == (
        f"The value {shown} for parameter MetricData.member.1.{parameter} is invalid."
    )
    assert cloudwatch.list_metrics()["Metrics"] == []


def test_a_math_expression_over_a_far_off_range_covers_only_what_cloudwatch_keeps() -> None:
    # The expression's grid spanned the whole range: year 1 to 9999 (botocore sends any
    # datetime) made a list of billions of period starts and raised MemoryError (found by
    # the odd-input hunt). CloudWatch keeps 455 days and takes data at most two hours ahead.
    with Headwater.in_memory(clock=ManualClock()) as hw:
        now = hw.clock.now()
        result = hw.client("cloudwatch").get_metric_data(
            MetricDataQueries=[{"Id": "five", "Expression": "5", "Period": 3600}],
            StartTime=dt.datetime(1, 1, 2, tzinfo=dt.UTC),
            EndTime=dt.datetime(9999, 1, 1, tzinfo=dt.UTC),
        )["MetricDataResults"][0]
    times = [stamp.timestamp() for stamp in result["Timestamps"]]
    assert set(result["Values"]) == {5.0}
    assert now - 455 * 86400 <= min(times) < now - 454 * 86400
    assert now + 3600 <= max(times) <= now + 3 * 3600


@pytest.mark.parametrize("max_datapoints", [-1, -(2**63)])
def test_get_metric_data_refuses_a_negative_max_datapoints(max_datapoints: int) -> None:
    # botocore sends any integer: a negative one made the NextToken's offset negative, and
    # one past 64 bits raised TypeError from its JSON (found by the odd-input hunt; a
    # request body now carries at most 64 bits, the most negative long included).
    with Headwater.in_memory(clock=ManualClock()) as hw:
        now = dt.datetime.fromtimestamp(hw.clock.now(), dt.UTC)
        with pytest.raises(ClientError) as caught:
            hw.client("cloudwatch").get_metric_data(
                MetricDataQueries=[{"Id": "five", "Expression": "5", "Period": 60}],
                StartTime=now - dt.timedelta(hours=1),
                EndTime=now,
                MaxDatapoints=max_datapoints,
            )
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "The parameter MaxDatapoints must be greater than or equal to 0.",
    )
