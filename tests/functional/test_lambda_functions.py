"""Lambda functions as resources through the boto3-shaped client (memory and SQLite)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from headwater import Headwater, ManualClock

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CODE = zip_bytes({"app.py": "def handler(event, context):\n    return event\n"})


def create(client: Any, name: str = "fn", **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": CODE},
    }
    params.update(overrides)
    return client.create_function(**params)  # type: ignore[no-any-return]


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int, str | None]:
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response.get("Type"),
    )


def test_create_function_response(hw: Headwater) -> None:
    client = hw.client("lambda")
    response = create(
        client,
        Description="demo",
        Timeout=30,
        MemorySize=512,
        Environment={"Variables": {"STAGE": "test"}},
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert response["FunctionName"] == "fn"
    assert response["FunctionArn"] == ARN + "fn"
    assert response["Runtime"] == "python3.12"
    assert response["Handler"] == "app.handler"
    assert response["Role"] == ROLE
    assert response["Timeout"] == 30
    assert response["MemorySize"] == 512
    assert response["Description"] == "demo"
    assert response["Environment"] == {"Variables": {"STAGE": "test"}}
    assert response["Version"] == "$LATEST"
    assert response["State"] == "Active"
    assert response["LastUpdateStatus"] == "Successful"
    assert response["PackageType"] == "Zip"
    assert response["CodeSize"] == len(CODE)
    assert response["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    stamp = dt.datetime.strptime(response["LastModified"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert stamp.timestamp() == pytest.approx(hw.clock.now(), abs=0.001)
    assert response["RevisionId"]


def test_defaults_and_get(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client)
    config = client.get_function_configuration(FunctionName="fn")
    assert config["Timeout"] == 3
    assert config["MemorySize"] == 128
    assert "Environment" not in config
    got = client.get_function(FunctionName=ARN + "fn")
    config.pop("ResponseMetadata")
    assert got["Configuration"] == config
    assert got["Code"]["RepositoryType"] == "S3"
    assert "Concurrency" not in got
    assert client.get_function(FunctionName="fn:$LATEST")["Configuration"]["FunctionName"] == "fn"
    assert client.get_function(FunctionName="000000000000:function:fn")["Configuration"]


def test_missing_function(hw: Headwater) -> None:
    client = hw.client("lambda")
    for call in (
        lambda: client.get_function(FunctionName="ghost"),
        lambda: client.get_function_configuration(FunctionName="ghost"),
        lambda: client.delete_function(FunctionName="ghost"),
        lambda: client.update_function_configuration(FunctionName="ghost", Timeout=4),
        lambda: client.invoke(FunctionName="ghost", Payload=b"{}"),
    ):
        with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
            call()
        # Invoke names the version it looked for (AWS-recorded: test_invoke_exceptions)
        latest = ":$LATEST" if caught.value.operation_name == "Invoke" else ""
        assert error(caught) == (
            "ResourceNotFoundException",
            f"Function not found: {ARN}ghost{latest}",
            404,
            "User",
        )
    create(client)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.get_function(FunctionName="fn", Qualifier="7")
    assert error(caught)[1] == f"Function not found: {ARN}fn:7"


def test_duplicate_name(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client)
    with pytest.raises(client.exceptions.ResourceConflictException) as caught:
        create(client)
    assert error(caught) == ("ResourceConflictException", "Function already exist: fn", 409, "User")


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        (
            {"Runtime": "python3.7"},
            "InvalidParameterValueException",
            "The runtime parameter of python3.7 is no longer supported for creating or updating "
            "AWS Lambda functions. We recommend you use a supported runtime while creating or "
            "updating functions.",
        ),
        ({"Runtime": "java21"}, "InvalidParameterValueException", None),
        (
            {"PackageType": "Image", "Code": {"ImageUri": "1.dkr.ecr.us-east-1.amazonaws.com/f"}},
            "InvalidParameterValueException",
            "Container image functions (PackageType Image) cannot run here: headwater runs "
            "functions without a container engine (no Docker). Deploy the function as a .zip "
            "package (PackageType Zip) with a python, nodejs or provided runtime.",
        ),
        (
            {"Handler": "bad handler"},
            "ValidationException",
            "1 validation error detected: Value 'bad handler' at 'handler' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [^\\s]+",
        ),
        (
            {"Timeout": 901},
            "ValidationException",
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
            "Member must have value less than or equal to 900",
        ),
        (
            {"MemorySize": 10241},
            "ValidationException",
            "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
            "constraint: Member must have value less than or equal to 10240",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x", "OK": "y"}}},
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            "for modification. Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 4100}}},
            "InvalidParameterValueException",
            None,
        ),
        (
            {"Role": "not-a-role"},
            "ValidationException",
            None,
        ),
        (
            {"Code": {"ZipFile": b"not a zip"}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
        (
            {"Code": {"ZipFile": zip_bytes({"../evil.py": "x = 1"})}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
        (
            {"Code": {"ZipFile": zip_bytes({"/etc/evil.py": "x = 1"})}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
    ],
)
def test_create_validation(
    hw: Headwater, overrides: dict[str, Any], code: str, message: str | None
) -> None:
    client = hw.client("lambda")
    with pytest.raises(ClientError) as caught:
        create(client, **overrides)
    got = error(caught)
    assert got[0] == code
    assert got[2] == 400
    if message is not None:
        assert got[1] == message
    if code == "InvalidParameterValueException":
        assert got[3] == "User"
    assert client.list_functions()["Functions"] == []  # bad input stores nothing
    assert not (hw.data_dir / "evil.py").exists()


def test_environment_size_message(hw: Headwater) -> None:
    client = hw.client("lambda")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as caught:
        create(client, Environment={"Variables": {"BIG": "x" * 4100}})
    assert error(caught)[1].startswith(
        "Lambda was unable to configure your environment variables because the environment "
        'variables you have provided exceeded the 4KB limit. String measured: {"BIG":"xxx'
    )


def test_client_side_validation(hw: Headwater) -> None:
    client = hw.client("lambda")
    with pytest.raises(ParamValidationError):
        create(client, Timeout=0)
    with pytest.raises(ParamValidationError):
        create(client, Code={"Directory": "/tmp"})


def test_list_functions_paginates(hw: Headwater) -> None:
    client = hw.client("lambda")
    names = [f"fn-{i:02d}" for i in range(7)]
    for name in reversed(names):
        create(client, name)
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        page = client.list_functions(**kwargs)
        pages += 1
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == names
    assert pages == 3
    assert len(client.list_functions()["Functions"]) == 7


def test_update_configuration_and_code(hw: Headwater) -> None:
    client = hw.client("lambda")
    created = create(client)
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    clock.advance(5)
    updated = client.update_function_configuration(
        FunctionName="fn",
        Timeout=60,
        MemorySize=1024,
        Handler="app.other",
        Environment={"Variables": {"AB": "1"}},
        Description="new",
    )
    assert updated["Timeout"] == 60
    assert updated["MemorySize"] == 1024
    assert updated["Handler"] == "app.other"
    assert updated["Environment"] == {"Variables": {"AB": "1"}}
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["LastModified"] != created["LastModified"]
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_configuration(
            FunctionName="fn", Environment={"Variables": {"_HANDLER": "x"}}
        )
    with pytest.raises(ClientError) as caught:
        client.update_function_configuration(FunctionName="fn", MemorySize=20000)
    assert error(caught)[0] == "ValidationException"
    assert client.get_function_configuration(FunctionName="fn")["MemorySize"] == 1024
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.update_function_configuration(FunctionName="fn", Timeout=5, RevisionId="stale")

    new_code = zip_bytes({"app.py": "def handler(e, c):\n    return 2\n"})
    result = client.update_function_code(FunctionName="fn", ZipFile=new_code)
    assert result["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert result["CodeSize"] == len(new_code)
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_code(FunctionName="fn", ZipFile=b"garbage")
    assert client.get_function_configuration(FunctionName="fn")["CodeSize"] == len(new_code)


def test_delete_function(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client)
    response = client.delete_function(FunctionName="fn")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert response["StatusCode"] == 204  # the modeled member boto3 fills from the status
    assert client.list_functions()["Functions"] == []
    assert not (hw.data_dir / "functions" / "fn").exists()
    create(client)  # the name is free again


def test_concurrency_operations(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client)
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="fn")
    put = client.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=5)
    assert put["ReservedConcurrentExecutions"] == 5
    assert client.get_function_concurrency(FunctionName="fn")["ReservedConcurrentExecutions"] == 5
    assert client.get_function(FunctionName="fn")["Concurrency"] == {
        "ReservedConcurrentExecutions": 5
    }
    client.delete_function_concurrency(FunctionName="fn")
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="fn")


def test_resolve_function(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client, Timeout=9, MemorySize=256)
    info = hw.service("lambda").resolve_function(ARN + "fn:$LATEST")
    assert info.name == "fn"
    assert info.arn == ARN + "fn"
    assert info.qualified_arn == ARN + "fn:$LATEST"
    assert (info.timeout, info.memory_size, info.reserved_concurrency) == (9, 256, None)
    assert info.role == ROLE
    assert hw.service("lambda").resolve_function("fn").qualified_arn == ARN + "fn"


def test_invoke_validation(hw: Headwater) -> None:
    client = hw.client("lambda")
    create(client)
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="fn", Payload=b"not json")
    with pytest.raises(client.exceptions.RequestTooLargeException) as caught:
        client.invoke(FunctionName="fn", Payload=b'"' + b"x" * 6_291_456 + b'"')
    assert error(caught)[2] == 413
    dry = client.invoke(FunctionName="fn", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.invoke(FunctionName="fn:$LATEST", Qualifier="3", Payload=b"{}")


def test_persistence_across_reopen(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Headwater(data_dir=data_dir, clock=ManualClock()) as hw:
        create(hw.client("lambda"), Timeout=11)
        hw.client("lambda").put_function_concurrency(
            FunctionName="fn", ReservedConcurrentExecutions=3
        )
    with Headwater(data_dir=data_dir, clock=ManualClock()) as hw:
        client = hw.client("lambda")
        got = client.get_function(FunctionName="fn")
        assert got["Configuration"]["Timeout"] == 11
        assert got["Concurrency"] == {"ReservedConcurrentExecutions": 3}
        assert (Path(got["Code"]["Location"].removeprefix("file://")) / "app.py").is_file()
