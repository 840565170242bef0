"""Secrets Manager: secrets and versions, staging labels, deletion on the headwater clock,
listing, tags, policies, passwords, rotation through a function, and AWS's errors; through
``hw.client`` and through boto3 over the wire (the ASGI app, no sockets)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from headwater.services.secretsmanager.store import SecretRecord, SecretStore, SecretVersion
from headwater.store.database import Database
from tests.asgi_boto import in_process_aws

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers
DAY = 86400


@pytest.fixture(params=["in-process", "wire"])
def sm(request: pytest.FixtureRequest, hw: Headwater) -> Iterator[Any]:
    """A Secrets Manager client of ``hw``: ``hw.client``, or boto3 through the ASGI app."""
    if request.param == "in-process":
        yield hw.client("secretsmanager")
        return
    with in_process_aws(hw) as aws:
        yield aws.client("secretsmanager")


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_and_read_by_name_full_and_partial_arn(sm: Any) -> None:
    created = sm.create_secret(
        Name="prod/db", SecretString='{"user":"app","password":"pw"}', Description="db"
    )
    arn = created["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-")
    assert len(arn) - len("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-") == 6
    partial = arn[:-7]
    for secret_id in ("prod/db", arn, partial):
        value = sm.get_secret_value(SecretId=secret_id)
        assert value["SecretString"] == '{"user":"app","password":"pw"}'
        assert (value["ARN"], value["Name"]) == (arn, "prod/db")
        assert value["VersionId"] == created["VersionId"]
        assert value["VersionStages"] == ["AWSCURRENT"]
        assert isinstance(value["CreatedDate"], dt.datetime)
    assert error_of(sm.get_secret_value, SecretId=arn[:-1] + "?")[0] == (
        "ResourceNotFoundException"
    )
    binary = sm.create_secret(Name="blob", SecretBinary=b"\x00\xffkey")
    assert sm.get_secret_value(SecretId=binary["ARN"])["SecretBinary"] == b"\x00\xffkey"
    assert "SecretString" not in sm.get_secret_value(SecretId="blob")


def test_create_errors_and_idempotent_token(sm: Any) -> None:
    token = "a" * 32
    first = sm.create_secret(Name="once", SecretString="v", ClientRequestToken=token)
    assert first["VersionId"] == token
    again = sm.create_secret(Name="once", SecretString="v", ClientRequestToken=token)
    assert (again["ARN"], again["VersionId"]) == (first["ARN"], token)
    assert error_of(sm.create_secret, Name="once", SecretString="v") == (
        "ResourceExistsException",
        "The operation failed because the secret once already exists.",
    )
    assert error_of(sm.create_secret, Name="once", SecretString="w", ClientRequestToken=token)[
        0
    ] == ("ResourceExistsException")
    assert error_of(sm.create_secret, Name="bad name!", SecretString="v")[0] == (
        "InvalidParameterException"
    )
    assert error_of(sm.create_secret, Name="both", SecretString="v", SecretBinary=b"v") == (
        "InvalidParameterException",
        "You can't specify both a binary secret value and a string secret value in the same "
        "secret.",
    )
    assert error_of(sm.get_secret_value, SecretId="nope") == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
    # a secret made without a value has no AWSCURRENT version yet
    sm.create_secret(Name="empty")
    assert error_of(sm.get_secret_value, SecretId="empty") == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    )
    assert [s["Name"] for s in sm.list_secrets()["SecretList"]] == ["empty", "once"]


def test_versions_and_staging_labels(sm: Any) -> None:
    v1 = sm.create_secret(Name="app", SecretString="one")["VersionId"]
    put = sm.put_secret_value(SecretId="app", SecretString="two")
    v2 = put["VersionId"]
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId="app")["SecretString"] == "two"
    previous = sm.get_secret_value(SecretId="app", VersionStage="AWSPREVIOUS")
    assert (previous["SecretString"], previous["VersionId"]) == ("one", v1)
    assert sm.get_secret_value(SecretId="app", VersionId=v1)["SecretString"] == "one"
    assert error_of(sm.get_secret_value, SecretId="app", VersionId=v1, VersionStage="AWSCURRENT")[
        0
    ] == ("InvalidRequestException")
    assert error_of(sm.get_secret_value, SecretId="app", VersionStage="nope") == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: nope",
    )
    # a version with its own label leaves AWSCURRENT where it is
    pending = sm.put_secret_value(
        SecretId="app", SecretString="three", VersionStages=["AWSPENDING"]
    )["VersionId"]
    assert sm.get_secret_value(SecretId="app")["SecretString"] == "two"
    stages = sm.describe_secret(SecretId="app")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    # moving AWSCURRENT needs the version it is on; the old one becomes AWSPREVIOUS
    code, message = error_of(
        sm.update_secret_version_stage,
        SecretId="app",
        VersionStage="AWSCURRENT",
        MoveToVersionId=pending,
    )
    assert code == "InvalidParameterException" and v2 in message
    sm.update_secret_version_stage(
        SecretId="app", VersionStage="AWSCURRENT", MoveToVersionId=pending, RemoveFromVersionId=v2
    )
    stages = sm.describe_secret(SecretId="app")["VersionIdsToStages"]
    assert stages == {v2: ["AWSPREVIOUS"], pending: ["AWSPENDING", "AWSCURRENT"]}
    versions = sm.list_secret_version_ids(SecretId="app")["Versions"]
    assert [v["VersionId"] for v in versions] == [pending, v2]
    everything = sm.list_secret_version_ids(SecretId="app", IncludeDeprecated=True)
    assert [v["VersionId"] for v in everything["Versions"]] == [pending, v2, v1]
    assert everything["Versions"][2]["VersionStages"] == []
    # a custom label comes off a version
    sm.update_secret_version_stage(
        SecretId="app", VersionStage="AWSPENDING", RemoveFromVersionId=pending
    )
    assert sm.describe_secret(SecretId="app")["VersionIdsToStages"][pending] == ["AWSCURRENT"]
    # PutSecretValue with the same token and value is the same version; another value is not
    token = "t" * 32
    sm.put_secret_value(SecretId="app", SecretString="four", ClientRequestToken=token)
    same = sm.put_secret_value(SecretId="app", SecretString="four", ClientRequestToken=token)
    assert same["VersionId"] == token
    assert error_of(
        sm.put_secret_value, SecretId="app", SecretString="five", ClientRequestToken=token
    )[0] == ("ResourceExistsException")
    assert sm.get_secret_value(SecretId="app")["SecretString"] == "four"


def test_update_secret_and_describe(sm: Any, clock: ManualClock) -> None:
    arn = sm.create_secret(
        Name="svc", SecretString="a", Tags=[{"Key": "team", "Value": "x"}], KmsKeyId="alias/k"
    )["ARN"]
    clock.advance(3 * DAY)
    updated = sm.update_secret(SecretId=arn, Description="now described")
    assert "VersionId" not in updated
    assert sm.get_secret_value(SecretId="svc")["SecretString"] == "a"
    with_value = sm.update_secret(SecretId="svc", SecretString="b")
    assert sm.get_secret_value(SecretId="svc")["VersionId"] == with_value["VersionId"]
    described = sm.describe_secret(SecretId="svc")
    assert described["Description"] == "now described"
    assert described["KmsKeyId"] == "alias/k"
    assert described["Tags"] == [{"Key": "team", "Value": "x"}]
    assert described["RotationEnabled"] is False
    assert described["LastChangedDate"] == dt.datetime.fromtimestamp(clock.now(), dt.UTC)
    assert described["CreatedDate"] < described["LastChangedDate"]
    # read today: LastAccessedDate is the day, not the moment
    accessed = described["LastAccessedDate"].astimezone(dt.UTC)
    assert (accessed.hour, accessed.minute, accessed.second) == (0, 0, 0)
    assert accessed.date() == dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()
    assert "DeletedDate" not in described


def test_delete_with_recovery_window_then_gone_on_the_clock(
    sm: Any, hw: Headwater, clock: ManualClock
) -> None:
    arn = sm.create_secret(Name="temp", SecretString="v")["ARN"]
    assert error_of(sm.delete_secret, SecretId="temp", RecoveryWindowInDays=3) == (
        "InvalidParameterException",
        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
    )
    assert error_of(
        sm.delete_secret, SecretId="temp", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True
    )[0] == ("InvalidParameterException")
    deleted = sm.delete_secret(SecretId="temp", RecoveryWindowInDays=7)
    assert deleted["DeletionDate"] == dt.datetime.fromtimestamp(clock.now() + 7 * DAY, dt.UTC)
    assert error_of(sm.get_secret_value, SecretId="temp") == (
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
    assert error_of(sm.put_secret_value, SecretId="temp", SecretString="w")[0] == (
        "InvalidRequestException"
    )
    assert error_of(sm.create_secret, Name="temp", SecretString="w")[0] == (
        "InvalidRequestException"
    )
    assert "DeletedDate" in sm.describe_secret(SecretId=arn)
    assert sm.list_secrets()["SecretList"] == []
    assert [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]] == [
        "temp"
    ]
    # restored within the window: readable again
    sm.restore_secret(SecretId=arn)
    assert sm.get_secret_value(SecretId="temp")["SecretString"] == "v"
    assert "DeletedDate" not in sm.describe_secret(SecretId="temp")
    # deleted again with the default 30 days: still there after 29, gone after 30
    sm.delete_secret(SecretId="temp")
    clock.advance(29 * DAY)
    assert sm.describe_secret(SecretId="temp")["Name"] == "temp"
    clock.advance(DAY + 1)
    assert error_of(sm.describe_secret, SecretId="temp")[0] == "ResourceNotFoundException"
    # the sweeper removed the row itself, not only hid it
    store = hw.service("secretsmanager")._store  # type: ignore[attr-defined]
    assert store.get("000000000000", "us-east-1", "temp") is None
    # the name is free again, with a new ARN
    assert sm.create_secret(Name="temp", SecretString="new")["ARN"] != arn


def test_force_delete_is_immediate(sm: Any) -> None:
    sm.create_secret(Name="gone", SecretString="v")
    sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
    assert error_of(sm.describe_secret, SecretId="gone")[0] == "ResourceNotFoundException"
    sm.create_secret(Name="gone", SecretString="again")
    assert sm.get_secret_value(SecretId="gone")["SecretString"] == "again"
    # forcing the deletion of a secret that is not there is no error (API reference)
    assert sm.delete_secret(SecretId="never", ForceDeleteWithoutRecovery=True)["Name"] == "never"
    assert error_of(sm.delete_secret, SecretId="never")[0] == "ResourceNotFoundException"


def test_list_filters_sorting_and_pages(sm: Any, clock: ManualClock) -> None:
    for number, (name, description, tags) in enumerate([
        ("prod/api", "API key", {"env": "prod"}),
        ("prod/db", "Database password", {"env": "prod", "team": "data"}),
        ("dev/db", "database for dev", {"env": "dev"}),
    ]):  # fmt: skip
        clock.advance(number + 1)
        sm.create_secret(
            Name=name,
            SecretString="v",
            Description=description,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )

    def names(**params: Any) -> list[str]:
        return [s["Name"] for s in sm.list_secrets(**params)["SecretList"]]

    assert names() == ["prod/api", "prod/db", "dev/db"]
    assert names(SortOrder="desc") == ["dev/db", "prod/db", "prod/api"]
    assert names(Filters=[{"Key": "name", "Values": ["prod/"]}]) == ["prod/api", "prod/db"]
    assert names(Filters=[{"Key": "name", "Values": ["!prod/"]}]) == ["dev/db"]
    assert names(Filters=[{"Key": "description", "Values": ["database"]}]) == [
        "prod/db",
        "dev/db",
    ]
    assert names(Filters=[{"Key": "tag-key", "Values": ["team"]}]) == ["prod/db"]
    assert names(Filters=[{"Key": "tag-value", "Values": ["dev"]}]) == ["dev/db"]
    both = [{"Key": "tag-value", "Values": ["prod"]}, {"Key": "description", "Values": ["api"]}]
    assert names(Filters=both) == ["prod/api"]
    assert names(Filters=[{"Key": "all", "Values": ["data"]}]) == ["prod/db", "dev/db"]
    first = sm.list_secrets(MaxResults=2)
    assert len(first["SecretList"]) == 2
    rest = sm.list_secrets(MaxResults=2, NextToken=first["NextToken"])
    assert [s["Name"] for s in rest["SecretList"]] == ["dev/db"]
    assert "NextToken" not in rest
    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": ["dev/db"]}])["SecretList"][0]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    paged = sm.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 1})
    assert [s["Name"] for page in paged for s in page["SecretList"]] == names()


def test_batch_get_secret_value(sm: Any) -> None:
    sm.create_secret(Name="a", SecretString="1")
    sm.create_secret(Name="b", SecretString="2", Tags=[{"Key": "k", "Value": "v"}])
    found = sm.batch_get_secret_value(SecretIdList=["a", "b", "missing"])
    assert [(v["Name"], v["SecretString"]) for v in found["SecretValues"]] == [
        ("a", "1"),
        ("b", "2"),
    ]
    assert [(e["SecretId"], e["ErrorCode"]) for e in found["Errors"]] == [
        ("missing", "ResourceNotFoundException")
    ]
    tagged = sm.batch_get_secret_value(Filters=[{"Key": "tag-key", "Values": ["k"]}])
    assert [v["Name"] for v in tagged["SecretValues"]] == ["b"]
    assert error_of(
        sm.batch_get_secret_value,
        SecretIdList=["a"],
        Filters=[{"Key": "name", "Values": ["a"]}],
    )[0] == ("InvalidParameterException")


def test_tags_policies_and_passwords(sm: Any) -> None:
    sm.create_secret(Name="t", SecretString="v", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId="t", Tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}])
    assert sm.describe_secret(SecretId="t")["Tags"] == [
        {"Key": "a", "Value": "2"},
        {"Key": "b", "Value": "3"},
    ]
    sm.untag_resource(SecretId="t", TagKeys=["a"])
    assert sm.describe_secret(SecretId="t")["Tags"] == [{"Key": "b", "Value": "3"}]
    # a tag without its key is refused and changes nothing (it was a KeyError, a 500)
    assert error_of(sm.tag_resource, SecretId="t", Tags=[{"Value": "v"}])[0] == (
        "ValidationException"
    )
    assert error_of(sm.create_secret, Name="u", SecretString="v", Tags=[{}])[0] == (
        "ValidationException"
    )
    assert sm.describe_secret(SecretId="t")["Tags"] == [{"Key": "b", "Value": "3"}]
    assert error_of(sm.describe_secret, SecretId="u")[0] == "ResourceNotFoundException"
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                       "Resource": "*"}],
    })  # fmt: skip
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="t")
    assert sm.validate_resource_policy(ResourcePolicy=policy)["PolicyValidationPassed"] is True
    sm.put_resource_policy(SecretId="t", ResourcePolicy=policy)
    assert json.loads(sm.get_resource_policy(SecretId="t")["ResourcePolicy"]) == json.loads(policy)
    assert error_of(sm.put_resource_policy, SecretId="t", ResourcePolicy="{")[0] == (
        "MalformedPolicyDocumentException"
    )
    sm.delete_resource_policy(SecretId="t")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="t")

    password = sm.get_random_password()["RandomPassword"]
    assert len(password) == 32
    digits = sm.get_random_password(
        PasswordLength=50, ExcludeLowercase=True, ExcludeUppercase=True, ExcludePunctuation=True
    )["RandomPassword"]
    assert len(digits) == 50 and digits.isdigit()
    chosen = sm.get_random_password(
        PasswordLength=12, ExcludeCharacters="abcdefghijklmnopqrstuvwxyz0123456789",
        ExcludePunctuation=True,
    )["RandomPassword"]  # fmt: skip
    assert chosen.isalpha() and chosen.isupper()
    mixed = sm.get_random_password(PasswordLength=4, ExcludePunctuation=True)["RandomPassword"]
    assert any(c.islower() for c in mixed) and any(c.isupper() for c in mixed)
    assert any(c.isdigit() for c in mixed)
    assert error_of(
        sm.get_random_password,
        ExcludeLowercase=True,
        ExcludeUppercase=True,
        ExcludeNumbers=True,
        ExcludePunctuation=True,
    )[0] == ("InvalidParameterException")


def test_rotation_settings_without_a_function_are_refused(sm: Any) -> None:
    sm.create_secret(Name="r", SecretString="v")
    assert error_of(sm.rotate_secret, SecretId="r")[0] == "InvalidRequestException"
    assert sm.describe_secret(SecretId="r")["RotationEnabled"] is False


# ------------------------------------------------------------------ functions reading secrets

HANDLERS = '''
import json
import boto3


def read(event, context):
    client = boto3.client("secretsmanager")
    secret = json.loads(client.get_secret_value(SecretId=event["secret"])["SecretString"])
    return {"user": secret["user"]}


def rotate(event, context):
    """AWS's rotation template, cut down: a new password made in createSecret."""
    client = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == "createSecret":
        current = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            current["password"] = client.get_random_password(ExcludePunctuation=True)[
                "RandomPassword"
            ]
            client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current),
                VersionStages=["AWSPENDING"],
            )
    elif step == "finishSecret":
        described = client.describe_secret(SecretId=arn)
        current = next(
            v for v, stages in described["VersionIdsToStages"].items() if "AWSCURRENT" in stages
        )
        client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
            RemoveFromVersionId=current,
        )


def broken(event, context):
    if event["Step"] == "createSecret":
        boto3.client("secretsmanager").put_secret_value(
            SecretId=event["SecretId"], ClientRequestToken=event["ClientRequestToken"],
            SecretString="half", VersionStages=["AWSPENDING"],
        )
    if event["Step"] == "testSecret":
        raise RuntimeError("the new password does not work")
'''


@pytest.fixture
def with_functions(tmp_path: Path) -> Iterator[Headwater]:
    """Inline functions whose boto3 calls reach this Headwater."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "secret_app.py").write_text(HANDLERS)
    app = Headwater.in_memory(clock=ManualClock(), functions="inline", endpoint_url=ENDPOINT)
    for name in ("read", "rotate", "broken"):
        app.lambda_.create_function_from_directory(name, code, f"secret_app.{name}", timeout=30)
    try:
        with boto3_in_process(app):
            yield app
    finally:
        app.close()


def test_a_handler_reads_a_secret(with_functions: Headwater) -> None:
    hw = with_functions
    hw.client("secretsmanager").create_secret(
        Name="creds", SecretString=json.dumps({"user": "svc", "password": "pw"})
    )
    result = hw.lambda_.invoke_function("read", {"secret": "creds"})
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"user": "svc"}


def test_rotation_runs_the_four_steps(with_functions: Headwater) -> None:
    hw = with_functions
    sm = hw.client("secretsmanager")
    first = sm.create_secret(Name="db", SecretString=json.dumps({"user": "u", "password": "p"}))
    function_arn = hw.client("lambda").get_function(FunctionName="rotate")["Configuration"][
        "FunctionArn"
    ]
    rotated = sm.rotate_secret(
        SecretId="db", RotationLambdaARN=function_arn, RotationRules={"AutomaticallyAfterDays": 7}
    )
    value = sm.get_secret_value(SecretId="db")
    assert value["VersionId"] == rotated["VersionId"]
    assert json.loads(value["SecretString"])["password"] != "p"
    assert value["VersionStages"] == ["AWSCURRENT"]
    described = sm.describe_secret(SecretId="db")
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == function_arn
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 7
    assert "LastRotatedDate" in described and "NextRotationDate" in described
    assert described["VersionIdsToStages"][first["VersionId"]] == ["AWSPREVIOUS"]
    sm.cancel_rotate_secret(SecretId="db")
    assert sm.describe_secret(SecretId="db")["RotationEnabled"] is False


def test_a_failed_rotation_leaves_awspending_and_blocks_the_next(
    with_functions: Headwater,
) -> None:
    hw = with_functions
    sm = hw.client("secretsmanager")
    sm.create_secret(Name="db", SecretString="old")
    function_arn = hw.client("lambda").get_function(FunctionName="broken")["Configuration"][
        "FunctionArn"
    ]
    sm.rotate_secret(SecretId="db", RotationLambdaARN=function_arn)
    assert sm.get_secret_value(SecretId="db")["SecretString"] == "old"
    assert sm.get_secret_value(SecretId="db", VersionStage="AWSPENDING")["SecretString"] == "half"
    assert error_of(sm.rotate_secret, SecretId="db") == (
        "InvalidRequestException",
        "A previous rotation isn't complete. That rotation will be reattempted.",
    )


def test_store_on_every_backend(db: Database) -> None:
    """The store keeps secrets per account and region, and sweeps by deletion date, on
    memory, SQLite and PostgreSQL alike (the ``hw`` suites reach PostgreSQL only on
    request)."""
    store = SecretStore(db)
    kept = SecretRecord(
        name="a",
        arn="arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf",
        created=1.0,
        last_changed=2.0,
        tags=[{"Key": "k", "Value": "v"}],
        versions=[SecretVersion("v1", 1.0, secret_string="s", stages=["AWSCURRENT"])],
    )
    store.put("1", "us-east-1", kept)
    doomed = SecretRecord(name="b", arn="arn:b", created=1.0, last_changed=1.0, deletion_date=50.0)
    store.put("1", "us-east-1", doomed)
    store.put("2", "us-east-1", SecretRecord(name="a", arn="arn:2", created=1.0, last_changed=1.0))
    assert store.get("1", "us-east-1", "a") == kept
    assert store.get("1", "eu-west-1", "a") is None
    assert [r.name for r in store.all("1", "us-east-1")] == ["a", "b"]
    assert store.purge_deleted(49.0) == 0
    assert store.purge_deleted(50.0) == 1
    assert [r.name for r in store.all("1", "us-east-1")] == ["a"]
    assert store.delete("2", "us-east-1", "a") and not store.delete("2", "us-east-1", "a")
