"""A stack update changes a resource's tags in place: keys that went are removed, the rest
take their new values (every provider reconciles tags through ``providers.base.retag``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from headwater import Headwater
from tests.functional.cfn_support import deploy, physical_ids

KEY_SCHEMA = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}
ASSUME = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _as_dict(pairs: list[dict[str, str]]) -> dict[str, str]:
    return {pair["Key"]: pair["Value"] for pair in pairs}


def _queue_tags(hw: Headwater, url: str) -> dict[str, str]:
    return dict(hw.client("sqs").list_queue_tags(QueueUrl=url).get("Tags", {}))


def _topic_tags(hw: Headwater, arn: str) -> dict[str, str]:
    return _as_dict(hw.client("sns").list_tags_for_resource(ResourceArn=arn)["Tags"])


def _stream_tags(hw: Headwater, name: str) -> dict[str, str]:
    return _as_dict(hw.client("kinesis").list_tags_for_stream(StreamName=name)["Tags"])


def _parameter_tags(hw: Headwater, name: str) -> dict[str, str]:
    listed = hw.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return _as_dict(listed["TagList"])


def _role_tags(hw: Headwater, name: str) -> dict[str, str]:
    return _as_dict(hw.client("iam").list_role_tags(RoleName=name)["Tags"])


def _table_tags(hw: Headwater, name: str) -> dict[str, str]:
    dynamodb = hw.client("dynamodb")
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    return _as_dict(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"])


def _log_group_tags(hw: Headwater, name: str) -> dict[str, str]:
    logs = hw.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return dict(logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"])


def _secret_tags(hw: Headwater, arn: str) -> dict[str, str]:
    return _as_dict(hw.client("secretsmanager").describe_secret(SecretId=arn).get("Tags", []))


def _rule_tags(hw: Headwater, name: str) -> dict[str, str]:
    events = hw.client("events")
    arn = events.describe_rule(Name=name)["Arn"]
    return _as_dict(events.list_tags_for_resource(ResourceARN=arn)["Tags"])


def _state_machine_tags(hw: Headwater, arn: str) -> dict[str, str]:
    tags = hw.client("stepfunctions").list_tags_for_resource(resourceArn=arn)["tags"]
    return {tag["key"]: tag["value"] for tag in tags}


PASS_MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}

TagReader = Callable[[Headwater, str], dict[str, str]]
#: resource type -> (its properties besides Tags, whether its Tags are a mapping, reader)
RESOURCES: dict[str, tuple[dict[str, Any], bool, TagReader]] = {
    "AWS::SQS::Queue": ({}, False, _queue_tags),
    "AWS::SNS::Topic": ({}, False, _topic_tags),
    "AWS::Kinesis::Stream": ({"ShardCount": 1}, False, _stream_tags),
    "AWS::SSM::Parameter": ({"Type": "String", "Value": "v"}, True, _parameter_tags),
    "AWS::IAM::Role": ({"AssumeRolePolicyDocument": ASSUME}, False, _role_tags),
    "AWS::DynamoDB::Table": (KEY_SCHEMA, False, _table_tags),
    "AWS::Logs::LogGroup": ({}, False, _log_group_tags),
    "AWS::SecretsManager::Secret": ({"SecretString": "s"}, False, _secret_tags),
    "AWS::Events::Rule": ({"ScheduleExpression": "rate(1 hour)"}, False, _rule_tags),
    "AWS::StepFunctions::StateMachine": (
        {"RoleArn": "arn:aws:iam::000000000000:role/r", "Definition": PASS_MACHINE},
        False,
        _state_machine_tags,
    ),
}


def template(type_name: str, tags: dict[str, str]) -> dict[str, Any]:
    properties, as_mapping, _ = RESOURCES[type_name]
    listed: Any = tags if as_mapping else [{"Key": k, "Value": v} for k, v in tags.items()]
    return {"Resources": {"It": {"Type": type_name, "Properties": {**properties, "Tags": listed}}}}


@pytest.mark.parametrize("type_name", sorted(RESOURCES))
def test_an_update_removes_changes_and_adds_tags(hw: Headwater, type_name: str) -> None:
    read = RESOURCES[type_name][2]
    assert deploy(hw, "tagged", template(type_name, {"a": "1", "b": "2"})) == "CREATE_COMPLETE"
    physical_id = physical_ids(hw, "tagged")["It"]
    assert read(hw, physical_id) == {"a": "1", "b": "2"}
    changed = template(type_name, {"b": "3", "c": "4"})
    assert deploy(hw, "tagged", changed) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "tagged")["It"] == physical_id  # changed in place
    assert read(hw, physical_id) == {"b": "3", "c": "4"}
