"""``headwater serve`` as a process, attacked as the first wave attacked it: a web page's
``fetch()`` and a DNS-rebound name get nothing done; boto3, the AWS CLI and functions that
call AWS from their handlers still work, with and without ``--verify-signatures``."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conformance.server_process import (
    AWS_CLI,
    CLIENT_ENV,
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
    zip_of,
)

pytestmark = pytest.mark.integration

#: A handler that calls SQS through the server, signing with the credentials it is given.
CALLS_BACK = """
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    return sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
"""

WRITES_MARK = """
import pathlib

def handler(event, context):
    pathlib.Path(event["mark"]).write_text("ran")
"""


def _send(
    server: ServerProcess, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    host, port = server.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _create_function(lambda_: Any, name: str, source: str) -> None:
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": zip_of(source)},
        Timeout=30,
    )


def test_a_web_page_gets_nothing_done_and_clients_still_work(tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    with headwater_server(tmp_path) as server:
        lambda_ = boto_client(server.endpoint, "lambda")
        _create_function(lambda_, "victim", WRITES_MARK)
        page = {"Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8"}
        create = json.dumps(
            {"FunctionName": "pwned", "Runtime": "python3.12", "Role": "r", "Handler": "a.h"}
        ).encode()
        status, body = _send(server, "POST", "/2015-03-31/functions", page, create)
        assert status == 403
        assert b"evil.example" in body
        invoke = json.dumps({"mark": str(mark)}).encode()
        status, _ = _send(server, "POST", "/2015-03-31/functions/victim/invocations", page, invoke)
        assert status == 403
        # DNS rebinding: the page's own name, now pointing at 127.0.0.1
        rebound = {"Host": "evil.example", "Content-Type": "text/plain"}
        status, _ = _send(server, "POST", "/2015-03-31/functions/victim/invocations", rebound)
        assert status == 403
        assert _send(server, "GET", "/_headwater/", {"Host": "evil.example"})[0] == 403
        assert not mark.exists()
        assert [f["FunctionName"] for f in lambda_.list_functions()["Functions"]] == ["victim"]

        # the clients users bring are untouched: boto3, the AWS CLI, a handler's boto3
        sqs = boto_client(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        _create_function(lambda_, "caller", CALLS_BACK)
        answer = lambda_.invoke(FunctionName="caller", Payload=b'{"queue": "orders"}')
        assert json.loads(answer["Payload"].read()) == url
        if AWS_CLI.exists():
            listed = aws_cli(server, "sqs", "list-queues")
            assert url in listed.stdout, listed.stderr


def test_verify_signatures_from_the_command_line(tmp_path: Path) -> None:
    key = f"{CLIENT_ENV['AWS_ACCESS_KEY_ID']}:{CLIENT_ENV['AWS_SECRET_ACCESS_KEY']}"
    with headwater_server(tmp_path, ["--verify-signatures", "--access-key", key]) as server:
        sqs = boto_client(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="verified")["QueueUrl"]
        impostor = boto3.client(
            "sqs",
            endpoint_url=server.endpoint,
            region_name="us-west-2",
            aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key="wrong",
            config=Config(retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError) as refused:
            impostor.list_queues()
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
        # functions sign their own calls with a key the server made for them
        lambda_ = boto_client(server.endpoint, "lambda")
        _create_function(lambda_, "caller", CALLS_BACK)
        answer = lambda_.invoke(FunctionName="caller", Payload=b'{"queue": "verified"}')
        assert json.loads(answer["Payload"].read()) == url
        if AWS_CLI.exists():
            listed = aws_cli(server, "sqs", "list-queues")
            assert url in listed.stdout, listed.stderr
        # temporary credentials from AssumeRole sign with their secret and session token
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = boto_client(server.endpoint, "iam").create_role(
            RoleName="assumed", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        issued = boto_client(server.endpoint, "sts").assume_role(
            RoleArn=role["Arn"], RoleSessionName="cli"
        )["Credentials"]

        def assumed_sqs(token: str | None) -> Any:
            return boto3.client(
                "sqs",
                endpoint_url=server.endpoint,
                region_name="us-west-2",
                aws_access_key_id=issued["AccessKeyId"],
                aws_secret_access_key=issued["SecretAccessKey"],
                aws_session_token=token,
                config=Config(retries={"max_attempts": 1}),
            )

        assert url in assumed_sqs(issued["SessionToken"]).list_queues()["QueueUrls"]
        for token in (None, issued["SessionToken"] + "A"):
            with pytest.raises(ClientError) as untokened:
                assumed_sqs(token).list_queues()
            assert untokened.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_verify_signatures_needs_keys() -> None:
    command = [sys.executable, "-c", "from headwater.cli.main import main; main()", "serve"]
    result = subprocess.run(
        [*command, "--verify-signatures", "--port", "1"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--verify-signatures needs access keys" in result.stderr
