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
