"""Replay AWS's recorded IAM and STS answers (tests/data/recorded/iam.json, sts.json) with
boto3 and the AWS CLI against a real ``headwater serve``.

Requests are rebuilt from LocalStack's tests (the recordings' source, see NOTICE);
placeholders in the recording match any value, and for the answers whose members matter
to infrastructure tools (CreateRole, GetRole, ListRoles) the member sets must be exactly
AWS's. Left out: service-specific credentials (not in the recording).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import ServerProcess, aws_cli, boto_client, headwater_server

pytestmark = pytest.mark.integration

IAM = recordings("iam")
STS = recordings("sts")
ACCOUNT = "000000000000"


def trust(principal: dict[str, Any], action: Any = "sts:AssumeRole", **extra: Any) -> str:
    statement = {"Action": action, "Effect": "Allow", "Principal": principal, **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("iam-wire")) as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "iam")


@pytest.fixture(scope="module")
def sts(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "sts")


def check(expected: Any, actual: Any) -> None:
    assert_like_recording(expected, actual, "us-west-2")


def same_members(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """The answer has exactly the recorded members (none missing, none extra)."""
    assert set(actual) - {"ResponseMetadata"} == set(expected) - {"ResponseMetadata"}


def as_session(server: ServerProcess, service: str, credentials: dict[str, Any]) -> Any:
    """A boto3 client signing with temporary credentials from STS."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-west-2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def failure(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response: dict[str, Any] = caught.value.response
    return response


# ------------------------------------------------------------------------------ roles


def test_create_describe_role(iam: Any) -> None:
    recording = IAM["TestIAMIntegrations::test_create_describe_role"]
    document = trust({"Service": "ec2.amazonaws.com"})
    created = iam.create_role(
        RoleName="describe-me", Path="/prefix/", AssumeRolePolicyDocument=document
    )
    check(recording["create_role_result"], created)
    same_members(recording["create_role_result"]["Role"], created["Role"])
    got = iam.get_role(RoleName="describe-me")
    check(recording["get_role_result"], got)
    same_members(recording["get_role_result"]["Role"], got["Role"])
    listed = iam.list_roles(PathPrefix="/prefix/")
    check(recording["list_roles_result"], listed)
    same_members(recording["list_roles_result"]["Roles"][0], listed["Roles"][0])


def test_role_with_path_lifecycle(iam: Any) -> None:
    recording = IAM["TestIAMExtensions::test_role_with_path_lifecycle"]
    document = trust({"Service": "lambda.amazonaws.com"})
    check(
        recording["create-role-response"],
        iam.create_role(RoleName="pathed", AssumeRolePolicyDocument=document, Path="/pathx/"),
    )
    check(recording["get-role-response"], iam.get_role(RoleName="pathed"))
    check(recording["delete-role-response"], iam.delete_role(RoleName="pathed"))


def test_role_with_tags(iam: Any) -> None:
    recording = IAM["TestRoles::test_role_with_tags"]
    document = trust({"Service": "ec2.amazonaws.com"})
    created = iam.create_role(
        RoleName="tagged",
        Path="/role-with-tags/",
        AssumeRolePolicyDocument=document,
        Tags=[{"Key": "test", "Value": "value"}],
    )
    check(recording["create-role-response"], created)
    check(recording["get-role-response"], iam.get_role(RoleName="tagged"))
    listed = iam.list_roles(PathPrefix="/role-with-tags/")
    check(recording["list-role-response"], listed)
    same_members(recording["list-role-response"]["Roles"][0], listed["Roles"][0])


def test_update_assume_role_policy(iam: Any) -> None:
    recording = IAM["TestIAMIntegrations::test_update_assume_role_policy"]
    document = trust({"Service": ["ec2.amazonaws.com"]}, ["sts:AssumeRole"])
    check(
        recording["created_role"],
        iam.create_role(RoleName="updated", AssumeRolePolicyDocument=document),
    )
    updated = iam.update_assume_role_policy(
        RoleName="updated", PolicyDocument=trust({"Service": "lambda.amazonaws.com"})
    )
    check(recording["updated_policy"], updated)
    document = iam.get_role(RoleName="updated")["Role"]["AssumeRolePolicyDocument"]
    assert document["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_malformed_assume_role_policy_document(iam: Any) -> None:
    recording = IAM[
        "TestIAMExtensions::test_create_role_with_malformed_assume_role_policy_document"
    ]
    trailing_comma = """
    {"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Principal": "*", "Effect": "Allow",}
    ]}
    """
    response = failure(iam.create_role, RoleName="bad", AssumeRolePolicyDocument=trailing_comma)
    check(recording["invalid-json"], response)


def test_list_roles_leaves_the_permissions_boundary_out(iam: Any) -> None:
    recording = IAM["TestIAMIntegrations::test_list_roles_with_permission_boundary"]
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    created = iam.create_role(
        RoleName="bounded",
        Path="/bounded/",
        AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
    )
    check(recording["created_role"], created)
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=boundary)
    assert iam.get_role(RoleName="bounded")["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": boundary,
    }
    listed = iam.list_roles(PathPrefix="/bounded/")
    check(recording["list_roles_result"], listed)
    same_members(recording["list_roles_result"]["Roles"][0], listed["Roles"][0])


# ------------------------------------------------------------------------------ policies


@pytest.mark.parametrize("kind", ["role", "user"])
def test_attach_policy(iam: Any, kind: str) -> None:
    recording = IAM[f"TestIAMIntegrations::test_{kind}_attach_policy"]
    name = f"attach-{kind}"
    if kind == "role":
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"})
        )
        attach = iam.attach_role_policy
        owner = {"RoleName": name}
    else:
        iam.create_user(UserName=name)
        attach = iam.attach_user_policy
        owner = {"UserName": name}
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["lambda:ListFunctions"], "Resource": ["*"]}],
    }
    policy_name = f"test-policy-attached-to-{kind}"
    created = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(document))
    check(recording["create_policy_response"], created)
    same_members(recording["create_policy_response"]["Policy"], created["Policy"])
    arn = created["Policy"]["Arn"]
    check(
        recording["non_existent_malformed_policy_arn"],
        failure(attach, PolicyArn="longpolicynamebutnoarn", **owner),
    )
    check(
        recording["existing_policy_name_provided"], failure(attach, PolicyArn=policy_name, **owner)
    )
    check(recording["valid_arn_not_existent"], failure(attach, PolicyArn=f"{arn}123", **owner))
    check(recording["valid_policy_arn"], attach(PolicyArn=arn, **owner))


def test_delete_non_existent_policy(iam: Any) -> None:
    recording = IAM["TestIAMIntegrations::test_delete_non_existent_policy_returns_no_such_entity"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/non-existent-policy"
    check(recording["delete-non-existent-policy-exc"], failure(iam.delete_policy, PolicyArn=arn))


@pytest.mark.parametrize("kind", ["role", "user", "group"])
def test_policy_encoding(iam: Any, kind: str) -> None:
    """Documents holding URL-encoded text come back exactly (IAM URL-encodes them again)."""
    recording = IAM[f"TestIAMPolicyEncoding::test_put_{kind}_policy_encoding"]
    target = quote_plus("arn:aws:apigateway:us-west-2::/restapis/aaeeieije")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["apigatway:PUT"],
                "Resource": [f"arn:aws:apigateway:us-west-2::/tags/{target}"],
            }
        ],
    }
    name = f"encoding-{kind}"
    member = f"{kind.capitalize()}Name"
    if kind == "role":
        condition = {"StringEquals": {"aws:SourceArn": target}}
        created = iam.create_role(
            RoleName=name,
            Path="/encoding/",
            AssumeRolePolicyDocument=trust(
                {"Service": "lambda.amazonaws.com"}, Condition=condition
            ),
        )
        check(recording["create-role-response"], created)
    elif kind == "user":
        iam.create_user(UserName=name)
    else:
        iam.create_group(GroupName=name)
    put = getattr(iam, f"put_{kind}_policy")
    get = getattr(iam, f"get_{kind}_policy")
    put(**{member: name}, PolicyName="encoded", PolicyDocument=json.dumps(document))
    check(recording["get-policy-response"], get(**{member: name}, PolicyName="encoded"))
    if kind == "role":
        check(recording["get-role-response"], iam.get_role(RoleName=name))
        check(recording["list-roles-response"], iam.list_roles(PathPrefix="/encoding/"))


@pytest.mark.parametrize("kind", ["role", "group", "user"])
def test_simulate_principal_policy(iam: Any, kind: str) -> None:
    recording = IAM[f"TestIAMIntegrations::test_simulate_principle_policy[{kind}]"]
    document = {
        "Version": "2012-10-17",
        "Statement": {"Sid": "", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
    }
    arn = iam.create_policy(PolicyName=f"simulated-{kind}", PolicyDocument=json.dumps(document))[
        "Policy"
    ]["Arn"]
    name = f"simulated-{kind}"
    if kind == "role":
        statement = {
            "Sid": "",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        source = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statement}),
        )["Role"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    elif kind == "group":
        source = iam.create_group(GroupName=name)["Group"]["Arn"]
        iam.attach_group_policy(GroupName=name, PolicyArn=arn)
    else:
        source = iam.create_user(UserName=name)["User"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    simulated = iam.simulate_principal_policy(
        PolicySourceArn=source,
        ActionNames=["s3:PutObject", "s3:GetObjectVersion"],
        ResourceArns=["arn:aws:s3:::bucket"],
    )
    check(recording["response"], simulated)
    assert simulated["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == name


# ------------------------------------------------------------------------- service-linked roles


def _entries(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name.split("[", 1)[1].rstrip("]"), snapshot)
        for name, snapshot in IAM.items()
        if name.startswith(prefix + "[")
    ]


def test_service_linked_roles(iam: Any) -> None:
    """Every service AWS was recorded for: role name, path, trust policy and policy."""
    for service, recording in _entries("TestIAMServiceRoles::test_service_role_lifecycle"):
        role = iam.create_service_linked_role(AWSServiceName=service)["Role"]
        name = role["RoleName"]
        described = recording["describe-response"]
        # Five of these roles had been used by their service in the recording account;
        # a role headwater just created has not.
        described["Role"]["RoleLastUsed"] = {}
        check(described, iam.get_role(RoleName=name))
        check(recording["inline-role-policies"], iam.list_role_policies(RoleName=name))
        check(recording["attached-role-policies"], iam.list_attached_role_policies(RoleName=name))
        iam.delete_service_linked_role(RoleName=name)


def test_service_linked_role_suffixes(iam: Any) -> None:
    for service, recording in _entries(
        "TestIAMServiceRoles::test_service_role_lifecycle_custom_suffix"
    ):
        role = iam.create_service_linked_role(AWSServiceName=service, CustomSuffix="suffix")["Role"]
        assert role["RoleName"].endswith("_suffix")
        check(recording["describe-response"], iam.get_role(RoleName=role["RoleName"]))
        iam.delete_service_linked_role(RoleName=role["RoleName"])
    refused = _entries("TestIAMServiceRoles::test_service_role_lifecycle_custom_suffix_not_allowed")
    assert len(refused) == 68
    for service, recording in refused:
        response = failure(iam.create_service_linked_role, AWSServiceName=service, CustomSuffix="x")
        check(recording["custom-suffix-not-allowed"], response)


def test_service_linked_role_conflict_and_deletion(iam: Any) -> None:
    iam.create_service_linked_role(AWSServiceName="batch.amazonaws.com")
    check(
        IAM["TestIAMServiceRoles::test_service_role_already_exists"]["role-already-exists-error"],
        failure(iam.create_service_linked_role, AWSServiceName="batch.amazonaws.com"),
    )
    recording = IAM["TestIAMServiceRoles::test_service_role_deletion"]
    deleted = iam.delete_service_linked_role(RoleName="AWSServiceRoleForBatch")
    check(recording["service-linked-role-deletion-response"], deleted)
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=deleted["DeletionTaskId"])
    check(recording["service-linked-role-deletion-status-response"], status)


# ------------------------------------------------------------------------------ STS


def test_assume_role(iam: Any, sts: Any, server: ServerProcess) -> None:
    recording = STS["TestSTSIntegrations::test_assume_role"]
    created = iam.create_role(
        RoleName="assumable", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT})
    )
    check(recording["create-role"], created)
    assumed = sts.assume_role(RoleArn=created["Role"]["Arn"], RoleSessionName="session-1")
    check(recording["assume-role"], assumed)
    same_members(recording["assume-role"], assumed)
    assert assumed["AssumedRoleUser"]["AssumedRoleId"].startswith(created["Role"]["RoleId"] + ":")
    credentials = assumed["Credentials"]
    as_role = as_session(server, "sts", credentials)
    assert as_role.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    as_role_iam = as_session(server, "iam", credentials)
    message = failure(as_role_iam.get_user)["Error"]["Message"]
    assert message == "Must specify userName when calling with non-User credentials"


def test_get_federation_token(sts: Any) -> None:
    recording = STS["TestSTSIntegrations::test_get_federation_token"]
    check(
        recording["get-federation-token"],
        sts.get_federation_token(Name="fed-user", DurationSeconds=900),
    )


def test_sts_invalid_parameters(sts: Any, server: ServerProcess) -> None:
    recording = STS["TestSTSIntegrations::test_sts_invalid_parameters"]
    unchecked = boto_client(server.endpoint, "sts")
    unchecked.meta.config.parameter_validation = False
    cases = {
        "malformed-arn": "nothing-valid-in-here",
        "no-partition": "arn::b:::something/test-role",
        "no-service": "arn:a::::something/test-role",
        "not-enough-colons": "arn:a:::something/test-role",
        "no-resource": "arn:a:a::aaaaaaaaaa:",
    }
    for key, arn in cases.items():
        check(
            recording[key], failure(unchecked.assume_role, RoleArn=arn, RoleSessionName="Session1")
        )
    arn = f"arn:aws:iam::{ACCOUNT}:role/test-role"
    check(
        recording["invalid-session-name"],
        failure(unchecked.assume_role, RoleArn=arn, RoleSessionName="Session1:2"),
    )


def test_assume_role_tag_validation(iam: Any, sts: Any) -> None:
    recording = STS["TestSTSAssumeRoleTagging::test_assume_role_tag_validation"]
    document = trust({"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession"])
    arn = iam.create_role(RoleName="tagging", AssumeRolePolicyDocument=document)["Role"]["Arn"]
    check(
        recording["invalid-transitive-tag-keys"],
        failure(
            sts.assume_role,
            RoleArn=arn,
            RoleSessionName="s1",
            Tags=[{"Key": "SessionTag1", "Value": "v"}],
            TransitiveTagKeys=["InvalidKey"],
        ),
    )
    check(
        recording["duplicate-tag-keys-different-casing"],
        failure(
            sts.assume_role,
            RoleArn=arn,
            RoleSessionName="s1",
            Tags=[{"Key": "SessionTag1", "Value": "v"}, {"Key": "sessiontag1", "Value": "w"}],
        ),
    )


def test_role_chaining_transitive_tags(iam: Any, sts: Any, server: ServerProcess) -> None:
    recording = STS["TestSTSAssumeRoleTagging::test_iam_role_chaining_override_transitive_tags"]
    document = trust({"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession"])
    first = iam.create_role(RoleName="chain-1", AssumeRolePolicyDocument=document)["Role"]["Arn"]
    second = iam.create_role(RoleName="chain-2", AssumeRolePolicyDocument=document)["Role"]["Arn"]
    credentials = sts.assume_role(
        RoleArn=first,
        RoleSessionName="one",
        Tags=[{"Key": "SessionTag1", "Value": "a"}],
        TransitiveTagKeys=["SessionTag1"],
    )["Credentials"]
    chained = as_session(server, "sts", credentials)
    for key, tag in (
        ("override-transitive-tag-error", "SessionTag1"),
        ("override-transitive-tag-case-ignore-error", "sessiontag1"),
    ):
        response = failure(
            chained.assume_role,
            RoleArn=second,
            RoleSessionName="two",
            Tags=[{"Key": tag, "Value": "b"}],
        )
        check(recording[key], response)


# ------------------------------------------------------------------------------ AWS CLI


def test_the_aws_cli_sees_iam_and_sts_as_on_aws(server: ServerProcess) -> None:
    document = trust({"Service": "lambda.amazonaws.com"})
    created = aws_cli(
        server,
        "iam",
        "create-role",
        "--role-name",
        "cli-role",
        "--assume-role-policy-document",
        document,
    ).json()["Role"]
    assert created["AssumeRolePolicyDocument"] == json.loads(document)
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/cli-role"
    aws_cli(
        server,
        "iam",
        "attach-role-policy",
        "--role-name",
        "cli-role",
        "--policy-arn",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    )
    attached = aws_cli(
        server, "iam", "list-attached-role-policies", "--role-name", "cli-role"
    ).json()
    assert attached["AttachedPolicies"][0]["PolicyName"] == "AWSLambdaSQSQueueExecutionRole"
    missing = aws_cli(server, "iam", "get-role", "--role-name", "nope", check=False)
    assert missing.returncode != 0
    assert (
        "NoSuchEntity" in missing.stderr
        and "The role with name nope cannot be found." in missing.stderr
    )
    identity = aws_cli(server, "sts", "get-caller-identity").json()
    assert identity == {
        "UserId": ACCOUNT,
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:root",
    }
