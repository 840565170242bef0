"""STS in process: the caller's identity by access key, AssumeRole sessions and their tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.client import ServiceClient
from headwater.services.base import RequestContext

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "000000000000"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


def sts_as(hw: Headwater, access_key: str) -> ServiceClient:
    """The STS client of a caller signing with ``access_key``."""
    return ServiceClient(hw.service("sts"), RequestContext(access_key=access_key))


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"]}


def test_caller_identity_follows_the_access_key(hw: Headwater) -> None:
    sts, iam = hw.sts, hw.iam
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    user = iam.create_user(UserName="bob", Path="/ops/")["User"]
    key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    identity = sts_as(hw, key).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::000000000000:user/ops/bob"
    assert identity["UserId"] == user["UserId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == "000000000000"


def test_assume_role_returns_working_credentials(hw: Headwater) -> None:
    role = hw.client("iam").create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)
    assumed = hw.client("sts").assume_role(
        RoleArn=role["Role"]["Arn"], RoleSessionName="ci", DurationSeconds=900
    )
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert assumed["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['Role']['RoleId']}:ci",
        "Arn": "arn:aws:sts::000000000000:assumed-role/deployer/ci",
    }
    expiry = credentials["Expiration"].timestamp() - hw.clock.now()
    assert 899 <= expiry <= 901
    identity = sts_as(hw, credentials["AccessKeyId"]).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::000000000000:assumed-role/deployer/ci"


def test_assume_role_errors(hw: Headwater) -> None:
    sts = hw.client("sts")
    assert error_of(sts.assume_role, RoleArn="nothing-valid-in-here", RoleSessionName="ab") == {
        "Code": "ValidationError",
        "Message": "nothing-valid-in-here is invalid",
    }
    missing = "arn:aws:iam::000000000000:role/missing"
    assert error_of(sts.assume_role, RoleArn=missing, RoleSessionName="ab")["Code"] == (
        "AccessDenied"
    )
    hw.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    arn = "arn:aws:iam::000000000000:role/r"
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="ab", DurationSeconds=7200)[
        "Message"
    ] == ("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    assert (
        error_of(
            sts.assume_role,
            RoleArn=arn,
            RoleSessionName="ab",
            Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
        )["Message"]
        == "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    )
    assert (
        error_of(sts.assume_role, RoleArn=arn, RoleSessionName="ab", TransitiveTagKeys=["a"])[
            "Message"
        ]
        == "The specified transitive tag key must be included in the requested tags."
    )


def test_role_chaining_keeps_transitive_tags(hw: Headwater) -> None:
    iam = hw.client("iam")
    for name in ("first", "second"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    first = hw.client("sts").assume_role(
        RoleArn="arn:aws:iam::000000000000:role/first",
        RoleSessionName="one",
        Tags=[{"Key": "Project", "Value": "x"}],
        TransitiveTagKeys=["Project"],
    )
    chained = sts_as(hw, first["Credentials"]["AccessKeyId"])
    error = error_of(
        chained.assume_role,
        RoleArn="arn:aws:iam::000000000000:role/second",
        RoleSessionName="two",
        Tags=[{"Key": "project", "Value": "y"}],
    )
    assert error["Code"] == "InvalidParameterValue"
    assert "conflicts with a transitive tag key from the calling session" in error["Message"]
    second = chained.assume_role(
        RoleArn="arn:aws:iam::000000000000:role/second", RoleSessionName="two"
    )
    assert second["AssumedRoleUser"]["Arn"].endswith("assumed-role/second/two")


def test_federation_and_session_tokens(hw: Headwater) -> None:
    sts = hw.client("sts")
    federated = sts.get_federation_token(Name="visitor")
    assert federated["FederatedUser"]["Arn"] == "arn:aws:sts::000000000000:federated-user/visitor"
    assert federated["PackedPolicySize"] == 0
    token = sts.get_session_token()["Credentials"]
    assert sts_as(hw, token["AccessKeyId"]).get_caller_identity()["Arn"] == (
        "arn:aws:iam::000000000000:root"
    )


def test_an_expiration_is_to_the_millisecond_as_boto3_reads_it(
    hw: Headwater, clock: ManualClock
) -> None:
    # STS's XML writes milliseconds: in process the microseconds went through
    clock.set(clock.now() + 0.123456)
    credentials = hw.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert credentials["Expiration"].microsecond == 123000
