"""What the tests of functions behind HTTP addresses share (API Gateway HTTP and REST APIs,
Lambda function URLs, and their CloudFormation/SAM deploys): a Headwater that answers as
``headwater serve`` on port 4599, functions made from one handler module, AWS errors read
off a boto3 call, requests sent through the server's app, and a SAM app written to disk."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Clock, Headwater
from headwater.in_process import HeaderFields
from headwater.server.asgi import create_app
from tests.asgi_boto import AsgiTransport
from tests.conformance.server_process import zip_of

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"
#: The running Python's Lambda runtime name (SAM builds an inline function's code with it).
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
#: The server address addresses are given for (``*.localhost:4599``).
ENDPOINT = "http://127.0.0.1:4599"


@contextmanager
def serving_headwater(tmp_path: Path, clock: Clock | None = None) -> Iterator[Headwater]:
    """A Headwater running functions inline whose addresses name the server's port."""
    with Headwater(
        tmp_path / "data", clock=clock, functions="inline", endpoint_url=ENDPOINT
    ) as made:
        yield made


def create_functions(lam: Any, handlers: str, names: tuple[str, ...]) -> None:
    """One function per name, each the handler of that name in the ``handlers`` module."""
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler=f"app.{name}",
            Code={"ZipFile": zip_of(handlers)},
        )


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of the AWS error ``call(**params)`` answers."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def send_to_host(
    served: AsgiTransport,
    host: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: HeaderFields | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body of a request to ``http://<host>:4599``
    (``headers`` as pairs to send a name more than once)."""
    status, answered, data = served.send(method, f"http://{host}:4599{path}", headers or {}, body)
    return status, {k.lower(): v for k, v in dict(answered).items()}, data


def get_once(hw: Headwater, url: str, host: str | None = None) -> tuple[int, bytes]:
    """Status and body of a GET through a server app made for this one request (``host``:
    a Host header other than the URL's)."""
    transport = AsgiTransport(create_app(hw))
    try:
        headers = {"host": host} if host else {}
        status, _, body = transport.send("GET", url, headers, b"")
    finally:
        transport.close()
    return status, body


def write_sam_app(
    tmp_path: Path, source: str, function_name: str, function_lines: str, outputs: str
) -> Path:
    """A SAM template (its path) with one function ``Fn`` of ``source`` (``src/app.py``,
    handler ``app.handler``); ``function_lines`` add to its properties (indented as
    them), ``outputs`` are the template's ``Outputs`` lines."""
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text(source)
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      FunctionName: {function_name}\n"
        "      CodeUri: src/\n"
        "      Handler: app.handler\n"
        f"      Runtime: {RUNTIME}\n" + function_lines + "Outputs:\n" + outputs
    )
    return template


def create_handler_function(lam: Any, name: str, source: str) -> None:
    """Function ``name`` running ``source``'s ``handler`` (``app.handler``)."""
    lam.create_function(
        FunctionName=name,
        Runtime=RUNTIME,
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(source)},
    )


def send_to_api(
    served: AsgiTransport,
    api_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: HeaderFields | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """``send_to_host`` for API ``api_id``'s execute-api host (us-east-1)."""
    host = f"{api_id}.execute-api.us-east-1.localhost"
    return send_to_host(served, host, method, path, body, headers)
