"""Custom resources on ``headwater serve`` as a process: CreateStack over the wire, the
functions (Python with a urllib PUT as cfnresponse does, Node.js with https.request as
CDK's handlers do) answer on the server's own ResponseURL; a page's PUT is refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    request_over_http,
)
from tests.functional.cfn_support import body
from tests.functional.test_cfn_custom_resources import node_template, template

pytestmark = pytest.mark.integration

REGION = "us-east-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("custom")) as running:
        yield running


def create(server: ServerProcess, name: str, document: dict[str, object]) -> dict[str, str]:
    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    cfn.create_stack(StackName=name, TemplateBody=body(document), Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_python_handler_answers_on_the_servers_response_url(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    record = tmp_path_factory.mktemp("record") / "requests"
    outputs = create(server, "python-custom", template(record, Name="wire"))
    assert outputs == {"Ref": "thing-wire", "Greeting": "hello wire"}
    [request] = [json.loads(line) for line in record.read_text().splitlines()]
    assert request["ResponseURL"].startswith(
        server.endpoint + "/_headwater/cloudformation/responses/"
    )
    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    cfn.delete_stack(StackName="python-custom")
    cfn.get_waiter("stack_delete_complete").wait(
        StackName="python-custom", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert [json.loads(line)["RequestType"] for line in record.read_text().splitlines()] == [
        "Create",
        "Delete",
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_a_node_handler_using_https_request_reaches_the_server(server: ServerProcess) -> None:
    outputs = create(server, "node-custom", node_template("wire"))
    assert outputs == {"Ref": "node-thing", "Greeting": "hello wire"}


def test_unknown_tokens_and_pages_are_refused(server: ServerProcess) -> None:
    path = "/_headwater/cloudformation/responses/" + "x" * 43
    status, _, _, answer = request_over_http(server, "PUT", path, {}, b"{}")
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in answer
    page = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    status, _, _, answer = request_over_http(server, "PUT", path, page, b"{}")
    assert status == 403
    assert b"does not answer web pages" in answer
