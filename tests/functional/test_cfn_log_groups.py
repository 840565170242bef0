"""AWS::Logs::LogGroup properties reach the log group."""

from __future__ import annotations

from typing import Any

from headwater import Headwater, ManualClock
from tests.functional.cfn_support import deploy, physical_ids


def test_log_group_class_retention_and_tags_are_applied(hw: Headwater) -> None:
    template = {
        "Resources": {
            "Group": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupClass": "INFREQUENT_ACCESS",
                    "RetentionInDays": 14,
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
            }
        }
    }
    assert deploy(hw, "logs", template) == "CREATE_COMPLETE"
    name = physical_ids(hw, "logs")["Group"]
    logs = hw.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["logGroupClass"] == "INFREQUENT_ACCESS"
    assert group["retentionInDays"] == 14
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"team": "data"}


def metric_filter_template(pattern: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "app"}},
            "Errors": {
                "Type": "AWS::Logs::MetricFilter",
                "Properties": {
                    "LogGroupName": {"Ref": "Group"},
                    "FilterPattern": pattern,
                    "MetricTransformations": [
                        {
                            "MetricName": "Errors",
                            "MetricNamespace": "App",
                            "MetricValue": "$.count",
                            "Unit": "Count",
                            "Dimensions": [{"Key": "Service", "Value": "$.service"}],
                        }
                    ],
                },
            },
        }
    }


def test_a_metric_filter_turns_matching_events_into_its_metric(
    hw: Headwater, clock: ManualClock
) -> None:
    assert deploy(hw, "filters", metric_filter_template('{ $.level = "ERROR" }')) == (
        "CREATE_COMPLETE"
    )
    name = physical_ids(hw, "filters")["Errors"]
    logs = hw.client("logs")
    (described,) = logs.describe_metric_filters(logGroupName="app")["metricFilters"]
    assert described["filterName"] == name
    assert described["metricTransformations"] == [
        {
            "metricName": "Errors",
            "metricNamespace": "App",
            "metricValue": "$.count",
            "unit": "Count",
            "dimensions": {"Service": "$.service"},
        }
    ]
    logs.create_log_stream(logGroupName="app", logStreamName="s")

    def put(*messages: str) -> None:
        stamp = int(clock.now() * 1000)
        logs.put_log_events(
            logGroupName="app",
            logStreamName="s",
            logEvents=[{"timestamp": stamp, "message": m} for m in messages],
        )

    put(
        '{"level": "ERROR", "count": 3, "service": "orders"}',
        '{"level": "WARN", "count": 5, "service": "orders"}',
    )
    # a changed pattern is put in place (same filter)
    assert deploy(hw, "filters", metric_filter_template('{ $.level = "WARN" }')) == (
        "UPDATE_COMPLETE"
    )
    assert physical_ids(hw, "filters")["Errors"] == name
    put('{"level": "WARN", "count": 4, "service": "orders"}')
    (point,) = hw.client("cloudwatch").get_metric_statistics(
        Namespace="App",
        MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "orders"}],
        StartTime=clock.now() - 600,
        EndTime=clock.now() + 60,
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert point["Sum"] == 7.0

    hw.client("cloudformation").delete_stack(StackName="filters")
    assert logs.describe_metric_filters()["metricFilters"] == []
