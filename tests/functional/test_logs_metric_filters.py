"""CloudWatch Logs metric filters: the filter operations, and the CloudWatch metrics that
matching events (PutLogEvents, and Lambda's own function logs) make."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture
def logs(hw: Headwater) -> Any:
    client = hw.client("logs")
    client.create_log_group(logGroupName="app")
    client.create_log_stream(logGroupName="app", logStreamName="s")
    return client


def put(logs: Any, clock: ManualClock, *messages: str) -> None:
    stamp = int(clock.now() * 1000)
    logs.put_log_events(
        logGroupName="app",
        logStreamName="s",
        logEvents=[{"timestamp": stamp, "message": m} for m in messages],
    )


def statistics(hw: Headwater, clock: ManualClock, name: str, **extra: Any) -> list[dict[str, Any]]:
    points = hw.client("cloudwatch").get_metric_statistics(
        Namespace="App",
        MetricName=name,
        StartTime=clock.now() - 3600,
        EndTime=clock.now() + 60,
        Period=60,
        Statistics=["Sum", "SampleCount"],
        **extra,
    )["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


def error_of(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"]}


def test_matching_events_add_the_metric_value(hw: Headwater, clock: ManualClock, logs: Any) -> None:
    logs.put_metric_filter(
        logGroupName="app",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "unit": "Count"}
        ],
    )
    logs.put_metric_filter(
        logGroupName="app",
        filterName="latency",
        filterPattern="{ $.latency > 0 }",
        metricTransformations=[
            {
                "metricName": "Latency",
                "metricNamespace": "App",
                "metricValue": "$.latency",
                "dimensions": {"Route": "$.route"},
            }
        ],
    )
    put(
        logs,
        clock,
        "ERROR one",
        "fine",
        "ERROR two",
        '{"latency": 40, "route": "/a"}',
        '{"latency": 2, "route": "/a"}',
        '{"latency": 7, "route": "/b"}',
        '{"latency": 0, "route": "/b"}',
    )
    (errors,) = statistics(hw, clock, "Errors")
    assert (errors["Sum"], errors["SampleCount"], errors["Unit"]) == (2.0, 2.0, "Count")
    (route_a,) = statistics(hw, clock, "Latency", Dimensions=[{"Name": "Route", "Value": "/a"}])
    assert (route_a["Sum"], route_a["SampleCount"]) == (42.0, 2.0)
    (route_b,) = statistics(hw, clock, "Latency", Dimensions=[{"Name": "Route", "Value": "/b"}])
    assert (route_b["Sum"], route_b["SampleCount"]) == (7.0, 1.0)
    listed = hw.client("cloudwatch").list_metrics(Namespace="App")["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == ["Errors", "Latency", "Latency"]

    # a deleted filter makes no more data
    logs.delete_metric_filter(logGroupName="app", filterName="errors")
    clock.advance(120)
    put(logs, clock, "ERROR three")
    assert len(statistics(hw, clock, "Errors")) == 1


def test_default_value_fills_a_minute_without_matches(
    hw: Headwater, clock: ManualClock, logs: Any
) -> None:
    logs.put_metric_filter(
        logGroupName="app",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[
            {
                "metricName": "Errors",
                "metricNamespace": "App",
                "metricValue": "1",
                "defaultValue": 0.0,
            }
        ],
    )
    put(logs, clock, "ERROR a", "ok")
    clock.advance(60)
    put(logs, clock, "ok", "still ok")
    assert [(p["Sum"], p["SampleCount"]) for p in statistics(hw, clock, "Errors")] == [
        (1.0, 1.0),
        (0.0, 1.0),
    ]


def test_function_logs_feed_their_groups_metric_filters(hw: Headwater, clock: ManualClock) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py",
            "def handler(event, context):\n    print('ORDER_FAILED', event['id'])\n    return 1\n",
        )
    hw.lambda_.create_function(
        FunctionName="orders",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    logs = hw.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.put_metric_filter(
        logGroupName="/aws/lambda/orders",
        filterName="failed",
        filterPattern="ORDER_FAILED",
        metricTransformations=[
            {"metricName": "FailedOrders", "metricNamespace": "App", "metricValue": "1"}
        ],
    )
    for order in range(3):
        hw.lambda_.invoke(FunctionName="orders", Payload=f'{{"id": {order}}}'.encode())
    logs.describe_log_groups()  # a Logs read flushes the queued function logs
    (point,) = statistics(hw, clock, "FailedOrders")
    assert point["Sum"] == 3.0


def test_filters_are_described_and_tested(hw: Headwater, clock: ManualClock, logs: Any) -> None:
    logs.create_log_group(logGroupName="other")
    transformation = {"metricName": "M", "metricNamespace": "App", "metricValue": "1"}
    logs.put_metric_filter(
        logGroupName="app",
        filterName="b-filter",
        filterPattern="x",
        metricTransformations=[transformation],
    )
    logs.put_metric_filter(
        logGroupName="other",
        filterName="a-filter",
        filterPattern='{ $.level = "ERROR" }',
        metricTransformations=[{**transformation, "metricName": "N", "defaultValue": 0.0}],
    )
    described = logs.describe_metric_filters()["metricFilters"]
    assert [(f["filterName"], f["logGroupName"]) for f in described] == [
        ("a-filter", "other"),
        ("b-filter", "app"),
    ]
    assert described[0] == {
        "filterName": "a-filter",
        "filterPattern": '{ $.level = "ERROR" }',
        "metricTransformations": [
            {"metricName": "N", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}
        ],
        "creationTime": int(clock.now() * 1000),
        "logGroupName": "other",
        "applyOnTransformedLogs": False,
    }
    by_group = logs.describe_metric_filters(logGroupName="app")["metricFilters"]
    assert [f["filterName"] for f in by_group] == ["b-filter"]
    assert [
        f["filterName"]
        for f in logs.describe_metric_filters(filterNamePrefix="a-")["metricFilters"]
    ] == ["a-filter"]
    by_metric = logs.describe_metric_filters(metricName="N", metricNamespace="App")
    assert [f["filterName"] for f in by_metric["metricFilters"]] == ["a-filter"]
    first = logs.describe_metric_filters(limit=1)
    second = logs.describe_metric_filters(limit=1, nextToken=first["nextToken"])
    assert [f["filterName"] for f in first["metricFilters"] + second["metricFilters"]] == [
        "a-filter",
        "b-filter",
    ]

    tested = logs.test_metric_filter(
        filterPattern='{ $.level = "ERROR" }',
        logEventMessages=['{"level": "INFO"}', '{"level": "ERROR"}', "ERROR"],
    )
    assert tested["matches"] == [
        {"eventNumber": 2, "eventMessage": '{"level": "ERROR"}', "extractedValues": {}}
    ]
    # deleting the group deletes its filters
    logs.delete_log_group(logGroupName="other")
    assert [f["filterName"] for f in logs.describe_metric_filters()["metricFilters"]] == [
        "b-filter"
    ]


def test_bad_filters_get_logs_errors_and_change_nothing(hw: Headwater, logs: Any) -> None:
    transformation = {"metricName": "M", "metricNamespace": "App", "metricValue": "1"}
    long_name = "X" * 513
    assert error_of(
        logs.put_metric_filter,
        logGroupName="app",
        filterName=long_name,
        filterPattern="x",
        metricTransformations=[transformation],
    ) == {
        "Code": "InvalidParameterException",
        "Message": f"1 validation error detected: Value '{long_name}' at 'filterName' failed "
        "to satisfy constraint: Member must have length less than or equal to 512",
    }
    two = [
        {"metricName": "metric1", "metricNamespace": "namespace1", "metricValue": "1"},
        {"metricName": "metric2", "metricNamespace": "namespace2", "metricValue": "1"},
    ]
    assert error_of(
        logs.put_metric_filter,
        logGroupName="app",
        filterName="f",
        filterPattern="x",
        metricTransformations=two,
    ) == {
        "Code": "InvalidParameterException",
        "Message": "1 validation error detected: Value '[MetricTransformation(metricName="
        "metric1, metricNamespace=namespace1, metricValue=1, defaultValue=null, unit=null, "
        "dimensions=null), MetricTransformation(metricName=metric2, metricNamespace="
        "namespace2, metricValue=1, defaultValue=null, unit=null, dimensions=null)]' at "
        "'metricTransformations' failed to satisfy constraint: Member must have length less "
        "than or equal to 1",
    }
    assert (
        error_of(
            logs.put_metric_filter,
            logGroupName="app",
            filterName="f",
            filterPattern="{ $.x = ",
            metricTransformations=[transformation],
        )["Code"]
        == "InvalidParameterException"
    )
    assert (
        error_of(
            logs.put_metric_filter,
            logGroupName="app",
            filterName="f",
            filterPattern="x",
            metricTransformations=[{**transformation, "metricValue": "lots"}],
        )["Code"]
        == "InvalidParameterException"
    )
    assert error_of(
        logs.put_metric_filter,
        logGroupName="missing",
        filterName="f",
        filterPattern="x",
        metricTransformations=[transformation],
    ) == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log group does not exist.",
    }
    assert error_of(logs.delete_metric_filter, logGroupName="X" * 513, filterName="f") == {
        "Code": "InvalidParameterException",
        "Message": "Invalid LogGroup or LogStream, both must have length less than or equal "
        "to 512.",
    }
    assert error_of(logs.delete_metric_filter, logGroupName="app", filterName="f") == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified metric filter does not exist.",
    }
    assert error_of(logs.describe_metric_filters, metricName="M" * 256)["Code"] == (
        "InvalidParameterException"
    )
    # what botocore's validation would refuse, sent anyway, and values no metric can hold
    unchecked = hw.client("logs", validate=False)
    for odd in (
        {"metricName": "M", "metricValue": "1"},
        {**transformation, "metricValue": "1e400"},
        {**transformation, "defaultValue": float("nan")},
        "not a structure",
    ):
        assert (
            error_of(
                unchecked.put_metric_filter,
                logGroupName="app",
                filterName="f",
                filterPattern="x",
                metricTransformations=[odd],
            )["Code"]
            == "InvalidParameterException"
        ), odd
    assert logs.describe_metric_filters()["metricFilters"] == []


ACCESS_LOG = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache.gif HTTP/1.0" {} {}'
ACCESS_PATTERN = "[ip, user, username, timestamp, request, status_code, bytes]"


def test_space_delimited_patterns_match_and_name_fields(
    hw: Headwater, clock: ManualClock, logs: Any
) -> None:
    events = [ACCESS_LOG.format(404, 100), ACCESS_LOG.format(200, 2326), "too few fields"]
    tested = logs.test_metric_filter(filterPattern=ACCESS_PATTERN, logEventMessages=events)
    assert [m["eventNumber"] for m in tested["matches"]] == [1, 2]
    assert tested["matches"][0]["extractedValues"] == {
        "$ip": "127.0.0.1",
        "$user": "-",
        "$username": "frank",
        "$timestamp": "10/Oct/2000:13:55:36 -0700",
        "$request": "GET /apache.gif HTTP/1.0",
        "$status_code": "404",
        "$bytes": "100",
    }
    conditions = {
        "[ip, user, username, timestamp, request, status_code=404, bytes]": [1],
        "[..., status_code = 4* || status_code = 5*, bytes]": [1],
        "[ip, ..., bytes > 1000]": [2],
        '[ip=127.*, user, username="frank", ...]': [1, 2],
        "[ip, user, username, timestamp, request, status_code != 404, bytes]": [2],
    }
    for pattern, numbers in conditions.items():
        found = logs.test_metric_filter(filterPattern=pattern, logEventMessages=events)
        assert [m["eventNumber"] for m in found["matches"]] == numbers, pattern
    # several ``...`` against many fields answer at once (each split was once tried)
    many = " ".join(["x"] * 60)
    pattern = "[" + ", ".join(["..., a=x"] * 8) + ", ..., last=zz]"
    assert logs.test_metric_filter(filterPattern=pattern, logEventMessages=[many])["matches"] == []
    # FilterLogEvents reads the same patterns
    put(logs, clock, *events)
    filtered = logs.filter_log_events(logGroupName="app", filterPattern="[..., bytes > 1000]")
    assert [e["message"] for e in filtered["events"]] == [events[1]]

    logs.put_metric_filter(
        logGroupName="app",
        filterName="bytes",
        filterPattern="[ip, user, username, timestamp, request, status_code, bytes]",
        metricTransformations=[
            {
                "metricName": "Bytes",
                "metricNamespace": "App",
                "metricValue": "$bytes",
                "dimensions": {"Status": "$status_code"},
            }
        ],
    )
    put(logs, clock, *events)
    (not_found,) = statistics(hw, clock, "Bytes", Dimensions=[{"Name": "Status", "Value": "404"}])
    assert not_found["Sum"] == 100.0
    assert error_of(logs.test_metric_filter, filterPattern="[a, b", logEventMessages=["x"]) == {
        "Code": "InvalidParameterException",
        "Message": "Invalid metric filter pattern: Invalid character(s) in term",
    }
