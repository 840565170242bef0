"""AWS::Logs::SubscriptionFilter, and SAM's CloudWatchLogs function event (which the SAM
translator turns into a subscription filter and a Lambda permission for CloudWatch Logs):
deployed, delivering, updated and deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.cfn_support import deploy, physical_ids

#: Appends each decoded CloudWatch Logs message to $OUT, one JSON document per line.
CONSUMER = """\
import base64, gzip, json, os
def handler(event, context):
    document = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(document) + "\\n")
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def sam_template(out: Path, pattern: str) -> dict[str, Any]:
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "app"}},
            "Consumer": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": CONSUMER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Environment": {"Variables": {"OUT": str(out)}},
                    "Events": {
                        "Errors": {
                            "Type": "CloudWatchLogs",
                            "Properties": {
                                "LogGroupName": {"Ref": "Group"},
                                "FilterPattern": pattern,
                            },
                        }
                    },
                },
            },
        },
    }


def put(hw: Headwater, clock: ManualClock, *messages: str) -> None:
    stamp = int(clock.now() * 1000)
    hw.client("logs").put_log_events(
        logGroupName="app",
        logStreamName="s",
        logEvents=[{"timestamp": stamp, "message": m} for m in messages],
    )


def received(hw: Headwater, out: Path) -> list[dict[str, Any]]:
    assert hw.service("lambda").wait_for_event_invocations()
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_sam_cloudwatch_logs_event_subscribes_the_function(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    out = tmp_path / "messages.jsonl"
    capabilities = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert deploy(hw, "sam", sam_template(out, "ERROR"), Capabilities=capabilities) == (
        "CREATE_COMPLETE"
    )
    ids = physical_ids(hw, "sam")
    # as the SAM translator writes it: a filter, and a permission for CloudWatch Logs
    assert set(ids) == {
        "Group",
        "Consumer",
        "ConsumerRole",
        "ConsumerErrors",
        "ConsumerErrorsPermission",
    }
    logs = hw.client("logs")
    (described,) = logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"]
    assert described["filterName"] == ids["ConsumerErrors"]
    assert described["filterPattern"] == "ERROR"
    assert described["destinationArn"].endswith(f":function:{ids['Consumer']}")
    policy = json.loads(hw.lambda_.get_policy(FunctionName=ids["Consumer"])["Policy"])
    assert [s["Principal"] for s in policy["Statement"]] == [{"Service": "logs.amazonaws.com"}]

    logs.create_log_stream(logGroupName="app", logStreamName="s")
    put(hw, clock, "ERROR disk full", "all good")
    (message,) = received(hw, out)
    assert message["logGroup"] == "app"
    assert message["subscriptionFilters"] == [ids["ConsumerErrors"]]
    assert [e["message"] for e in message["logEvents"]] == ["ERROR disk full"]

    # an update changes the pattern in place
    assert deploy(hw, "sam", sam_template(out, "WARN"), Capabilities=capabilities) == (
        "UPDATE_COMPLETE"
    )
    (updated,) = logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"]
    assert (updated["filterName"], updated["filterPattern"]) == (ids["ConsumerErrors"], "WARN")
    put(hw, clock, "ERROR again", "WARN low memory")
    assert [e["message"] for e in received(hw, out)[-1]["logEvents"]] == ["WARN low memory"]

    hw.client("cloudformation").delete_stack(StackName="sam")
    assert logs.describe_log_groups(logGroupNamePrefix="app")["logGroups"] == []


def test_plain_subscription_filter_resource(hw: Headwater, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "index.py").write_text(CONSUMER)
    function = hw.lambda_.create_function_from_directory(
        "consumer", code, "index.handler", environment={"OUT": str(tmp_path / "out.jsonl")}
    )["FunctionArn"]
    hw.client("logs").create_log_group(logGroupName="app")
    template: dict[str, Any] = {
        "Resources": {
            "Filter": {
                "Type": "AWS::Logs::SubscriptionFilter",
                "Properties": {
                    "LogGroupName": "app",
                    "FilterName": "everything",
                    "FilterPattern": "",
                    "DestinationArn": function,
                    "Distribution": "Random",
                },
            }
        }
    }
    assert deploy(hw, "plain", template) == "CREATE_COMPLETE"
    assert physical_ids(hw, "plain")["Filter"] == "everything"
    logs = hw.client("logs")
    (described,) = logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"]
    assert described["distribution"] == "Random"
    hw.client("cloudformation").delete_stack(StackName="plain")
    assert logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"] == []
