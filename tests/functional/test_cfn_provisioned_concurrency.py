"""ProvisionedConcurrencyConfig of AWS::Lambda::Alias and AWS::Lambda::Version is applied.

It is not a CreateAlias/PublishVersion member, so it has to be put on the qualifier
separately; SAM writes it on the AutoPublishAlias.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.cfn_support import deploy, outputs_of

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def template(alias_concurrency: int | None) -> dict[str, Any]:
    alias: dict[str, Any] = {
        "FunctionName": {"Ref": "Fn"},
        "FunctionVersion": {"Fn::GetAtt": ["First", "Version"]},
        "Name": "live",
    }
    if alias_concurrency is not None:
        alias["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": alias_concurrency
        }
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
                },
            },
            "First": {
                "Type": "AWS::Lambda::Version",
                "Properties": {"FunctionName": {"Ref": "Fn"}},
            },
            "Other": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return 2\n"},
                },
            },
            "Pinned": {
                "Type": "AWS::Lambda::Version",
                "Properties": {
                    "FunctionName": {"Ref": "Other"},
                    "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2},
                },
            },
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": alias},
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Fn"}},
            "Other": {"Value": {"Ref": "Other"}},
            "Pinned": {"Value": {"Fn::GetAtt": ["Pinned", "Version"]}},
        },
    }


def requested(hw: Headwater, function: str, qualifier: str) -> int:
    config = hw.client("lambda").get_provisioned_concurrency_config(
        FunctionName=function, Qualifier=qualifier
    )
    return int(config["RequestedProvisionedConcurrentExecutions"])


def test_alias_and_version_provisioned_concurrency_is_put_changed_and_removed(
    hw: Headwater,
) -> None:
    assert deploy(hw, "pc", template(1)) == "CREATE_COMPLETE"
    out = outputs_of(hw, "pc")
    assert requested(hw, out["Name"], "live") == 1
    assert requested(hw, out["Other"], out["Pinned"]) == 2

    assert deploy(hw, "pc", template(3)) == "UPDATE_COMPLETE"
    assert requested(hw, out["Name"], "live") == 3
    assert requested(hw, out["Other"], out["Pinned"]) == 2

    assert deploy(hw, "pc", template(None)) == "UPDATE_COMPLETE"
    with pytest.raises(ClientError) as caught:
        requested(hw, out["Name"], "live")
    assert caught.value.response["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"


def test_an_alias_whose_concurrency_is_refused_is_not_left_behind(hw: Headwater) -> None:
    # the alias points at a version that has its own provisioned concurrency: Lambda refuses
    # the alias's, and the alias it already made must go, or the rollback cannot delete the
    # version it references
    conflicting = template(1)
    conflicting["Resources"]["Live"]["Properties"]["FunctionName"] = {"Ref": "Other"}
    conflicting["Resources"]["Live"]["Properties"]["FunctionVersion"] = {
        "Fn::GetAtt": ["Pinned", "Version"]
    }
    assert deploy(hw, "conflict", conflicting) == "ROLLBACK_COMPLETE"
    failed = [
        e.get("ResourceStatusReason", "")
        for e in hw.client("cloudformation").describe_stack_events(StackName="conflict")[
            "StackEvents"
        ]
        if e["LogicalResourceId"] == "Live" and e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert "already Provisioned version" in failed[0]
    assert hw.client("lambda").list_functions()["Functions"] == []
