"""Lambda function URLs: the control plane (Create/Get/Update/Delete/ListFunctionUrlConfigs
through boto3 over the wire) and serving HTTP requests to the function through
``headwater serve``'s app (payload format 2.0, the response interpretation, AWS_IAM, CORS
and the server's refusals)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.asgi_boto import InProcessAws

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"
URL = re.compile(r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:4599/")

HANDLERS = """
import base64
import json


def echo(event, context):
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps(event),
    }


def plain(event, context):
    return event.get("queryStringParameters", {}).get("give", "hello")


def obj(event, context):
    return {"answer": 42}


def binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(b"\\x00\\xff" + base64.b64decode(event["body"])).decode(),
        "isBase64Encoded": True,
    }


def fail(event, context):
    raise ValueError("boom")
"""


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with Headwater(
        tmp_path / "data",
        clock=ManualClock(),
        functions="inline",
        endpoint_url="http://127.0.0.1:4599",
    ) as made:
        yield made


@pytest.fixture
def aws(hw: Headwater) -> Iterator[InProcessAws]:
    made = InProcessAws(hw)
    yield made
    made.close()


@pytest.fixture
def lam(aws: InProcessAws) -> Any:
    client = aws.client("lambda")
    for name in ("echo", "plain", "obj", "binary", "fail"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler=f"app.{name}",
            Code={"ZipFile": zipped(HANDLERS)},
        )
    return client


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# -- control plane --------------------------------------------------------------------


def test_create_get_update_list_delete(lam: Any, hw: Headwater) -> None:
    cors = {"AllowOrigins": ["http://localhost:3000"], "AllowMethods": ["GET"], "MaxAge": 60}
    created = lam.create_function_url_config(FunctionName="echo", AuthType="NONE", Cors=cors)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert URL.fullmatch(created["FunctionUrl"])
    assert created["FunctionArn"] == f"{ARN}:echo"
    assert (created["AuthType"], created["InvokeMode"], created["Cors"]) == (
        "NONE",
        "BUFFERED",
        cors,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])
    got = lam.get_function_url_config(FunctionName=f"{ARN}:echo")
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    hw.clock.advance(5)  # type: ignore[attr-defined]
    updated = lam.update_function_url_config(FunctionName="echo", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == cors  # what the update did not name is kept
    assert updated["LastModifiedTime"] > updated["CreationTime"]
    assert updated["FunctionUrl"] == created["FunctionUrl"]

    listed = lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]

    lam.delete_function_url_config(FunctionName="echo")
    assert error_of(lam.get_function_url_config, FunctionName="echo") == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    assert lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"] == []


def test_create_errors_as_aws_words_them(lam: Any) -> None:
    lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    assert error_of(lam.create_function_url_config, FunctionName="echo", AuthType="NONE") == (
        "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {ARN}:echo]. Error "
        "message:  FunctionUrlConfig exists for this Lambda function",
        409,
    )
    assert error_of(lam.create_function_url_config, FunctionName="nope", AuthType="NONE") == (
        "ResourceNotFoundException",
        "Function does not exist",
        404,
    )
    code, message, status = error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="$LATEST"
    )
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value '$LATEST' at 'qualifier'")
    code, _, _ = error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="1"
    )
    assert code == "ValidationException"
    assert error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="live"
    )[0:2] == ("ResourceNotFoundException", "Function does not exist")
    code, message, _ = error_of(
        lam.create_function_url_config, FunctionName="plain", AuthType="NONE", InvokeMode="FAST"
    )
    assert code == "ValidationException" and "'invokeMode'" in message
    code, message, _ = error_of(
        lam.create_function_url_config,
        FunctionName="plain",
        AuthType="NONE",
        Cors={"MaxAge": 86401},
    )
    assert code == "ValidationException" and "'cors.maxAge'" in message
    # nothing was stored by the refused calls
    assert lam.list_function_url_configs(FunctionName="plain")["FunctionUrlConfigs"] == []
    assert error_of(lam.update_function_url_config, FunctionName="plain", AuthType="NONE")[0:2] == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )
    assert error_of(lam.delete_function_url_config, FunctionName="plain")[0] == (
        "ResourceNotFoundException"
    )


def test_alias_urls_page_and_go_with_the_alias_and_function(lam: Any) -> None:
    lam.publish_version(FunctionName="echo")
    lam.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName="echo", Name="test", FunctionVersion="1")
    unqualified = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    live = lam.create_function_url_config(FunctionName="echo:live", AuthType="NONE")
    lam.create_function_url_config(FunctionName="echo", Qualifier="test", AuthType="NONE")
    assert live["FunctionArn"] == f"{ARN}:echo:live"
    assert live["FunctionUrl"] != unqualified["FunctionUrl"]
    first = lam.list_function_url_configs(FunctionName="echo", MaxItems=2)
    assert len(first["FunctionUrlConfigs"]) == 2
    rest = lam.list_function_url_configs(FunctionName="echo", Marker=first["NextMarker"])
    arns = [c["FunctionArn"] for c in first["FunctionUrlConfigs"] + rest["FunctionUrlConfigs"]]
    assert sorted(arns) == [f"{ARN}:echo", f"{ARN}:echo:live", f"{ARN}:echo:test"]

    lam.delete_alias(FunctionName="echo", Name="test")
    assert len(lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"]) == 2
    lam.delete_function(FunctionName="echo")
    lam.create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.echo",
        Code={"ZipFile": zipped(HANDLERS)},
    )
    assert lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"] == []
    assert error_of(lam.list_function_url_configs, FunctionName="nope")[0:2] == (
        "ResourceNotFoundException",
        "Function does not exist",
    )


def test_urls_persist_across_restarts(tmp_path: Path) -> None:
    with Headwater(tmp_path / "data") as hw:
        hw.lambda_.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.obj",
            Code={"ZipFile": zipped(HANDLERS)},
        )
        made = hw.lambda_.create_function_url_config(FunctionName="f", AuthType="AWS_IAM")
    with Headwater(tmp_path / "data") as hw:
        got = hw.lambda_.get_function_url_config(FunctionName="f")
    assert (got["FunctionUrl"], got["AuthType"]) == (made["FunctionUrl"], "AWS_IAM")
