"""Each intrinsic function, pseudo parameter and condition, evaluated over stack values."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from headwater.deploy.errors import TemplateError
from headwater.deploy.intrinsics import (
    UNKNOWN,
    Resolver,
    StackValues,
    contains_unknown,
    pseudo_parameters,
)

PSEUDO = pseudo_parameters(
    account="123456789012",
    region="eu-west-1",
    stack_name="shop",
    stack_id="arn:aws:cloudformation:eu-west-1:123456789012:stack/shop/1",
    notification_arns=[],
)


def resolver(**overrides: Any) -> Resolver:
    created = {"Queue": "https://sqs/queue", "Table": "orders"}
    attributes = {
        ("Queue", "Arn"): "arn:aws:sqs:eu-west-1:123456789012:queue",
        ("Table", "StreamArn"): "arn:stream",
    }
    values = StackValues(
        parameters={"Env": "prod", "Size": "3", "Zones": ["a", "b"]},
        pseudo=PSEUDO,
        mappings={"Sizes": {"prod": {"Shards": 4}, "eu-west-1": {"Name": "ireland"}}},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["1", 1]}]},
            "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsDev"}]},
        },
        resource_ids=frozenset({"Queue", "Table", "Pending"}),
        resource_ref=lambda logical_id: created.get(logical_id, UNKNOWN),
        resource_attribute=lambda logical_id, name: attributes.get((logical_id, name), UNKNOWN),
        import_value=lambda name: {"SharedTopic": "arn:topic"}[name],
    )
    for key, value in overrides.items():
        setattr(values, key, value)
    return Resolver(values)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Env"}, "prod"),
        ({"Ref": "Zones"}, ["a", "b"]),
        ({"Ref": "Queue"}, "https://sqs/queue"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::StackName"}, "shop"),
        ({"Ref": "AWS::NotificationARNs"}, []),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:eu-west-1:123456789012:queue"),
        ({"Fn::GetAtt": "Table.StreamArn"}, "arn:stream"),
        ({"Fn::GetAtt": ["Table", {"Ref": "AttrName"}]}, "arn:stream"),
        (
            {"Fn::Sub": "${AWS::StackName}-${Env}-${Queue.Arn}"},
            "shop-prod-arn:aws:sqs:eu-west-1:123456789012:queue",
        ),
        ({"Fn::Sub": ["${Prefix}/${Table}", {"Prefix": {"Ref": "Env"}}]}, "prod/orders"),
        ({"Fn::Sub": "literal ${!NotAVariable} and ${ Env }"}, "literal ${NotAVariable} and prod"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Env"}, 3]]}, "a-prod-3"),
        ({"Fn::Join": [",", {"Ref": "Zones"}]}, "a,b"),
        ({"Fn::Join": ["", []]}, ""),
        ({"Fn::Split": ["|", "a|b||c"]}, ["a", "b", "", "c"]),
        ({"Fn::Select": ["1", ["x", "y"]]}, "y"),
        ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "eu-west-1a"),
        ({"Fn::GetAZs": "us-east-2"}, ["us-east-2a", "us-east-2b", "us-east-2c"]),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsDev", "big", "small"]}, "small"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Shards"]}, 4),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Name"]}, "ireland"),
        ({"Fn::FindInMap": ["Sizes", "nope", "Shards", {"DefaultValue": 1}]}, 1),
        ({"Fn::Base64": {"Fn::Sub": "echo ${Env}"}}, base64.b64encode(b"echo prod").decode()),
        ({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
        ({"Fn::Cidr": ["192.168.0.0/24", 2, "6"]}, ["192.168.0.0/26", "192.168.0.64/26"]),
        ({"Fn::ImportValue": "SharedTopic"}, "arn:topic"),
        ({"Fn::Length": {"Ref": "Zones"}}, 2),
        ({"Fn::ToJsonString": {"a": [1, {"Ref": "Env"}]}}, '{"a":[1,"prod"]}'),
        ({"Fn::Equals": [{"Ref": "Size"}, 3]}, True),
        ({"Key": {"Ref": "AWS::NoValue"}, "Keep": 1}, {"Keep": 1}),
        ([1, {"Ref": "AWS::NoValue"}, 2], [1, 2]),
        ({"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}, UNKNOWN.__class__),
        (
            {"Statement": {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}},
            {"Statement": {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}},
        ),
    ],
)
def test_functions(expression: Any, expected: Any) -> None:
    r = resolver()
    r.values.parameters["AttrName"] = "StreamArn"
    result = r.resolve({"Wrap": expression})
    if expected is UNKNOWN.__class__:
        assert result == {}  # NoValue removed the key
    else:
        assert result == {"Wrap": expected}


def test_conditions_refer_to_each_other() -> None:
    r = resolver()
    assert r.all_conditions() == {"IsProd": True, "IsDev": False, "Both": True, "Either": False}


def test_values_of_resources_not_created_yet_are_unknown() -> None:
    r = resolver()
    assert r.resolve({"Ref": "Pending"}) is UNKNOWN
    assert r.resolve({"Fn::Sub": "x-${Pending}"}) is UNKNOWN
    assert r.resolve({"Fn::Join": ["", ["a", {"Fn::GetAtt": ["Pending", "Arn"]}]]}) is UNKNOWN
    assert contains_unknown(r.resolve({"A": [{"B": {"Ref": "Pending"}}]}))
    assert not contains_unknown(r.resolve({"A": [{"B": {"Ref": "Queue"}}]}))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Ref": "Nope"}, "Unresolved resource dependencies [Nope]"),
        ({"Fn::GetAtt": ["Nope", "Arn"]}, "Fn::GetAtt references undefined resource Nope"),
        ({"Fn::Join": ["-"]}, "every Fn::Join object requires two parameters"),
        ({"Fn::Select": [5, ["a"]]}, "Fn::Select cannot select nonexistent value at index 5"),
        (
            {"Fn::FindInMap": ["Sizes", "dev", "Shards"]},
            "Unable to get mapping for Sizes::dev::Shards",
        ),
        ({"Fn::FindInMap": ["Missing", "a", "b"]}, "Mapping named 'Missing' is not present"),
        ({"Fn::If": ["Unknown", 1, 2]}, "Unresolved condition dependency Unknown in Fn::If"),
        ({"Fn::Sub": "${bad-name}"}, "variable names in Fn::Sub syntax must contain only"),
        ({"Fn::Sub": ["a", "b"]}, "Fn::Sub intrinsic functions don't specify expected arguments"),
        ({"Fn::Length": "abc"}, "Fn::Length requires a list"),
        ({"Fn::Cidr": ["10.0.0.0/24", 300, 8]}, "Fn::Cidr cannot make that many subnets"),
        ({"Fn::Transform": {"Name": "AWS::Include"}}, "Fn::Transform with macro AWS::Include"),
    ],
)
def test_errors_name_the_problem(expression: Any, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        resolver().resolve(expression)
    assert message in caught.value.message
    assert caught.value.message.startswith("Template error: ")


def test_condition_cycle_is_an_error() -> None:
    r = resolver(
        conditions={
            "A": {"Fn::Not": [{"Condition": "B"}]},
            "B": {"Fn::Not": [{"Condition": "A"}]},
        }
    )
    with pytest.raises(TemplateError, match="Circular dependency between conditions"):
        r.condition("A")


def test_condition_must_be_a_boolean_operation() -> None:
    r = resolver(conditions={"A": {"Ref": "Env"}})
    with pytest.raises(TemplateError, match="boolean operations"):
        r.condition("A")


def test_pseudo_partition_follows_region() -> None:
    china = pseudo_parameters(
        account="1", region="cn-north-1", stack_name="s", stack_id="i", notification_arns=["arn:n"]
    )
    assert china["AWS::Partition"] == "aws-cn"
    assert china["AWS::URLSuffix"] == "amazonaws.com.cn"
    assert china["AWS::NotificationARNs"] == ["arn:n"]
