"""IAM resources a stack declares exist in headwater's IAM service, are updated and deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.cfn_support import deploy, events_of, physical_ids, status_of

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
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SQS_POLLER = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


def allow(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def template(
    inline: list[str], managed: list[str], shared: list[str], role_name: str | None = None
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "AssumeRolePolicyDocument": TRUST,
        "Policies": [{"PolicyName": "Inline", "PolicyDocument": allow(*inline)}],
        "ManagedPolicyArns": [*managed, {"Ref": "Shared"}],
        "Tags": [{"Key": "team", "Value": "orders"}],
    }
    if role_name is not None:
        role["RoleName"] = role_name
    return {
        "Resources": {
            "Shared": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": allow(*shared)},
            },
            "Role": {"Type": "AWS::IAM::Role", "Properties": role},
            "Extra": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "extra",
                    "PolicyDocument": allow("sqs:SendMessage"),
                    "Roles": [{"Ref": "Role"}],
                },
            },
        },
        "Outputs": {
            "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
            "RoleId": {"Value": {"Fn::GetAtt": ["Role", "RoleId"]}},
            "PolicyArn": {"Value": {"Ref": "Shared"}},
        },
    }


def document(found: Any) -> Any:
    return json.loads(found) if isinstance(found, str) else found


def test_roles_and_policies_are_created_updated_and_deleted_in_iam(hw: Headwater) -> None:
    iam = hw.client("iam")
    status = deploy(hw, "perm", template(["s3:GetObject"], [BASIC], ["dynamodb:GetItem"]))
    assert status == "CREATE_COMPLETE"
    ids = physical_ids(hw, "perm")
    role = iam.get_role(RoleName=ids["Role"])["Role"]
    assert role["RoleName"].startswith("perm-Role-")
    assert role["Tags"] == [{"Key": "team", "Value": "orders"}]
    assert document(role["AssumeRolePolicyDocument"]) == TRUST
    assert sorted(iam.list_role_policies(RoleName=ids["Role"])["PolicyNames"]) == [
        "Inline",
        "extra",
    ]
    inline = iam.get_role_policy(RoleName=ids["Role"], PolicyName="Inline")
    assert document(inline["PolicyDocument"]) == allow("s3:GetObject")
    attached = iam.list_attached_role_policies(RoleName=ids["Role"])["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {BASIC, ids["Shared"]}
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in hw.client("cloudformation").describe_stacks(StackName="perm")["Stacks"][0][
            "Outputs"
        ]
    }
    assert outputs["RoleArn"] == role["Arn"] and outputs["RoleId"] == role["RoleId"]

    # update in place: a new inline document, another AWS managed policy instead of the
    # first, a new document for the customer managed policy (its version v2)
    status = deploy(hw, "perm", template(["s3:PutObject"], [SQS_POLLER], ["dynamodb:PutItem"]))
    assert status == "UPDATE_COMPLETE"
    assert physical_ids(hw, "perm")["Role"] == ids["Role"]
    inline = iam.get_role_policy(RoleName=ids["Role"], PolicyName="Inline")
    assert document(inline["PolicyDocument"]) == allow("s3:PutObject")
    attached = iam.list_attached_role_policies(RoleName=ids["Role"])["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {SQS_POLLER, ids["Shared"]}
    policy = iam.get_policy(PolicyArn=ids["Shared"])["Policy"]
    assert policy["DefaultVersionId"] == "v2"
    version = iam.get_policy_version(PolicyArn=ids["Shared"], VersionId="v2")
    assert document(version["PolicyVersion"]["Document"]) == allow("dynamodb:PutItem")

    # a new RoleName replaces the role: the new one exists, the old one is gone
    status = deploy(
        hw,
        "perm",
        template(["s3:PutObject"], [SQS_POLLER], ["dynamodb:PutItem"], "renamed"),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert status == "UPDATE_COMPLETE"
    assert iam.get_role(RoleName="renamed")["Role"]["RoleName"] == "renamed"
    assert iam.list_role_policies(RoleName="renamed")["PolicyNames"] == ["Inline", "extra"]
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName=ids["Role"])

    hw.client("cloudformation").delete_stack(StackName="perm")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName="renamed")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_policy(PolicyArn=ids["Shared"])


def test_a_malformed_policy_fails_the_stack_and_leaves_no_role(hw: Headwater) -> None:
    bad = template(["s3:GetObject"], [BASIC], ["dynamodb:GetItem"], "doomed")
    bad["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"] = {"Statement": []}
    status = deploy(hw, "broken", bad, Capabilities=["CAPABILITY_NAMED_IAM"])
    assert status == "ROLLBACK_COMPLETE"
    failed = [
        e
        for e in hw.client("cloudformation").describe_stack_events(StackName="broken")[
            "StackEvents"
        ]
        if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Role"
    ]
    assert failed and "MalformedPolicyDocument" in failed[0]["ResourceStatusReason"]
    assert ("Shared", "DELETE_COMPLETE") in events_of(hw, "broken")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        hw.client("iam").get_role(RoleName="doomed")
    assert status_of(hw, "broken") == "ROLLBACK_COMPLETE"
