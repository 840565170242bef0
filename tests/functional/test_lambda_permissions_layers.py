"""Resource policies, layers and the stored settings (provisioned concurrency, runtime
management, recursion, code signing, function URLs, tracing, dead-letter target...)."""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"
LAYER = "arn:aws:lambda:us-east-1:000000000000:layer"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


FUNCTION_ZIP = zip_of({"app.py": "def handler(event, context):\n    return 1\n"})


@pytest.fixture
def fn(hw: Headwater) -> str:
    hw.lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": FUNCTION_ZIP},
    )
    return "f"


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"]}


def test_permissions_build_aws_statements(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    added = lam.add_permission(
        FunctionName=fn,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount="000000000000",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{ARN}:f",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "000000000000"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }
    lam.add_permission(
        FunctionName=fn, StatementId="acct", Action="lambda:*", Principal="111122223333"
    )
    policy = lam.get_policy(FunctionName=fn)
    statements = json.loads(policy["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["s3", "acct"]
    assert statements[1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert (
        error_of(
            lam.add_permission,
            FunctionName=fn,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="*",
        )["Code"]
        == "ResourceConflictException"
    )
    assert (
        error_of(
            lam.add_permission,
            FunctionName=fn,
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="*",
            RevisionId="stale",
        )["Code"]
        == "PreconditionFailedException"
    )
    lam.remove_permission(FunctionName=fn, StatementId="s3")
    assert error_of(lam.remove_permission, FunctionName=fn, StatementId="s3") == {
        "Code": "ResourceNotFoundException",
        "Message": "Statement s3 is not found in resource policy.",
    }
    lam.remove_permission(FunctionName=fn, StatementId="acct")
    assert error_of(lam.get_policy, FunctionName=fn)["Message"] == (
        "The resource you requested does not exist."
    )


def test_permissions_on_versions_and_aliases(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    for qualifier in ("1", "live"):
        lam.add_permission(
            FunctionName=fn,
            Qualifier=qualifier,
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
        )
        statement = json.loads(lam.get_policy(FunctionName=fn, Qualifier=qualifier)["Policy"])
        assert statement["Statement"][0]["Resource"] == f"{ARN}:f:{qualifier}"
    assert error_of(lam.get_policy, FunctionName=fn)["Code"] == "ResourceNotFoundException"
    assert (
        error_of(
            lam.add_permission,
            FunctionName=fn,
            Qualifier="$LATEST",
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="*",
        )["Message"]
        == "We currently do not support adding policies for $LATEST."
    )
    assert (
        error_of(
            lam.add_permission,
            FunctionName=fn,
            Qualifier="nope",
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="*",
        )["Message"]
        == f"Cannot find alias arn: {ARN}:f:nope"
    )
    assert (
        error_of(
            lam.add_permission,
            FunctionName=fn,
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="not a principal",
        )["Message"]
        == "The provided principal was invalid. Please check the principal and try again."
    )


def test_layers_are_published_and_referenced(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    content = zip_of({"python/helpers.py": "VALUE = 42\n"})
    first = lam.publish_layer_version(
        LayerName="helpers", Content={"ZipFile": content}, CompatibleRuntimes=["python3.12"]
    )
    assert (first["Version"], first["LayerVersionArn"]) == (1, f"{LAYER}:helpers:1")
    assert first["Content"]["CodeSize"] == len(content)
    second = lam.publish_layer_version(LayerName="helpers", Content={"ZipFile": content})
    assert second["Version"] == 2
    assert lam.get_layer_version(LayerName="helpers", VersionNumber=1)["Version"] == 1
    assert lam.get_layer_version_by_arn(Arn=f"{LAYER}:helpers:2")["Version"] == 2
    versions = lam.list_layer_versions(LayerName="helpers")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    layers = lam.list_layers()["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [
        ("helpers", 2)
    ]
    config = lam.update_function_configuration(FunctionName=fn, Layers=[f"{LAYER}:helpers:1"])
    assert config["Layers"] == [{"Arn": f"{LAYER}:helpers:1", "CodeSize": len(content)}]
    assert (
        error_of(lam.update_function_configuration, FunctionName=fn, Layers=[f"{LAYER}:helpers:9"])[
            "Message"
        ]
        == f"Layer version {LAYER}:helpers:9 does not exist."
    )
    lam.delete_layer_version(LayerName="helpers", VersionNumber=1)
    assert error_of(lam.get_layer_version, LayerName="helpers", VersionNumber=1)["Code"] == (
        "ResourceNotFoundException"
    )
    # a function keeps the layer version it references
    assert lam.get_function(FunctionName=fn)["Configuration"]["Layers"][0]["Arn"].endswith(":1")
    lam.update_function_configuration(FunctionName=fn, Layers=[])
    assert "Layers" not in lam.get_function_configuration(FunctionName=fn)


def test_provisioned_concurrency_is_stored(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(
        FunctionName=fn, Qualifier="live", ProvisionedConcurrentExecutions=3
    )
    assert (put["Status"], put["RequestedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 3)
    got = lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    assert (got["Status"], got["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 3)
    assert (
        error_of(
            lam.put_provisioned_concurrency_config,
            FunctionName=fn,
            Qualifier="1",
            ProvisionedConcurrentExecutions=1,
        )["Message"]
        == "Version is pointed by a Provisioned Concurrency alias"
    )
    assert (
        error_of(lam.get_provisioned_concurrency_config, FunctionName=fn, Qualifier="$LATEST")[
            "Message"
        ]
        == "The function resource provided must be an alias or a published version."
    )
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fn)
    assert [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]] == [f"{ARN}:f:live"]
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    assert (
        error_of(lam.get_provisioned_concurrency_config, FunctionName=fn, Qualifier="live")["Code"]
        == "ProvisionedConcurrencyConfigNotFoundException"
    )


def test_settings_answer_as_aws_when_unset(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    assert lam.get_function_code_signing_config(FunctionName=fn)["CodeSigningConfigArn"] == ""
    assert error_of(lam.get_function_url_config, FunctionName=fn)["Code"] == (
        "ResourceNotFoundException"
    )
    assert lam.list_function_url_configs(FunctionName=fn)["FunctionUrlConfigs"] == []
    runtime = lam.get_runtime_management_config(FunctionName=fn)
    assert (runtime["UpdateRuntimeOn"], runtime["FunctionArn"]) == ("Auto", f"{ARN}:f")
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Terminate"
    lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Allow"


def test_runtime_version_config_names_one_version_per_runtime_and_region(
    hw: Headwater, fn: str
) -> None:
    lam = hw.lambda_

    def version_arn(config: dict[str, Any]) -> str:
        return str(config["RuntimeVersionConfig"]["RuntimeVersionArn"])

    python = version_arn(lam.get_function_configuration(FunctionName=fn))
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", python)
    assert version_arn(lam.get_function(FunctionName=fn)["Configuration"]) == python
    assert version_arn(lam.publish_version(FunctionName=fn)) == python
    made = {"Role": ROLE, "Handler": "app.handler", "Code": {"ZipFile": FUNCTION_ZIP}}
    twin = lam.create_function(FunctionName="twin", Runtime="python3.12", **made)
    node = lam.create_function(FunctionName="node", Runtime="nodejs20.x", **made)
    elsewhere = hw.client("lambda", "eu-west-1").create_function(
        FunctionName="f", Runtime="python3.12", **made
    )
    assert version_arn(twin) == python
    assert version_arn(node) not in (python, "")
    assert version_arn(elsewhere) == python.replace("us-east-1", "eu-west-1")


def test_runtime_management_pins_a_version_arn_of_aws_shape(hw: Headwater, fn: str) -> None:
    lam = hw.client("lambda", validate=False)  # AWS's own ValidationException comes back
    pinned = lam.get_function_configuration(FunctionName=fn)["RuntimeVersionConfig"][
        "RuntimeVersionArn"
    ]
    answer = lam.put_runtime_management_config(
        FunctionName=fn, UpdateRuntimeOn="Manual", RuntimeVersionArn=pinned
    )
    assert (answer["UpdateRuntimeOn"], answer["RuntimeVersionArn"]) == ("Manual", pinned)
    got = lam.get_runtime_management_config(FunctionName=fn)
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", pinned)
    error = error_of(
        lam.put_runtime_management_config,
        FunctionName=fn,
        UpdateRuntimeOn="FunctionUpdate",
        RuntimeVersionArn="python3.12-runtime-version",
    )
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(
        "1 validation error detected: Value 'python3.12-runtime-version' at "
        "'runtimeVersionArn' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: ((arn:(aws[a-zA-Z-]*):lambda:"
    )
    # The refused call changed nothing.
    assert lam.get_runtime_management_config(FunctionName=fn)["UpdateRuntimeOn"] == "Manual"
    lam.put_runtime_management_config(FunctionName=fn, UpdateRuntimeOn="Auto")
    got = lam.get_runtime_management_config(FunctionName=fn)
    assert (got["UpdateRuntimeOn"], "RuntimeVersionArn" in got) == ("Auto", False)


def test_optional_settings_are_echoed(hw: Headwater, fn: str) -> None:
    lam = hw.lambda_
    config = lam.update_function_configuration(
        FunctionName=fn,
        TracingConfig={"Mode": "Active"},
        DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
        EphemeralStorage={"Size": 1024},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
    )
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["DeadLetterConfig"] == {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}
    assert config["EphemeralStorage"] == {"Size": 1024}
    assert config["LoggingConfig"] == {
        "ApplicationLogLevel": "DEBUG",
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/f",
        "SystemLogLevel": "INFO",
    }
    cleared = lam.update_function_configuration(
        FunctionName=fn, DeadLetterConfig={}, LoggingConfig={"LogFormat": "Text"}
    )
    assert "DeadLetterConfig" not in cleared
    assert cleared["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"}
    unchecked = hw.client("lambda", validate=False)
    with pytest.raises(ClientError, match="ValidationException"):
        unchecked.update_function_configuration(FunctionName=fn, EphemeralStorage={"Size": 100})


def test_layer_content_is_on_the_import_path(hw: Headwater) -> None:
    """python/ and python/lib/pythonX.Y/site-packages of each layer, as on AWS; a published
    version keeps the layer version it was published with."""
    lam = hw.lambda_
    major_minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    site = f"python/lib/python{major_minor}/site-packages"
    first = lam.publish_layer_version(
        LayerName="shared",
        Content={
            "ZipFile": zip_of(
                {"python/helpers.py": "VALUE = 'one'\n", f"{site}/extra.py": "EXTRA = 1\n"}
            )
        },
    )
    source = (
        "import extra, helpers\n\n"
        "def handler(event, context):\n    return [helpers.VALUE, extra.EXTRA]\n"
    )
    lam.create_function(
        FunctionName="layered",
        Runtime=f"python{major_minor}",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": source})},
        Layers=[first["LayerVersionArn"]],
    )
    lam.publish_version(FunctionName="layered")
    second = lam.publish_layer_version(
        LayerName="shared",
        Content={
            "ZipFile": zip_of(
                {"python/helpers.py": "VALUE = 'two'\n", f"{site}/extra.py": "EXTRA = 2\n"}
            )
        },
    )
    lam.update_function_configuration(FunctionName="layered", Layers=[second["LayerVersionArn"]])

    def run(qualifier: str) -> Any:
        response = lam.invoke(FunctionName="layered", Qualifier=qualifier)
        assert "FunctionError" not in response, response["Payload"].read()
        return json.loads(response["Payload"].read())

    assert run("$LATEST") == ["two", 2]
    assert run("1") == ["one", 1]


def test_numbers_beyond_64_bits_get_lambdas_answers_not_an_overflow(hw: Headwater, fn: str) -> None:
    # Found by the odd-input property test: these reached SQLite's 64-bit integers and
    # raised OverflowError.
    lam = hw.lambda_
    huge = 2**63
    code = lam.publish_layer_version(LayerName="l", Content={"ZipFile": FUNCTION_ZIP})
    assert error_of(lam.get_layer_version, LayerName="l", VersionNumber=huge) == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
    }
    lam.delete_layer_version(LayerName="l", VersionNumber=huge)
    assert lam.get_layer_version(LayerName="l", VersionNumber=code["Version"])["Version"] == 1
    assert error_of(
        lam.put_function_concurrency, FunctionName=fn, ReservedConcurrentExecutions=huge
    ) == {
        "Code": "InvalidParameterValueException",
        "Message": "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    }
    assert "Concurrency" not in lam.get_function(FunctionName=fn)


def test_provisioned_concurrency_beyond_64_bits_is_above_the_accounts_pool(
    hw: Headwater, fn: str
) -> None:
    # Found by the odd-input property test: the count reached the settings store's JSON
    # (orjson: "Integer exceeds 64-bit range", a TypeError). A request body carries up to
    # an unsigned 64-bit one (past that its reader refuses a float).
    lam = hw.lambda_
    lam.publish_version(FunctionName=fn)
    assert error_of(
        lam.put_provisioned_concurrency_config,
        FunctionName=fn,
        Qualifier="1",
        ProvisionedConcurrentExecutions=2**64 - 1,
    ) == {
        "Code": "InvalidParameterValueException",
        "Message": "Specified ConcurrentExecutions for function is greater than account's "
        "unreserved concurrency [1000].",
    }
    assert (
        lam.list_provisioned_concurrency_configs(FunctionName=fn)["ProvisionedConcurrencyConfigs"]
        == []
    )


def test_a_layer_name_longer_than_140_characters_is_refused(hw: Headwater) -> None:
    # Found by the odd-input property test: the name became a directory name and
    # PublishLayerVersion failed with OSError (file name too long).
    name = "x" * 141
    assert error_of(
        hw.lambda_.publish_layer_version, LayerName=name, Content={"ZipFile": FUNCTION_ZIP}
    ) == {
        "Code": "ValidationException",
        "Message": f"1 validation error detected: Value '{name}' at 'layerName' failed to "
        "satisfy constraint: Member must have length less than or equal to 140",
    }
    assert hw.lambda_.list_layers()["Layers"] == []


def test_layer_version_policy_builds_aws_statements(hw: Headwater) -> None:
    lam = hw.lambda_
    lam.publish_layer_version(LayerName="shared", Content={"ZipFile": FUNCTION_ZIP})
    version_arn = f"{LAYER}:shared:1"
    assert error_of(lam.get_layer_version_policy, LayerName="shared", VersionNumber=1) == {
        "Code": "ResourceNotFoundException",
        "Message": "No policy is associated with the given resource.",
    }
    added = lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=1,
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-abcdefghij",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "org",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:GetLayerVersion",
        "Resource": version_arn,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
    }
    second = lam.add_layer_version_permission(
        LayerName=f"{LAYER}:shared",
        VersionNumber=1,
        StatementId="account",
        Action="lambda:GetLayerVersion",
        Principal="123456789012",
        RevisionId=added["RevisionId"],
    )
    policy = lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)
    assert policy["RevisionId"] == second["RevisionId"] != added["RevisionId"]
    document = json.loads(policy["Policy"])
    assert [s["Sid"] for s in document["Statement"]] == ["org", "account"]
    assert document["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    # the policy is not part of the layer version's own answers
    assert "Policy" not in lam.get_layer_version(LayerName="shared", VersionNumber=1)

    lam.remove_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="org")
    document = json.loads(
        lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)["Policy"]
    )
    assert [s["Sid"] for s in document["Statement"]] == ["account"]


def test_layer_version_policy_errors_change_nothing(hw: Headwater) -> None:
    lam = hw.lambda_
    lam.publish_layer_version(LayerName="shared", Content={"ZipFile": FUNCTION_ZIP})
    added = lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=1,
        StatementId="a",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    base = {"LayerName": "shared", "VersionNumber": 1, "Action": "lambda:GetLayerVersion"}
    assert error_of(lam.add_layer_version_permission, **base, StatementId="a", Principal="*") == {
        "Code": "ResourceConflictException",
        "Message": "The statement id (a) provided already exists. Please provide a new "
        "statement id, or remove the existing statement.",
    }
    assert error_of(
        lam.add_layer_version_permission,
        **{**base, "Action": "lambda:InvokeFunction"},
        StatementId="b",
        Principal="*",
    ) == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'lambda:InvokeFunction' at 'action' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "lambda:GetLayerVersion",
    }
    assert (
        error_of(
            lam.add_layer_version_permission, **base, StatementId="b", Principal="s3.amazonaws.com"
        )["Code"]
        == "ValidationException"
    )
    assert error_of(
        lam.add_layer_version_permission,
        **base,
        StatementId="b",
        Principal="*",
        RevisionId="stale",
    ) == {
        "Code": "PreconditionFailedException",
        "Message": "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetLayerVersionPolicy API to retrieve the latest Revision Id",
    }
    assert error_of(
        lam.add_layer_version_permission,
        **{**base, "VersionNumber": 7},
        StatementId="b",
        Principal="*",
    ) == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
    }
    assert error_of(
        lam.remove_layer_version_permission, LayerName="shared", VersionNumber=1, StatementId="zz"
    ) == {
        "Code": "ResourceNotFoundException",
        "Message": "Statement zz is not found in resource policy.",
    }
    policy = lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"]
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["a"]
