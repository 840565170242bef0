"""Offset page tokens after their paging moved into core.paging: a token in the form each
service handed out before (a client may hold one across an upgrade) still continues the
listing where it pointed, and a token the service never handed out gets that service's own
error, as it did."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

PASS_ROLE = "arn:aws:iam::000000000000:role/run"
STATES = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url_json(body: dict[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def error_of(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_iam_markers_are_base64_offsets(hw: Headwater) -> None:
    iam = hw.client("iam")
    for name in ("a", "b", "c"):
        iam.create_user(UserName=name)
    first = iam.list_users(MaxItems=1)
    assert first["IsTruncated"] and first["Marker"] == b64("1")
    rest = iam.list_users(Marker=b64("1"))
    assert [u["UserName"] for u in rest["Users"]] == ["b", "c"]
    assert not rest["IsTruncated"] and "Marker" not in rest
    assert error_of(iam.list_users, Marker="not a marker") == (
        "ValidationError",
        "Invalid Marker.",
    )
    # A bad marker is the error a caller sees even beside a bad MaxItems.
    assert error_of(iam.list_users, Marker="@@", MaxItems=5000)[1] == "Invalid Marker."


def test_secrets_manager_tokens_are_base64_json_offsets(hw: Headwater, clock: ManualClock) -> None:
    sm = hw.client("secretsmanager")
    for name in ("a", "b", "c"):
        sm.create_secret(Name=name, SecretString="x")
        clock.advance(1)
    first = sm.list_secrets(MaxResults=2)
    token = first["NextToken"]
    assert json.loads(base64.urlsafe_b64decode(token)) == {"offset": 2}
    rest = sm.list_secrets(NextToken=b64url_json({"offset": 2}))
    assert [s["Name"] for s in rest["SecretList"]] == ["c"]
    for bad in ("nope", b64url_json({"offset": -1}), b64url_json({"at": 1})):
        assert error_of(sm.list_secrets, NextToken=bad) == (
            "InvalidNextTokenException",
            "The NextToken value is invalid.",
        )


def test_logs_group_tokens_read_o_prefixed_and_bare_offsets(hw: Headwater) -> None:
    logs = hw.client("logs")
    for name in ("/a", "/b", "/c"):
        logs.create_log_group(logGroupName=name)
    first = logs.describe_log_groups(limit=1)
    assert first["nextToken"] == "o/1"
    for token in ("o/1", "1"):
        rest = logs.describe_log_groups(nextToken=token)
        assert [g["logGroupName"] for g in rest["logGroups"]] == ["/b", "/c"]
        assert "nextToken" not in rest
    for bad in ("o/-1", "x"):
        assert error_of(logs.describe_log_groups, nextToken=bad) == (
            "InvalidParameterException",
            "The specified nextToken is invalid.",
        )


def test_step_functions_tokens_are_plain_offsets(hw: Headwater) -> None:
    sfn = hw.client("stepfunctions")
    for name in ("a", "b", "c"):
        sfn.create_state_machine(name=name, definition=STATES, roleArn=PASS_ROLE)
    assert sfn.list_state_machines(maxResults=2)["nextToken"] == "2"
    rest = sfn.list_state_machines(nextToken="2")
    assert [m["name"] for m in rest["stateMachines"]] == ["c"]
    assert error_of(sfn.list_state_machines, nextToken="+1") == (
        "InvalidToken",
        "Invalid Token: '+1'",
    )


def test_eventbridge_tokens_are_plain_offsets(hw: Headwater) -> None:
    events = hw.client("events")
    for name in ("a", "b"):
        events.create_event_bus(Name=name)
    listed = events.list_event_buses(Limit=1)
    assert listed["NextToken"] == "1"
    rest = events.list_event_buses(NextToken="1")
    assert len(rest["EventBuses"]) == 2 and "NextToken" not in rest
    assert (
        error_of(events.list_event_buses, NextToken="-1")[1] == "The NextToken provided is invalid."
    )


def test_cloudwatch_alarm_and_metric_tokens(hw: Headwater) -> None:
    cloudwatch = hw.client("cloudwatch")
    for name in ("a", "b", "c"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="m",
            Namespace="n",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    assert cloudwatch.describe_alarms(MaxRecords=1)["NextToken"] == "1"
    rest = cloudwatch.describe_alarms(NextToken="1")
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == ["b", "c"]
    refused = ("InvalidParameterValue", "The service cannot find the NextToken specified.")
    assert error_of(cloudwatch.describe_alarms, NextToken="-1") == refused
    # ListMetrics' tokens are {"o": offset} in URL-safe base64; a negative one reads as 0.
    cloudwatch.put_metric_data(Namespace="n", MetricData=[{"MetricName": "m", "Value": 1.0}])
    for token in (b64url_json({"o": 0}), b64url_json({"o": -3})):
        assert len(cloudwatch.list_metrics(NextToken=token)["Metrics"]) == 1
    assert cloudwatch.list_metrics(NextToken=b64url_json({"o": 1}))["Metrics"] == []
    assert error_of(cloudwatch.list_metrics, NextToken="nope") == refused


def test_cognito_tokens_page_from_the_start_when_unreadable(hw: Headwater) -> None:
    cognito = hw.client("cognito-idp")
    for name in ("a", "b", "c"):
        cognito.create_user_pool(PoolName=name)
    assert cognito.list_user_pools(MaxResults=2)["NextToken"] == "2"
    assert len(cognito.list_user_pools(MaxResults=60, NextToken="2")["UserPools"]) == 1
    assert len(cognito.list_user_pools(MaxResults=60, NextToken="x")["UserPools"]) == 3
