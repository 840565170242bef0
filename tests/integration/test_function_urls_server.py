"""Function URLs on ``headwater serve`` as a process, over real HTTP/1.1 sockets: the host
form (sent as a Host header to 127.0.0.1: ``*.localhost`` names may not resolve where the
test runs), the path form, a handler that calls AWS back through the same server while its
request waits (the server's loop stays free), and a page's request refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    request_over_http,
    zip_of,
)

pytestmark = pytest.mark.integration

REGION = "us-west-2"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER = """
import json
import boto3

def handler(event, context):
    queue = boto3.client("sqs").get_queue_url(QueueName="asked")["QueueUrl"]
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["seen=1"],
        "body": json.dumps({"path": event["rawPath"], "body": event.get("body"), "queue": queue}),
    }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("furl")) as running:
        yield running


@pytest.fixture(scope="module")
def url(server: ServerProcess) -> str:
    boto_client(server.endpoint, "sqs", REGION).create_queue(QueueName="asked")
    lam = boto_client(server.endpoint, "lambda", REGION)
    lam.create_function(
        FunctionName="web",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
    )
    made = lam.create_function_url_config(FunctionName="web", AuthType="NONE")
    return str(made["FunctionUrl"])


def test_the_host_form_answers_over_http(server: ServerProcess, url: str) -> None:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.hostname.endswith(".lambda-url.us-west-2.localhost")
    assert parts.port == urlsplit(server.endpoint).port
    status, headers, cookies, body = request_over_http(
        server, "POST", "/orders", {"Host": parts.netloc, "Content-Type": "text/plain"}, b"hi"
    )
    assert status == 200, body
    answered: dict[str, Any] = json.loads(body)
    assert answered["path"] == "/orders" and answered["body"] == "hi"
    assert answered["queue"].endswith("/asked")  # the handler called the server back
    assert cookies == ["seen=1"]
    assert headers["x-amzn-requestid"]


def test_the_path_form_and_a_refused_page(server: ServerProcess, url: str) -> None:
    url_id = urlsplit(url).hostname.split(".", 1)[0]  # type: ignore[union-attr]
    path = f"/_headwater/function-url/{url_id}/x"
    status, _, _, body = request_over_http(server, "GET", path, {})
    assert status == 200 and json.loads(body)["path"] == "/x"
    status, _, _, body = request_over_http(
        server, "POST", path, {"Origin": "http://evil.example"}, b"{}"
    )
    assert status == 403
    assert "--cors-origin" in json.loads(body)["Message"]


def test_logs_show_the_invocations(server: ServerProcess, url: str) -> None:
    url_id = urlsplit(url).hostname.split(".", 1)[0]  # type: ignore[union-attr]
    assert request_over_http(server, "GET", f"/_headwater/function-url/{url_id}/", {})[0] == 200
    logs = boto_client(server.endpoint, "logs", REGION)
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/web")["logStreams"]
    assert streams  # invoked through Lambda's invoke path: START/END/REPORT were logged
