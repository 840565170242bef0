"""AWS::Events::Rule and AWS::Events::EventBus deployed through CloudFormation, and SAM's
``Schedule`` and ``EventBridgeRule`` function events translated into rules that run it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.cfn_support import deploy, outputs_of, physical_ids
from tests.functional.recorders import RECORDER

START = dt.datetime(2027, 1, 4, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def drain(hw: Headwater, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            hw.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def rules_template(pattern: dict[str, Any], targets: list[str], state: str) -> dict[str, Any]:
    target_of = {
        "whole": {"Id": "whole", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}},
        "detail": {
            "Id": "detail",
            "Arn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "InputPath": "$.detail",
        },
    }
    return {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "inbox"}},
            "Bus": {
                "Type": "AWS::Events::EventBus",
                "Properties": {"Name": "shop", "Tags": [{"Key": "team", "Value": "shop"}]},
            },
            "Orders": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": pattern,
                    "State": state,
                    "Targets": [target_of[name] for name in targets],
                },
            },
            "ShopRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": "shop-orders",
                    "EventBusName": {"Ref": "Bus"},
                    "EventPattern": json.dumps({"source": ["shop"]}),
                    "Targets": [target_of["whole"]],
                },
            },
        },
        "Outputs": {
            "OrdersArn": {"Value": {"Fn::GetAtt": ["Orders", "Arn"]}},
            "ShopRuleRef": {"Value": {"Ref": "ShopRule"}},
            "BusArn": {"Value": {"Fn::GetAtt": ["Bus", "Arn"]}},
        },
    }


def put(hw: Headwater, source: str, bus: str = "default") -> None:
    answer = hw.events.put_events(
        Entries=[{"Source": source, "DetailType": "t", "Detail": '{"n": 1}', "EventBusName": bus}]
    )
    assert answer["FailedEntryCount"] == 0


def sam_function(out: Path, events: dict[str, Any]) -> dict[str, Any]:
    """A SAM template of one function recording its events to ``out``, with ``events``."""
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": RECORDER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Environment": {"Variables": {"OUT": str(out)}},
                    "Events": events,
                },
            },
        },
    }


def test_rules_and_a_bus_deploy_update_in_place_and_delete(hw: Headwater) -> None:
    template = rules_template({"source": ["app"]}, ["whole", "detail"], "ENABLED")
    assert deploy(hw, "rules", template) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "rules")
    outputs = outputs_of(hw, "rules")
    name = ids["Orders"]
    assert name.startswith("rules-Orders-")
    assert outputs["OrdersArn"] == f"arn:aws:events:us-east-1:000000000000:rule/{name}"
    assert outputs["ShopRuleRef"] == "shop|shop-orders"
    assert outputs["BusArn"] == "arn:aws:events:us-east-1:000000000000:event-bus/shop"
    described = hw.events.describe_rule(Name=name)
    assert json.loads(described["EventPattern"]) == {"source": ["app"]}
    url = hw.sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    put(hw, "app")
    put(hw, "shop", "shop")
    put(hw, "other")
    bodies = drain(hw, url)
    assert sorted(json.dumps(b, sort_keys=True) for b in bodies if "source" not in b) == [
        '{"n": 1}'
    ]
    assert sorted(b["source"] for b in bodies if "source" in b) == ["app", "shop"]

    changed = rules_template({"source": ["app", "more"]}, ["detail"], "DISABLED")
    assert deploy(hw, "rules", changed) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "rules")["Orders"] == name  # updated in place
    assert hw.events.describe_rule(Name=name)["State"] == "DISABLED"
    targets = hw.events.list_targets_by_rule(Rule=name)["Targets"]
    assert [t["Id"] for t in targets] == ["detail"]
    put(hw, "app")
    assert drain(hw, url) == []

    hw.client("cloudformation").delete_stack(StackName="rules")
    assert hw.events.list_rules()["Rules"] == []
    assert [b["Name"] for b in hw.events.list_event_buses()["EventBuses"]] == ["default"]


def test_sam_schedule_and_eventbridge_rule_events_run_the_function(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "invocations.jsonl"
    sam = sam_function(
        out,
        {
            "Tick": {
                "Type": "Schedule",
                "Properties": {
                    "Schedule": "rate(5 minutes)",
                    "Input": '{"kind": "tick"}',
                    "Description": "every five minutes",
                },
            },
            "Off": {
                "Type": "Schedule",
                "Properties": {"Schedule": "rate(1 minute)", "Enabled": False},
            },
            "Orders": {
                "Type": "EventBridgeRule",
                "Properties": {
                    "Pattern": {"source": ["shop.orders"]},
                    "InputPath": "$.detail",
                    "Target": {"Id": "OrdersTarget"},
                },
            },
        },
    )
    status = deploy(hw, "sam", sam, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    assert status == "CREATE_COMPLETE"
    ids = physical_ids(hw, "sam")
    assert {"FnTick", "FnTickPermission", "FnOrders", "FnOrdersPermission"} <= set(ids)
    assert hw.events.describe_rule(Name=ids["FnOff"])["State"] == "DISABLED"
    targets = hw.events.list_targets_by_rule(Rule=ids["FnOrders"])["Targets"]
    assert [t["Id"] for t in targets] == ["OrdersTarget"]
    hw.events.put_events(
        Entries=[{"Source": "shop.orders", "DetailType": "t", "Detail": '{"order": 7}'}]
    )
    for _ in range(5):
        clock.advance(60)
    assert hw.service("lambda").wait_for_event_invocations()
    received = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(json.dumps(r, sort_keys=True) for r in received) == [
        '{"kind": "tick"}',
        '{"order": 7}',
    ]


def scheduler_template(expression: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            "Group": {
                "Type": "AWS::Scheduler::ScheduleGroup",
                "Properties": {"Name": "jobs", "Tags": [{"Key": "team", "Value": "a"}]},
            },
            "Tick": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "GroupName": {"Ref": "Group"},
                    "ScheduleExpression": expression,
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {
                        "Arn": {"Fn::GetAtt": ["Queue", "Arn"]},
                        "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
                        "Input": '{"job": "tick"}',
                        "RetryPolicy": {"MaximumRetryAttempts": 3},
                    },
                },
            },
        },
        "Outputs": {
            "TickArn": {"Value": {"Fn::GetAtt": ["Tick", "Arn"]}},
            "GroupArn": {"Value": {"Fn::GetAtt": ["Group", "Arn"]}},
        },
    }


def test_scheduler_schedule_and_group_deploy_fire_update_and_delete(
    hw: Headwater, clock: ManualClock
) -> None:
    assert deploy(hw, "jobs", scheduler_template("rate(5 minutes)")) == "CREATE_COMPLETE"
    name = physical_ids(hw, "jobs")["Tick"]
    assert name.startswith("jobs-Tick-")
    outputs = outputs_of(hw, "jobs")
    assert outputs["TickArn"] == f"arn:aws:scheduler:us-east-1:000000000000:schedule/jobs/{name}"
    assert outputs["GroupArn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/jobs"
    scheduler = hw.client("scheduler")
    got = scheduler.get_schedule(Name=name, GroupName="jobs")
    assert got["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 3,
    }
    url = hw.sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    clock.advance(300)
    assert drain(hw, url) == [{"job": "tick"}]

    assert deploy(hw, "jobs", scheduler_template("rate(1 hour)")) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "jobs")["Tick"] == name  # updated in place
    assert scheduler.get_schedule(Name=name, GroupName="jobs")["ScheduleExpression"] == (
        "rate(1 hour)"
    )

    hw.client("cloudformation").delete_stack(StackName="jobs")
    assert scheduler.list_schedules()["Schedules"] == []
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]


def test_sam_schedule_v2_event_runs_the_function(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "invocations.jsonl"
    sam = sam_function(
        out,
        {
            "Nightly": {
                "Type": "ScheduleV2",
                "Properties": {
                    "ScheduleExpression": "cron(30 1 * * ? *)",
                    "ScheduleExpressionTimezone": "Europe/Paris",
                    "Input": '{"kind": "nightly"}',
                    "RetryPolicy": {"MaximumRetryAttempts": 2},
                },
            },
        },
    )
    status = deploy(hw, "sam2", sam, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    assert status == "CREATE_COMPLETE"
    ids = physical_ids(hw, "sam2")
    assert {"FnNightly", "FnNightlyRole"} <= set(ids)
    got = hw.client("scheduler").get_schedule(Name=ids["FnNightly"])
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    clock.advance(30 * 60)  # 01:30 in Paris in January is 00:30 UTC
    assert hw.service("lambda").wait_for_event_invocations()
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"kind": "nightly"}]
