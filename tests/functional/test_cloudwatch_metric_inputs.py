"""PutMetricData values a double cannot hold: found by the odd-input property test, where a
NaN in StatisticValues reached the metric store and failed its NOT NULL constraint."""

from __future__ import annotations

import math
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater

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
