"""IAM in process: roles, inline and managed policies, attachments, users, groups, access
keys and instance profiles, stored as IAM answers them (and kept across a restart)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater

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
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}],
}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"]}


def test_role_lifecycle(hw: Headwater) -> None:
    iam = hw.iam
    created = iam.create_role(
        RoleName="app-role",
        Path="/service/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="runs the app",
        Tags=[{"Key": "team", "Value": "orders"}],
    )["Role"]
    assert created["Arn"] == "arn:aws:iam::000000000000:role/service/app-role"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == TRUST
    assert "MaxSessionDuration" not in created  # CreateRole leaves it out, as on AWS
    role = iam.get_role(RoleName="APP-ROLE")["Role"]  # names are not case-sensitive
    assert (role["MaxSessionDuration"], role["RoleLastUsed"]) == (3600, {})
    assert role["Tags"] == [{"Key": "team", "Value": "orders"}]
    listed = iam.list_roles(PathPrefix="/service/")["Roles"]
    assert [r["RoleName"] for r in listed] == ["app-role"]
    assert "Tags" not in listed[0]
    iam.update_role(RoleName="app-role", MaxSessionDuration=7200, Description="new")
    iam.tag_role(RoleName="app-role", Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_role(RoleName="app-role", TagKeys=["team"])
    role = iam.get_role(RoleName="app-role")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (7200, "new")
    assert role["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert error_of(
        iam.create_role, RoleName="App-Role", AssumeRolePolicyDocument=json.dumps(TRUST)
    ) == {"Code": "EntityAlreadyExists", "Message": "Role with name App-Role already exists."}
    iam.delete_role(RoleName="app-role")
    assert error_of(iam.get_role, RoleName="app-role")["Code"] == "NoSuchEntity"


@pytest.mark.parametrize(
    ("document", "trust", "message"),
    [
        ("{not json", True, "This policy contains invalid Json"),
        (json.dumps({"Statement": []}), True, "Syntax errors in policy."),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "x:y"}]}
            ),
            True,
            "Missing required field Principal",
        ),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
            ),
            False,
            "Policy statement must contain resources.",
        ),
        (
            json.dumps({"Version": "1999", "Statement": [{"Effect": "Allow"}]}),
            False,
            "The policy failed legacy parsing",
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}],
                }
            ),
            False,
            'Resource bucket must be in ARN format or "*".',
        ),
    ],
)
def test_policy_documents_are_validated_as_iam_does(
    hw: Headwater, document: str, trust: bool, message: str
) -> None:
    iam = hw.client("iam")
    if trust:
        error = error_of(iam.create_role, RoleName="r", AssumeRolePolicyDocument=document)
    else:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        error = error_of(iam.put_role_policy, RoleName="r", PolicyName="p", PolicyDocument=document)
    assert error == {"Code": "MalformedPolicyDocument", "Message": message}


def test_model_constraints_are_iam_validation_errors(hw: Headwater) -> None:
    iam = hw.client("iam", validate=False)
    error = error_of(iam.create_role, RoleName="x" * 65, AssumeRolePolicyDocument="{}")
    assert error == {
        "Code": "ValidationError",
        "Message": f"1 validation error detected: Value '{'x' * 65}' at 'roleName' failed to "
        "satisfy constraint: Member must have length less than or equal to 64",
    }


def test_inline_and_managed_policies(hw: Headwater) -> None:
    iam = hw.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="r", PolicyName="send", PolicyDocument=json.dumps(POLICY))
    assert iam.get_role_policy(RoleName="r", PolicyName="send")["PolicyDocument"] == POLICY
    assert iam.list_role_policies(RoleName="r")["PolicyNames"] == ["send"]
    policy = iam.create_policy(PolicyName="mine", PolicyDocument=json.dumps(POLICY))["Policy"]
    arn = policy["Arn"]
    assert (arn, policy["DefaultVersionId"]) == ("arn:aws:iam::000000000000:policy/mine", "v1")
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == ["AWSLambdaBasicExecutionRole", "mine"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    basic = iam.get_policy_version(PolicyArn=BASIC, VersionId="v1")["PolicyVersion"]
    assert "logs:PutLogEvents" in basic["Document"]["Statement"][0]["Action"]
    changed = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Action": "sqs:*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(changed), SetAsDefault=True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        "v2",
        "v1",
    ]
    assert error_of(iam.delete_role, RoleName="r")["Code"] == "DeleteConflict"
    assert error_of(iam.delete_policy, PolicyArn=arn)["Code"] == "DeleteConflict"
    missing = "arn:aws:iam::000000000000:policy/nope"
    assert error_of(iam.attach_role_policy, RoleName="r", PolicyArn=missing) == {
        "Code": "NoSuchEntity",
        "Message": f"Policy {missing} does not exist or is not attachable.",
    }
    assert error_of(
        iam.attach_role_policy, RoleName="r", PolicyArn="mine-is-a-name-not-an-arn"
    ) == {
        "Code": "ValidationError",
        "Message": "Invalid ARN:  Could not be parsed!",
    }
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.detach_role_policy(RoleName="r", PolicyArn=BASIC)
    iam.delete_role_policy(RoleName="r", PolicyName="send")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    iam.delete_role(RoleName="r")
    assert iam.list_roles()["Roles"] == []


def test_entities_of_an_attached_aws_managed_policy_headwater_has_no_document_of(
    hw: Headwater,
) -> None:
    # Attaching any AWS managed policy is accepted, but ListEntitiesForPolicy answered
    # NoSuchEntity for one headwater has no document of: terraform's aws_iam_policy_attachment
    # could not read back the attachment it had made.
    iam = hw.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_user(UserName="u")
    unlisted = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
    assert error_of(iam.list_entities_for_policy, PolicyArn=unlisted)["Code"] == "NoSuchEntity"
    iam.attach_role_policy(RoleName="r", PolicyArn=unlisted)
    iam.attach_user_policy(UserName="u", PolicyArn=unlisted)
    entities = iam.list_entities_for_policy(PolicyArn=unlisted)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["r"]
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["u"]
    assert entities["PolicyGroups"] == []
    roles_only = iam.list_entities_for_policy(PolicyArn=unlisted, EntityFilter="Role")
    assert (len(roles_only["PolicyRoles"]), roles_only["PolicyUsers"]) == (1, [])


def test_users_groups_access_keys_and_instance_profiles(hw: Headwater) -> None:
    iam = hw.client("iam")
    user = iam.create_user(UserName="alice", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:user/alice"
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["alice"]
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Inactive")]
    assert error_of(iam.delete_user, UserName="alice")["Code"] == "DeleteConflict"
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    iam.remove_user_from_group(GroupName="devs", UserName="alice")
    iam.delete_user(UserName="alice")
    iam.delete_group(GroupName="devs")
    iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    profile = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["ec2"]
    assert len(iam.list_instance_profiles_for_role(RoleName="ec2")["InstanceProfiles"]) == 1
    assert error_of(iam.delete_role, RoleName="ec2")["Code"] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.delete_instance_profile(InstanceProfileName="web")
    iam.delete_role(RoleName="ec2")


def test_service_linked_roles(hw: Headwater) -> None:
    iam = hw.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert attached[0]["PolicyName"] == "AutoScalingServiceRolePolicy"
    assert error_of(
        iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com", CustomSuffix="x"
    ) == {"Code": "InvalidInput", "Message": "Custom suffix is not allowed for ecs.amazonaws.com"}
    task = iam.delete_service_linked_role(RoleName=role["RoleName"])["DeletionTaskId"]
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
    assert status["Status"] == "SUCCEEDED"


def test_paging(hw: Headwater) -> None:
    iam = hw.client("iam")
    for n in range(5):
        iam.create_role(RoleName=f"r{n}", AssumeRolePolicyDocument=json.dumps(TRUST))
    first = iam.list_roles(MaxItems=2)
    assert first["IsTruncated"] and [r["RoleName"] for r in first["Roles"]] == ["r0", "r1"]
    rest = iam.list_roles(Marker=first["Marker"], MaxItems=10)
    assert not rest["IsTruncated"] and len(rest["Roles"]) == 3


def test_iam_is_global_and_durable(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as hw:
        hw.client("iam", "eu-west-1").create_role(
            RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST)
        )
    with Headwater(data_dir=tmp_path) as hw:
        role = hw.client("iam", "ap-south-1").get_role(RoleName="r")["Role"]
        assert role["AssumeRolePolicyDocument"] == TRUST


def test_policy_simulation(hw: Headwater) -> None:
    iam = hw.client("iam")
    iam.create_user(UserName="sim")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="sim")
    allow_reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}],
    }
    deny_secret = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret*"},
            {
                "Effect": "Allow",
                "NotAction": "iam:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
            },
        ],
    }
    iam.put_group_policy(
        GroupName="readers", PolicyName="reads", PolicyDocument=json.dumps(allow_reads)
    )
    iam.put_user_policy(UserName="sim", PolicyName="guard", PolicyDocument=json.dumps(deny_secret))
    results = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::000000000000:user/sim",
        ActionNames=["s3:GetObject", "iam:CreateUser"],
        ResourceArns=["arn:aws:s3:::b/report", "arn:aws:s3:::b/secret.txt"],
    )["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::b/report"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::b/secret.txt"): "explicitDeny",
        ("iam:CreateUser", "arn:aws:s3:::b/report"): "implicitDeny",
        ("iam:CreateUser", "arn:aws:s3:::b/secret.txt"): "implicitDeny",
    }
    assert results[0]["MissingContextValues"] == ["aws:SourceVpc"]
    custom = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(allow_reads)],
        ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::b/x"],
    )["EvaluationResults"]
    assert custom[0]["EvalDecision"] == "allowed"
