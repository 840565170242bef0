"""Replay AWS's recorded Lambda answers for versions, aliases, resource policies, tags,
provisioned concurrency and recursion config (tests/data/recorded/lambda-control-plane.json)
with boto3 against a real ``headwater serve``.

Requests are rebuilt from LocalStack's tests (the recordings' source, see NOTICE). In a
recorded FunctionConfiguration, the members of the function's own lifecycle (``State``
while Pending, ``LastUpdateStatus`` while InProgress) belong to the function tests and are
not compared here; everything else is.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import ServerProcess, boto_client, headwater_server

pytestmark = pytest.mark.integration

LAMBDA = recordings("lambda-control-plane")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
REGION = "us-west-2"
ARN = f"arn:aws:lambda:{REGION}:000000000000:function"
#: Members of the function's own lifecycle, compared by the function tests.
LIFECYCLE = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
)

#: What a published version's answer says of the version itself.
VERSION_KEYS = ("FunctionArn", "Version", "Description", "CodeSha256")

ECHO = "def handler(event, context):\n    return event\n"
VERSIONED = """
VERSION = "VERSION_ID"

def handler(event, context):
    return {
        "version_id": VERSION,
        "invoked_arn": context.invoked_function_arn,
        "version_from_ctx": context.function_version,
    }
"""


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
        archive.writestr("handler.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("lambda-control-plane")) as running:
        yield running


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "lambda", REGION)


@pytest.fixture(scope="module")
def unchecked(server: ServerProcess) -> Any:
    """A client without boto3's parameter validation (AWS's own errors come back)."""
    import boto3

    return boto3.client(
        "lambda",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


_names = iter(range(10_000))


def create(lam: Any, source: str = ECHO, **extra: Any) -> str:
    name = f"fn-{next(_names)}"
    params = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "index.handler",
        "Code": {"ZipFile": zip_of(source)},
        **extra,
    }
    lam.create_function(**params)
    return name


def without_lifecycle(value: Any) -> Any:
    value = copy.deepcopy(value)

    def strip(item: Any) -> None:
        if isinstance(item, dict):
            if "FunctionArn" in item and "Handler" in item:
                for key in LIFECYCLE:
                    item.pop(key, None)
            for child in item.values():
                strip(child)
        elif isinstance(item, list):
            for child in item:
                strip(child)

    strip(value)
    return value


def aligned(expected: Any, actual: Any) -> tuple[Any, Any]:
    """The recording and the answer made comparable: the snapshot tool turned JSON text
    (policies, statements) into objects and masked sizes and hashes with placeholders."""
    if isinstance(expected, dict) and isinstance(actual, str) and actual.startswith("{"):
        actual = json.loads(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        pairs = {
            k: aligned(v, actual[k]) if k in actual else (v, None) for k, v in expected.items()
        }
        return {k: e for k, (e, _) in pairs.items()}, {
            **actual,
            **{k: a for k, (_, a) in pairs.items() if k in actual},
        }
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        pairs_list = [aligned(e, a) for e, a in zip(expected, actual, strict=True)]
        return [e for e, _ in pairs_list], [a for _, a in pairs_list]
    if isinstance(expected, str) and isinstance(actual, int | float) and expected.startswith("<"):
        return actual, actual  # "<code-size>"
    if expected == "code-sha256" and isinstance(actual, str):
        return actual, actual
    return expected, actual


def check(expected: Any, actual: Any) -> None:
    expected, actual = aligned(without_lifecycle(expected), actual)
    # headwater's answers carry members newer than the recording (State,
    # LastUpdateStatus, Type, requestId): every recorded member must be there
    assert_like_recording(expected, actual, "us-west-2", extra_keys=True)


def check_keys(expected: dict[str, Any], actual: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Compare only ``keys``: the recording's function was made by a fixture with another
    handler, timeout and environment than this test's."""
    check({k: expected[k] for k in keys}, {k: actual[k] for k in keys if k in actual})


def failure(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response: dict[str, Any] = caught.value.response
    return response


def snapshot(name: str) -> dict[str, Any]:
    return LAMBDA[name]


# ------------------------------------------------------------------------------ versions


def test_publish_version_on_create(lam: Any) -> None:
    recording = snapshot("TestLambdaVersions::test_publish_version_on_create")
    name = create(lam, Publish=True)
    check(recording["get_function_result"], lam.get_function(FunctionName=name))
    check(
        recording["get_function_version_result"], lam.get_function(FunctionName=name, Qualifier="1")
    )
    check(
        recording["get_function_latest_result"],
        lam.get_function(FunctionName=name, Qualifier="$LATEST"),
    )
    check(recording["list_versions_result"], lam.list_versions_by_function(FunctionName=name))
    check(recording["repeated_publish_response"], lam.publish_version(FunctionName=name))
    check(
        recording["list_versions_result_after_publish"],
        lam.list_versions_by_function(FunctionName=name),
    )


def test_version_lifecycle(lam: Any) -> None:
    recording = snapshot("TestLambdaVersions::test_version_lifecycle")
    name = create(lam, Description="No version :(")
    check(recording["get_function_result"], lam.get_function(FunctionName=name))
    check(recording["list_versions_result"], lam.list_versions_by_function(FunctionName=name))
    lam.update_function_configuration(FunctionName=name, Description="First version :)")
    check(recording["first_update_get_function"], lam.get_function(FunctionName=name))
    first = lam.publish_version(FunctionName=name, Description="First version description :)")
    check(recording["first_publish_response"], first)
    check(
        recording["first_publish_get_function"], lam.get_function(FunctionName=name, Qualifier="1")
    )
    check(
        recording["first_publish_get_function_config"],
        lam.get_function_configuration(FunctionName=name, Qualifier="1"),
    )
    lam.update_function_configuration(FunctionName=name, Description="Second version :))")
    check(
        recording["first_publish_get_function_after_update"],
        lam.get_function(FunctionName=name, Qualifier="1"),
    )
    second = lam.publish_version(FunctionName=name)
    check(recording["second_publish_response"], second)
    third = lam.publish_version(FunctionName=name)
    check(recording["third_publish_response"], third)
    assert third["RevisionId"] == second["RevisionId"]
    check(
        recording["list_versions_result_after_third_publish"],
        lam.list_versions_by_function(FunctionName=name),
    )
    lam.delete_function(FunctionName=name, Qualifier="1")
    check(
        recording["list_versions_result_after_deletion_of_first_version"],
        lam.list_versions_by_function(FunctionName=name),
    )


def test_publish_with_wrong_sha256_and_with_update(lam: Any) -> None:
    recording = snapshot("TestLambdaVersions::test_publish_with_wrong_sha256")
    name = create(lam)
    check(recording["get_fn_response"], lam.get_function(FunctionName=name))
    check(
        recording["publish_wrong_sha256_exc"],
        failure(lam.publish_version, FunctionName=name, CodeSha256="somenonexistentsha256"),
    )
    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    check(recording["publish_result"], lam.publish_version(FunctionName=name, CodeSha256=sha))
    recording = snapshot("TestLambdaVersions::test_publish_with_update")
    name = create(lam)
    updated = lam.update_function_code(FunctionName=name, ZipFile=zip_of(VERSIONED), Publish=True)
    check(recording["update_function_code_result"], updated)
    check(
        recording["get_function_version_result"], lam.get_function(FunctionName=name, Qualifier="1")
    )
    check(
        recording["get_function_latest_result"],
        lam.get_function(FunctionName=name, Qualifier="$LATEST"),
    )


def test_qualifier_errors(lam: Any, unchecked: Any) -> None:
    for operation in ("get_function", "get_function_configuration", "delete_function"):
        recording = snapshot(
            f"TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[{operation}]"
        )
        name = "some-function" if operation != "delete_function" else create(lam)
        call = getattr(unchecked, operation)
        check(
            recording["not_match_exception"],
            failure(call, FunctionName=f"{ARN}:{name}:1", Qualifier="$LATEST"),
        )
        check(
            recording["match_exception"],
            failure(call, FunctionName=f"{ARN}:{name}:$LATEST", Qualifier="$LATEST"),
        )
    name = create(lam)
    for operation in ("get_function", "get_function_configuration"):
        recording = snapshot(f"TestLambdaFunction::test_ops_on_nonexisting_version[{operation}]")
        check(
            recording["version_not_found_exception"],
            failure(getattr(lam, operation), FunctionName=name, Qualifier="1221"),
        )
    recording = snapshot("TestLambdaFunction::test_delete_on_nonexisting_version")
    check(
        recording["delete_function_response_non_existent"],
        failure(lam.delete_function, FunctionName="does-not-exist"),
    )
    check(
        recording["delete_function_response_non_existent_with_qualifier"],
        failure(lam.delete_function, FunctionName="does-not-exist", Qualifier="1"),
    )


# ------------------------------------------------------------------------------ aliases


def two_versions(lam: Any, **extra: Any) -> str:
    name = create(lam, Environment={"Variables": {"testenv": "staging"}}, **extra)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"testenv": "prod"}}
    )
    lam.publish_version(FunctionName=name)
    return name


def test_alias_lifecycle(lam: Any) -> None:
    recording = snapshot("TestLambdaAlias::test_alias_lifecycle")
    name = two_versions(lam)
    created = lam.create_alias(
        FunctionName=name,
        Name="aliasname1_1",
        FunctionVersion="1",
        Description="custom-alias",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )
    check(recording["create_alias_1_1"], created)
    check(recording["get_alias_1_1"], lam.get_alias(FunctionName=name, Name="aliasname1_1"))
    check(
        recording["get_function_alias_1_1"],
        lam.get_function(FunctionName=name, Qualifier="aliasname1_1"),
    )
    check(
        recording["get_function_byarn_alias_1_1"],
        lam.get_function(FunctionName=created["AliasArn"]),
    )
    check(
        recording["get_function_alias_notfound_exc"],
        failure(lam.get_function, FunctionName=name, Qualifier="aliasdoesnotexist"),
    )
    check(
        recording["get_function_alias_byarn_notfound_exc"],
        failure(lam.get_function, FunctionName=f"{ARN}:{name}:aliasdoesnotexist"),
    )
    for key, alias, version, description in (
        ("1_2", "aliasname1_2", "1", "custom-alias"),
        ("1_3", "aliasname1_3", "1", None),
        ("2", "aliasname2", "2", "custom-alias"),
    ):
        params = {"FunctionName": name, "Name": alias, "FunctionVersion": version}
        if description:
            params["Description"] = description
        check(recording[f"create_alias_{key}"], lam.create_alias(**params))
        check(recording[f"get_alias_{key}"], lam.get_alias(FunctionName=name, Name=alias))
    pages = lam.get_paginator("list_aliases").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 1}
    )
    check(recording["list_aliases_for_fnname"], pages.build_full_result())
    updated = lam.update_alias(
        FunctionName=name, Name="aliasname1_1", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    check(recording["update_alias_1_1"], updated)
    check(
        recording["get_alias_1_1_after_update"],
        lam.get_alias(FunctionName=name, Name="aliasname1_1"),
    )
    check(recording["list_aliases_for_fnname_after_update"], lam.list_aliases(FunctionName=name))
    check(recording["update_alias_1_2"], lam.update_alias(FunctionName=name, Name="aliasname1_2"))
    check(
        recording["list_aliases_for_version"],
        lam.list_aliases(FunctionName=name, FunctionVersion="1"),
    )
    check(
        recording["delete_alias_response"],
        lam.delete_alias(FunctionName=name, Name="aliasname1_1"),
    )
    check(recording["list_aliases_for_fnname_afterdelete"], lam.list_aliases(FunctionName=name))


def test_invalid_routing_configs(lam: Any, unchecked: Any) -> None:
    recording = snapshot("TestLambdaAlias::test_notfound_and_invalid_routingconfigs")
    name = two_versions(lam)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("routing_config_exc_toomany", {"FunctionVersion": "1", "Weights": {"1": 0.8, "2": 0.2}}),
        ("routing_config_exc_toohigh", {"FunctionVersion": "1", "Weights": {"2": 2}}),
        ("routing_config_exc_subzero", {"FunctionVersion": "1", "Weights": {"2": -1}}),
        ("routing_config_exc_sameversion", {"FunctionVersion": "1", "Weights": {"1": 0.5}}),
        ("target_version_doesnotexist", {"FunctionVersion": "10", "Weights": {"2": 0.5}}),
        (
            "routing_config_exc_version_doesnotexist",
            {"FunctionVersion": "1", "Weights": {"10": 0.5}},
        ),
        (
            "target_version_exc_version_latest",
            {"FunctionVersion": "$LATEST", "Weights": {"1": 0.5}},
        ),
        (
            "routing_config_exc_version_latest",
            {"FunctionVersion": "1", "Weights": {"$LATEST": 0.5}},
        ),
    ]
    for key, case in cases:
        response = failure(
            unchecked.create_alias,
            FunctionName=name,
            Name="custom",
            FunctionVersion=case["FunctionVersion"],
            RoutingConfig={"AdditionalVersionWeights": case["Weights"]},
        )
        check(recording[key], response)
    check(
        recording["create-alias-latest"],
        lam.create_alias(FunctionName=name, Name="custom-latest", FunctionVersion="$LATEST"),
    )
    check(
        recording["routing_config_exc_fn_doesnotexist"],
        failure(
            unchecked.create_alias,
            FunctionName=f"{name}-unknown",
            Name="custom",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
        ),
    )
    check(
        recording["create_alias_empty_routingconfig"],
        lam.create_alias(
            FunctionName=name,
            Name="custom-empty-routingconfig",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {}},
        ),
    )
    params = {
        "FunctionName": name,
        "Name": "custom",
        "FunctionVersion": "1",
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
    }
    check(recording["create_alias_response"], lam.create_alias(**params))
    check(recording["routing_config_exc_already_exist"], failure(lam.create_alias, **params))
    check(
        recording["alias_does_not_exist_esc"],
        failure(lam.get_alias, FunctionName=name, Name="non-existent"),
    )


def test_alias_naming_and_missing_aliases(lam: Any, unchecked: Any) -> None:
    recording = snapshot("TestLambdaAlias::test_alias_naming")
    name = create(lam, Environment={"Variables": {"testenv": "staging"}})
    check_keys(recording["publish_v1"], lam.publish_version(FunctionName=name), VERSION_KEYS)
    created = lam.create_alias(
        FunctionName=name, Name="2024-01-02", FunctionVersion="1", Description="custom-alias"
    )
    check(recording["create_alias_date"], created)
    check(recording["get_alias_date"], lam.get_alias(FunctionName=name, Name="2024-01-02"))
    check(
        recording["create_alias_number_exception"],
        failure(unchecked.create_alias, FunctionName=name, Name="2024", FunctionVersion="1"),
    )
    deletion = snapshot("TestLambdaAlias::test_non_existent_alias_deletion")
    check(
        deletion["delete_alias_response"],
        lam.delete_alias(FunctionName=name, Name="non-existent"),
    )
    update = snapshot("TestLambdaAlias::test_non_existent_alias_update")
    check(
        update["update_alias_response"],
        failure(lam.update_alias, FunctionName=name, Name="non-existent", Description="x"),
    )


def test_revisions_of_versions_and_aliases(lam: Any) -> None:
    recording = snapshot("TestLambdaRevisions::test_function_revisions_version_and_alias")
    name = create(lam)
    latest = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    check(
        recording["publish_version_revision_exception"],
        failure(lam.publish_version, FunctionName=name, RevisionId="wrong"),
    )
    published = lam.publish_version(FunctionName=name, RevisionId=latest)
    check_keys(recording["publish_version_response_rev_v1"], published, VERSION_KEYS)
    version = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert version["RevisionId"] == published["RevisionId"]
    latest_after = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert latest_after != latest  # publishing gives $LATEST a new revision
    alias = lam.create_alias(FunctionName=name, Name="revision_alias", FunctionVersion="1")
    check(recording["create_alias_response_rev_a1"], alias)
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == latest_after
    check(
        recording["update_alias_revision_exception"],
        failure(lam.update_alias, FunctionName=name, Name="revision_alias", RevisionId="wrong"),
    )
    updated = lam.update_alias(
        FunctionName=name,
        Name="revision_alias",
        Description="something changed",
        RevisionId=alias["RevisionId"],
    )
    check(recording["update_alias_response_rev_a2"], updated)
    assert updated["RevisionId"] != alias["RevisionId"]


# ------------------------------------------------------------------------------ invocations


def test_invocations_follow_versions_and_aliases(lam: Any) -> None:
    recording = snapshot("TestLambdaVersions::test_lambda_versions_with_code_changes")

    def invoke(**params: Any) -> dict[str, Any]:
        response = lam.invoke(**params)
        response["Payload"] = json.loads(response["Payload"].read())
        return response

    name = create(
        lam,
        VERSIONED.replace("VERSION_ID", "version1"),
        Description="No version :(",
        Handler="handler.handler",
    )
    check(
        recording["first_publish_response"],
        lam.publish_version(FunctionName=name, Description="First version description :)"),
    )
    lam.update_function_code(
        FunctionName=name, ZipFile=zip_of(VERSIONED.replace("VERSION_ID", "version2"))
    )
    check(recording["invocation_result_latest"], invoke(FunctionName=name))
    check(recording["invocation_result_v1"], invoke(FunctionName=name, Qualifier="1"))
    check(
        recording["second_publish_response"],
        lam.publish_version(FunctionName=name, Description="Second version description :)"),
    )
    check(recording["invocation_result_v2"], invoke(FunctionName=name, Qualifier="2"))
    updated = lam.update_function_code(
        FunctionName=name, ZipFile=zip_of(VERSIONED.replace("VERSION_ID", "version3")), Publish=True
    )
    check(recording["update_lambda_response_with_publish"], updated)
    check(recording["invocation_result_v3"], invoke(FunctionName=name, Qualifier="3"))
    check(recording["invocation_result_latest_end"], invoke(FunctionName=name))
    check(recording["invocation_result_v2_end"], invoke(FunctionName=name, Qualifier="2"))
    check(recording["invocation_result_v1_end"], invoke(FunctionName=name, Qualifier="1"))

    moving = snapshot("TestLambdaAliases::test_lambda_alias_moving")
    name = create(
        lam,
        VERSIONED.replace("VERSION_ID", "version1"),
        Description="No version :(",
        Handler="handler.handler",
    )
    lam.publish_version(FunctionName=name, Description="First version description :)")
    check(
        moving["create_alias_response"],
        lam.create_alias(FunctionName=name, Name="alias1", FunctionVersion="1"),
    )
    check(moving["invocation_result_qualifier_v1"], invoke(FunctionName=name, Qualifier="alias1"))
    check(moving["invocation_result_qualifier_v1_arn"], invoke(FunctionName=f"{ARN}:{name}:alias1"))
    lam.update_function_code(
        FunctionName=name, ZipFile=zip_of(VERSIONED.replace("VERSION_ID", "version2"))
    )
    check(
        moving["invocation_result_qualifier_v1_after_update"],
        invoke(FunctionName=name, Qualifier="alias1"),
    )
    lam.publish_version(FunctionName=name, Description="Second version description :)")
    check(
        moving["invocation_result_qualifier_v1_after_publish"],
        invoke(FunctionName=name, Qualifier="alias1"),
    )
    check(
        moving["update_alias_response"],
        lam.update_alias(FunctionName=name, Name="alias1", FunctionVersion="2"),
    )
    check(moving["invocation_result_qualifier_v2"], invoke(FunctionName=name, Qualifier="alias1"))
    check(
        moving["invocation_exc_not_existent"],
        failure(lam.invoke, FunctionName=name, Qualifier="non-existent-alias"),
    )


# ------------------------------------------------------------------------------ permissions


def test_permission_statements(lam: Any) -> None:
    recording = snapshot("TestLambdaPermissions::test_add_lambda_permission_fields")
    name = create(lam)
    common = {"FunctionName": name, "Action": "lambda:InvokeFunction"}
    account = "000000000000"
    check(
        recording["add_permission_principal_wildcard"],
        lam.add_permission(**common, StatementId="wilcard", Principal="*", SourceAccount=account),
    )
    check(
        recording["add_permission_principal_service"],
        lam.add_permission(
            **common, StatementId="lambda", Principal="lambda.amazonaws.com", SourceAccount=account
        ),
    )
    check(
        recording["add_permission_principal_account"],
        lam.add_permission(**common, StatementId="account-id", Principal=account),
    )
    check(
        recording["add_permission_principal_arn"],
        lam.add_permission(
            **common,
            StatementId="user-arn",
            Principal=f"arn:aws:iam::{account}:user/someone",
            SourceAccount=account,
        ),
    )
    check(
        recording["add_permission_optional_fields"],
        lam.add_permission(
            FunctionName=name,
            StatementId="urlPermission",
            Action="lambda:InvokeFunctionUrl",
            Principal="*",
            SourceArn="arn:aws:s3:::test-bucket",
            SourceAccount=account,
            PrincipalOrgID="o-1234567890",
            FunctionUrlAuthType="NONE",
        ),
    )
    check(
        recording["add_permission_alexa_skill"],
        lam.add_permission(
            **common,
            StatementId="alexaSkill",
            Principal="*",
            EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        ),
    )


def test_permissions_lifecycle(lam: Any) -> None:
    recording = snapshot("TestLambdaPermissions::test_remove_multi_permissions")
    name = create(lam)
    common = {"FunctionName": name, "Action": "lambda:InvokeFunction"}
    check(
        recording["add_permission_1"],
        lam.add_permission(**common, StatementId="s3", Principal="s3.amazonaws.com"),
    )
    check(
        recording["add_permission_2"],
        lam.add_permission(
            **common,
            StatementId="sqs",
            Principal="sqs.amazonaws.com",
            SourceArn="arn:aws:s3:::test-bucket",
        ),
    )
    check(recording["policy_after_2_add"], lam.get_policy(FunctionName=name))
    check(
        recording["remove_permission_exception_nonexisting_sid"],
        failure(lam.remove_permission, FunctionName=name, StatementId="non-existent"),
    )
    lam.remove_permission(FunctionName=name, StatementId="sqs")
    after = lam.get_policy(FunctionName=name)
    check(recording["policy_after_removal"], after)
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=after["RevisionId"])
    check(
        recording["get_policy_exception_removed_all"],
        failure(lam.get_policy, FunctionName=name),
    )
    multiple = snapshot("TestLambdaPermissions::test_create_multiple_lambda_permissions")
    name = create(lam)
    common = {"FunctionName": name, "Action": "lambda:InvokeFunction"}
    check(
        multiple["add_permission_response_1"],
        lam.add_permission(**common, StatementId="logs", Principal="logs.amazonaws.com"),
    )
    check(
        multiple["add_permission_response_2"],
        lam.add_permission(**common, StatementId="kinesis", Principal="kinesis.amazonaws.com"),
    )
    check(multiple["policy_after_2_add"], lam.get_policy(FunctionName=name))


def test_permission_revisions(lam: Any) -> None:
    recording = snapshot("TestLambdaRevisions::test_function_revisions_permissions")
    name = create(lam)
    revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    params = {
        "FunctionName": name,
        "StatementId": "s3",
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
    }
    check(
        recording["add_permission_revision_exception"],
        failure(lam.add_permission, **params, RevisionId="wrong"),
    )
    lam.add_permission(**params, RevisionId=revision)
    policy_revision = lam.get_policy(FunctionName=name)["RevisionId"]
    # the function's revision is the policy's
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == policy_revision
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=policy_revision)
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] != policy_revision


def test_permission_errors(lam: Any, unchecked: Any) -> None:
    recording = snapshot("TestLambdaPermissions::test_permission_exceptions")
    name = create(lam)
    common = {"Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}
    cases: list[tuple[str, Any, dict[str, Any]]] = [
        (
            "add_permission_invalid_statement_id",
            unchecked.add_permission,
            {"FunctionName": name, "StatementId": "example.com", **common},
        ),
        (
            "add_permission_fn_qualifier_mismatch",
            lam.add_permission,
            {
                "FunctionName": f"{name}:alias-not-42",
                "Qualifier": "42",
                "StatementId": "s3",
                **common,
            },
        ),
        (
            "add_permission_fn_qualifier_latest",
            lam.add_permission,
            {"FunctionName": name, "Qualifier": "$LATEST", "StatementId": "s3", **common},
        ),
        (
            "add_permission_principal_invalid",
            lam.add_permission,
            {
                "FunctionName": name,
                "StatementId": "s3",
                "Action": "lambda:InvokeFunction",
                "Principal": "invalid.nonaws.com",
            },
        ),
        ("get_policy_fn_doesnotexist", lam.get_policy, {"FunctionName": "doesnotexist"}),
        (
            "get_policy_fn_version_doesnotexist",
            lam.get_policy,
            {"FunctionName": name, "Qualifier": "42"},
        ),
        (
            "add_permission_fn_doesnotexist",
            lam.add_permission,
            {"FunctionName": "doesnotexist", "StatementId": "s3", **common},
        ),
        (
            "remove_permission_policy_doesnotexist",
            lam.remove_permission,
            {"FunctionName": name, "StatementId": "s3"},
        ),
        (
            "add_permission_fn_alias_doesnotexist",
            lam.add_permission,
            {
                "FunctionName": name,
                "Qualifier": "alias-doesnotexist",
                "StatementId": "s3",
                **common,
            },
        ),
        (
            "add_permission_fn_version_doesnotexist",
            lam.add_permission,
            {"FunctionName": name, "Qualifier": "42", "StatementId": "s3", **common},
        ),
        (
            "add_permission_fn_qualifier_invalid",
            unchecked.add_permission,
            {
                "FunctionName": name,
                "Qualifier": "invalid-qualifier-with-?-char",
                "StatementId": "s3",
                **common,
            },
        ),
        (
            "add_permission_fn_qualifier_valid_doesnotexist",
            lam.add_permission,
            {
                "FunctionName": name,
                "Qualifier": "valid-with-$-but-doesnotexist",
                "StatementId": "s3",
                **common,
            },
        ),
    ]
    for key, call, params in cases:
        check(recording[key], failure(call, **params))
    lam.add_permission(FunctionName=name, StatementId="s3", **common)
    check(
        recording["add_permission_conflicting_statement_id"],
        failure(lam.add_permission, FunctionName=name, StatementId="s3", **common),
    )
    check(
        recording["remove_permission_fn_doesnotexist"],
        failure(lam.remove_permission, FunctionName="doesnotexist", StatementId="s3"),
    )
    check(
        recording["remove_permission_fn_alias_doesnotexist"],
        failure(
            lam.remove_permission,
            FunctionName=name,
            Qualifier="alias-doesnotexist",
            StatementId="s3",
        ),
    )


def test_permissions_of_versions_and_aliases(lam: Any) -> None:
    recording = snapshot("TestLambdaPermissions::test_lambda_permission_fn_versioning")
    name = create(lam)
    params = {
        "StatementId": "s3",
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        "SourceArn": "arn:aws:s3:::bucket",
    }
    lam.add_permission(FunctionName=name, **params)
    check(recording["get_policy"], lam.get_policy(FunctionName=name))
    check_keys(
        recording["publish_version_result"], lam.publish_version(FunctionName=name), VERSION_KEYS
    )
    check(recording["get_policy_after_publishing_latest"], lam.get_policy(FunctionName=name))
    check(
        recording["get_policy_after_publishing_new_version"],
        failure(lam.get_policy, FunctionName=name, Qualifier="1"),
    )
    lam.add_permission(FunctionName=name, Qualifier="1", **params)
    check(recording["get_policy_version"], lam.get_policy(FunctionName=name, Qualifier="1"))
    alias = lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion="1")
    check(recording["create_alias_response"], alias)
    check(
        recording["add_permission_alias_revision_exception"],
        failure(
            lam.add_permission,
            FunctionName=name,
            Qualifier="permission-alias",
            RevisionId="wrong",
            **params,
        ),
    )
    lam.add_permission(FunctionName=name, Qualifier="permission-alias", **params)
    check(
        recording["get_policy_alias"],
        lam.get_policy(FunctionName=name, Qualifier="permission-alias"),
    )
    lam.add_permission(FunctionName=name, **{**params, "StatementId": "s3_2"})
    check(recording["get_policy_after_adding_2"], lam.get_policy(FunctionName=name))


# ------------------------------------------------------------------------------ tags


def test_tag_lifecycle_of_functions_and_mappings(lam: Any, server: ServerProcess) -> None:
    function_arn = f"{ARN}:{create(lam)}"
    sqs = boto_client(server.endpoint, "sqs", REGION)
    url = sqs.create_queue(QueueName="tagged-mapping-source")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping_arn = lam.create_event_source_mapping(
        FunctionName=function_arn, EventSourceArn=queue_arn, Enabled=False
    )["EventSourceMappingArn"]
    for kind, arn in (("lambda_function", function_arn), ("event_source_mapping", mapping_arn)):
        recording = snapshot(f"TestLambdaTag::test_tag_lifecycle[{kind}]")
        steps: list[tuple[str, Any, dict[str, Any]]] = [
            ("tag_single_response", lam.tag_resource, {"Tags": {"A": "tag-a"}}),
            ("tag_multiple_response", lam.tag_resource, {"Tags": {"B": "tag-b", "C": "tag-c"}}),
            (
                "tag_overlap_response",
                lam.tag_resource,
                {"Tags": {"C": "tag-c-newsuffix", "D": "tag-d"}},
            ),
            ("untag_single_response", lam.untag_resource, {"TagKeys": ["A"]}),
            ("untag_multiple_response", lam.untag_resource, {"TagKeys": ["B", "C"]}),
            ("untag_nonexisting_response", lam.untag_resource, {"TagKeys": ["F"]}),
            (
                "untag_existing_and_nonexisting_response",
                lam.untag_resource,
                {"TagKeys": ["D", "F"]},
            ),
        ]
        for key, call, params in steps:
            check(recording[key], call(Resource=arn, **params))
            check(recording[f"{key}_listtags"], lam.list_tags(Resource=arn))


def test_tag_errors(lam: Any, unchecked: Any) -> None:
    recording = snapshot("TestLambdaTags::test_tag_exceptions")
    name = create(lam)
    arn = f"{ARN}:{name}"
    check(
        recording["tag_lambda_invalidarn"],
        failure(unchecked.tag_resource, Resource="arn:aws:something", Tags={"a": "b"}),
    )
    check(
        recording["tag_lambda_doesnotexist"],
        failure(lam.tag_resource, Resource=f"{ARN}:doesnotexist", Tags={"a": "b"}),
    )
    check(
        recording["tag_lambda_qualifier_doesnotexist"],
        failure(lam.tag_resource, Resource=f"{arn}:alias", Tags={"a": "b"}),
    )
    check(recording["list_tag_lambda_empty"], lam.list_tags(Resource=arn))
    check(recording["untag_nomatch"], lam.untag_resource(Resource=arn, TagKeys=["somekey"]))
    check(recording["untag_empty_keys"], failure(unchecked.untag_resource, Resource=arn))
    check(recording["tag_empty_tags"], failure(lam.tag_resource, Resource=arn, Tags={}))
    limits = snapshot("TestLambdaTags::test_tag_limits")
    many = {f"{n}_key": f"{n}_value" for n in range(51)}
    check(limits["tag_lambda_too_many_tags"], failure(lam.tag_resource, Resource=arn, Tags=many))
    fifty = {f"{n}_key": f"{n}_value" for n in range(50)}
    check(limits["tag_response"], lam.tag_resource(Resource=arn, Tags=fifty))
    check(limits["list_tags_response"], lam.list_tags(Resource=arn))
    check(
        limits["tag_lambda_too_many_tags_additional"],
        failure(lam.tag_resource, Resource=arn, Tags={"a_key": "a_value"}),
    )
    check(
        limits["create_function_invalid_tags"],
        failure(
            lam.create_function,
            FunctionName="too-many-tags",
            Runtime="python3.12",
            Role=ROLE,
            Handler="index.handler",
            Code={"ZipFile": zip_of(ECHO)},
            Tags=many,
        ),
    )
    versions = snapshot("TestLambdaTags::test_tag_versions")
    lam.publish_version(FunctionName=name)
    check(
        versions["tag_resource_exception"],
        failure(lam.tag_resource, Resource=f"{arn}:1", Tags={"a": "b"}),
    )
    check(
        versions["tag_resource_latest_exception"],
        failure(lam.tag_resource, Resource=f"{arn}:$LATEST", Tags={"a": "b"}),
    )


# ------------------------------------------------------------------------------ settings


def test_provisioned_concurrency(lam: Any, unchecked: Any) -> None:
    recording = snapshot(
        "TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions"
    )
    name = create(lam)
    check_keys(
        recording["publish_version_result"], lam.publish_version(FunctionName=name), VERSION_KEYS
    )
    for key, call, params in [
        (
            "get_provisioned_config_doesnotexist",
            lam.get_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "1"},
        ),
        (
            "get_provisioned_functionname_doesnotexist",
            lam.get_provisioned_concurrency_config,
            {"FunctionName": "doesnotexist", "Qualifier": "noalias"},
        ),
        (
            "get_provisioned_qualifier_doesnotexist",
            lam.get_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "noalias"},
        ),
        (
            "get_provisioned_version_doesnotexist",
            lam.get_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "10"},
        ),
        (
            "get_provisioned_latest",
            lam.get_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "$LATEST"},
        ),
        (
            "list_provisioned_functionname_doesnotexist",
            lam.list_provisioned_concurrency_configs,
            {"FunctionName": "doesnotexist"},
        ),
        (
            "delete_provisioned_functionname_doesnotexist",
            lam.delete_provisioned_concurrency_config,
            {"FunctionName": "doesnotexist", "Qualifier": "1"},
        ),
        (
            "delete_provisioned_qualifier_doesnotexist",
            lam.delete_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "noalias"},
        ),
        (
            "delete_provisioned_version_doesnotexist",
            lam.delete_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "10"},
        ),
        (
            "delete_provisioned_latest",
            lam.delete_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "$LATEST"},
        ),
        (
            "put_provisioned_invalid_param_0",
            unchecked.put_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "1", "ProvisionedConcurrentExecutions": 0},
        ),
        (
            "put_provisioned_functionname_doesnotexist_alias",
            lam.put_provisioned_concurrency_config,
            {
                "FunctionName": "doesnotexist",
                "Qualifier": "noalias",
                "ProvisionedConcurrentExecutions": 1,
            },
        ),
        (
            "put_provisioned_functionname_doesnotexist_version",
            lam.put_provisioned_concurrency_config,
            {
                "FunctionName": "doesnotexist",
                "Qualifier": "1",
                "ProvisionedConcurrentExecutions": 1,
            },
        ),
        (
            "put_provisioned_qualifier_doesnotexist",
            lam.put_provisioned_concurrency_config,
            {
                "FunctionName": name,
                "Qualifier": "doesnotexist",
                "ProvisionedConcurrentExecutions": 1,
            },
        ),
        (
            "put_provisioned_version_doesnotexist",
            lam.put_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "10", "ProvisionedConcurrentExecutions": 1},
        ),
        (
            "put_provisioned_latest",
            lam.put_provisioned_concurrency_config,
            {"FunctionName": name, "Qualifier": "$LATEST", "ProvisionedConcurrentExecutions": 1},
        ),
    ]:
        check(recording[key], failure(call, **params))
    check(
        recording["list_provisioned_noconfigs"],
        lam.list_provisioned_concurrency_configs(FunctionName=name),
    )
    check(
        recording["delete_provisioned_config_doesnotexist"],
        lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
    )
    lifecycle = snapshot("TestLambdaProvisionedConcurrency::test_lambda_provisioned_lifecycle")
    name = create(lam)
    lam.publish_version(FunctionName=name)
    alias = lam.create_alias(FunctionName=name, Name="pc-alias", FunctionVersion="1")
    check(lifecycle["create_alias_result"], alias)
    put = {"FunctionName": name, "ProvisionedConcurrentExecutions": 1}
    check(
        lifecycle["put_provisioned_on_version"],
        lam.put_provisioned_concurrency_config(Qualifier="1", **put),
    )
    check(
        lifecycle["put_provisioned_on_alias_versionconflict"],
        failure(lam.put_provisioned_concurrency_config, Qualifier="pc-alias", **put),
    )
    check(
        lifecycle["delete_provisioned_version"],
        lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
    )
    check(
        lifecycle["get_provisioned_version_postdelete"],
        failure(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="1"),
    )
    check(
        lifecycle["put_provisioned_on_alias"],
        lam.put_provisioned_concurrency_config(Qualifier="pc-alias", **put),
    )
    check(
        lifecycle["put_provisioned_on_version_conflict"],
        failure(lam.put_provisioned_concurrency_config, Qualifier="1", **put),
    )
    check(lifecycle["delete_alias_result"], lam.delete_alias(FunctionName=name, Name="pc-alias"))
    check(
        lifecycle["get_provisioned_alias_postaliasdelete"],
        failure(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="pc-alias"),
    )
    check(
        lifecycle["list_response_postdeletes"],
        lam.list_provisioned_concurrency_configs(FunctionName=name),
    )


def test_recursion_config(lam: Any, unchecked: Any) -> None:
    name = create(lam)
    check(
        snapshot("TestLambdaRecursion::test_put_function_recursion_config_default_terminate")[
            "get_recursion_default_terminate_response"
        ],
        lam.get_function_recursion_config(FunctionName=name),
    )
    allow = snapshot("TestLambdaRecursion::test_put_function_recursion_config_allow")
    check(
        allow["put_recursion_config_response"],
        lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow"),
    )
    check(
        allow["get_recursion_config_response"], lam.get_function_recursion_config(FunctionName=name)
    )
    check(
        snapshot("TestLambdaRecursion::test_put_function_recursion_config_invalid_value")[
            "put_recursion_invalid_value_error"
        ],
        failure(
            unchecked.put_function_recursion_config, FunctionName=name, RecursiveLoop="InvalidValue"
        ),
    )
