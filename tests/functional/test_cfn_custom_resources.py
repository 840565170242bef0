"""AWS::CloudFormation::CustomResource and Custom::* types: CloudFormation's request reaches
the ServiceToken's function (or topic), the answer it PUTs to the ResponseURL gives Ref and
GetAtt, FAILED fails the resource, and a new physical id on update retires the old one."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater
from headwater.api.http import WireRequest
from headwater.deploy.custom_responses import RESPONSE_PREFIX
from headwater.server.asgi import create_app
from tests.functional.cfn_support import deploy, events_of, outputs_of, physical_ids, stack_of

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

#: A handler answering as cfnresponse does (a plain PUT of JSON to the ResponseURL), and
#: keeping every request it gets in the file RECORD names.
HANDLER = """
import json, os, urllib.request

def handler(event, context):
    with open(os.environ["RECORD"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    props = event["ResourceProperties"]
    fail = props.get("Fail") == event["RequestType"]
    physical = event.get("PhysicalResourceId") or "thing-" + props["Name"]
    if event["RequestType"] == "Update" and props.get("Rename") == "yes":
        physical = "thing-" + props["Name"]
    body = {
        "Status": "FAILED" if fail else "SUCCESS",
        "Reason": "asked to fail" if fail else "",
        "PhysicalResourceId": physical,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Greeting": "hello " + props["Name"], "Count": props.get("Count", "")},
    }
    data = json.dumps(body).encode()
    request = urllib.request.Request(event["ResponseURL"], data=data, method="PUT")
    request.add_header("content-type", "")
    request.add_header("content-length", str(len(data)))
    urllib.request.urlopen(request).read()
"""


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    app = Headwater.in_memory(functions="inline")
    try:
        yield app
    finally:
        app.close()


def template(record: Path, **properties: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": RUNTIME,
                    "Handler": "index.handler",
                    "Role": ROLE,
                    "Code": {"ZipFile": HANDLER},
                    "Environment": {"Variables": {"RECORD": str(record)}},
                },
            },
            "Thing": {
                "Type": "Custom::Thing",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                    "ServiceTimeout": 20,
                    **properties,
                },
            },
        },
        "Outputs": {
            "Ref": {"Value": {"Ref": "Thing"}},
            "Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}},
        },
    }


def requests_of(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_create_update_delete_send_cloudformations_requests(hw: Headwater, tmp_path: Path) -> None:
    record = tmp_path / "requests"
    first = template(record, Name="one", Count=5, Enabled=True, Nested={"List": [1, False]})
    assert deploy(hw, "custom", first) == "CREATE_COMPLETE"
    assert outputs_of(hw, "custom") == {"Ref": "thing-one", "Greeting": "hello one"}
    assert physical_ids(hw, "custom")["Thing"] == "thing-one"
    [create] = requests_of(record)
    stack_id = stack_of(hw, "custom")["StackId"]
    assert create["RequestType"] == "Create"
    assert create["StackId"] == stack_id
    assert create["ResourceType"] == "Custom::Thing"
    assert create["LogicalResourceId"] == "Thing"
    assert "PhysicalResourceId" not in create
    function_arn = create["ServiceToken"]
    assert function_arn.startswith("arn:aws:lambda:us-east-1:000000000000:function:")
    # numbers and booleans arrive as strings, at any depth; ServiceToken included
    assert create["ResourceProperties"] == {
        "ServiceToken": function_arn,
        "ServiceTimeout": "20",
        "Name": "one",
        "Count": "5",
        "Enabled": "true",
        "Nested": {"List": ["1", "false"]},
    }

    second = template(record, Name="two", Count=6)
    assert deploy(hw, "custom", second) == "UPDATE_COMPLETE"
    update = requests_of(record)[1]
    assert update["RequestType"] == "Update"
    assert update["PhysicalResourceId"] == "thing-one"
    assert update["OldResourceProperties"]["Name"] == "one"
    assert update["ResourceProperties"]["Name"] == "two"
    # the same physical id: an update in place, GetAtt reads the new Data
    assert outputs_of(hw, "custom") == {"Ref": "thing-one", "Greeting": "hello two"}

    hw.client("cloudformation").delete_stack(StackName="custom")
    delete = requests_of(record)[2]
    assert delete["RequestType"] == "Delete"
    assert delete["PhysicalResourceId"] == "thing-one"
    assert delete["ResourceProperties"]["Name"] == "two"
    assert len(requests_of(record)) == 3


def test_a_new_physical_id_on_update_deletes_the_old_one_in_cleanup(
    hw: Headwater, tmp_path: Path
) -> None:
    record = tmp_path / "requests"
    assert deploy(hw, "custom", template(record, Name="one")) == "CREATE_COMPLETE"
    assert deploy(hw, "custom", template(record, Name="two", Rename="yes")) == "UPDATE_COMPLETE"
    kinds = [(r["RequestType"], r.get("PhysicalResourceId")) for r in requests_of(record)]
    assert kinds == [("Create", None), ("Update", "thing-one"), ("Delete", "thing-one")]
    assert outputs_of(hw, "custom")["Ref"] == "thing-two"
    assert ("Thing", "DELETE_COMPLETE") in events_of(hw, "custom")


def test_failed_fails_the_resource_with_its_reason_and_rolls_back(
    hw: Headwater, tmp_path: Path
) -> None:
    record = tmp_path / "requests"
    assert deploy(hw, "custom", template(record, Name="one", Fail="Create")) == "ROLLBACK_COMPLETE"
    events = hw.client("cloudformation").describe_stack_events(StackName="custom")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Thing"
    assert failed[0]["ResourceStatusReason"] == (
        "Received response status [FAILED] from custom resource. Message returned: asked to fail"
    )
    # the id its FAILED answer named gets a Delete in the rollback, as on AWS
    kinds = [(r["RequestType"], r.get("PhysicalResourceId")) for r in requests_of(record)]
    assert kinds == [("Create", None), ("Delete", "thing-one")]


def test_a_custom_resource_an_update_fails_to_add_is_deleted_in_the_rollback(
    hw: Headwater, tmp_path: Path
) -> None:
    record = tmp_path / "requests"
    document = template(record, Name="one")
    assert deploy(hw, "custom", document) == "CREATE_COMPLETE"
    document["Resources"]["Other"] = {
        "Type": "Custom::Other",
        "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
            "Name": "other",
            "Fail": "Create",
        },
    }
    assert deploy(hw, "custom", document) == "UPDATE_ROLLBACK_COMPLETE"
    other = [
        (r["RequestType"], r.get("PhysicalResourceId"))
        for r in requests_of(record)
        if r["LogicalResourceId"] == "Other"
    ]
    assert other == [("Create", None), ("Delete", "thing-other")]
    assert "Other" not in physical_ids(hw, "custom")


def test_a_failed_update_rolls_back_to_the_old_properties(hw: Headwater, tmp_path: Path) -> None:
    record = tmp_path / "requests"
    assert deploy(hw, "custom", template(record, Name="one")) == "CREATE_COMPLETE"
    status = deploy(hw, "custom", template(record, Name="two", Fail="Update"))
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert outputs_of(hw, "custom") == {"Ref": "thing-one", "Greeting": "hello one"}


def test_the_service_token_cannot_change(hw: Headwater, tmp_path: Path) -> None:
    record = tmp_path / "requests"
    assert deploy(hw, "custom", template(record, Name="one")) == "CREATE_COMPLETE"
    changed = template(record, Name="one")
    changed["Resources"]["Thing"]["Properties"]["ServiceToken"] = (
        "arn:aws:lambda:us-east-1:000000000000:function:other"
    )
    assert deploy(hw, "custom", changed) == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason")
        for e in hw.client("cloudformation").describe_stack_events(StackName="custom")[
            "StackEvents"
        ]
        if e["ResourceStatus"] == "UPDATE_FAILED"
    ]
    assert "Modifying service token is not allowed." in reasons


def test_no_answer_fails_after_the_service_timeout(hw: Headwater, tmp_path: Path) -> None:
    document = template(tmp_path / "requests", Name="one")
    document["Resources"]["Handler"]["Properties"]["Code"] = {
        "ZipFile": "def handler(event, context):\n    return None\n"
    }
    document["Resources"]["Thing"]["Properties"]["ServiceTimeout"] = 1
    assert deploy(hw, "custom", document) == "ROLLBACK_COMPLETE"
    events = hw.client("cloudformation").describe_stack_events(StackName="custom")["StackEvents"]
    [failed] = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["ResourceStatusReason"].startswith(
        "CloudFormation did not receive a response from your Custom Resource."
    )


def test_a_response_url_takes_one_answer_and_unknown_tokens_are_refused(hw: Headwater) -> None:
    responses = hw.service("cloudformation").custom_responses  # type: ignore[attr-defined]
    token, url = responses.expect()
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/_headwater/cloudformation/responses/" + token)

    def put(target: str) -> int:
        request = urllib.request.Request(target, data=b'{"Status": "SUCCESS"}', method="PUT")
        try:
            with urllib.request.urlopen(request) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    assert put(url[: -len(token)] + "x" * len(token)) == 403
    assert put(url) == 200
    assert put(url) == 403  # single use
    assert responses.wait(token, 1) == b'{"Status": "SUCCESS"}'


def test_an_sns_topic_gets_the_request_as_its_message(hw: Headwater, tmp_path: Path) -> None:
    record = tmp_path / "requests"
    document = template(record, Name="one")
    document["Resources"]["Topic"] = {"Type": "AWS::SNS::Topic"}
    document["Resources"]["Subscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "TopicArn": {"Ref": "Topic"},
            "Protocol": "lambda",
            "Endpoint": {"Fn::GetAtt": ["Handler", "Arn"]},
        },
    }
    # the handler reads the request out of the SNS record
    code = HANDLER.replace(
        "def handler(event, context):\n",
        "def handler(event, context):\n"
        "    event = json.loads(event['Records'][0]['Sns']['Message'])\n",
    )
    document["Resources"]["Handler"]["Properties"]["Code"] = {"ZipFile": code}
    thing = document["Resources"]["Thing"]
    thing["Properties"]["ServiceToken"] = {"Ref": "Topic"}
    thing["DependsOn"] = "Subscription"
    assert deploy(hw, "custom", document) == "CREATE_COMPLETE"
    assert outputs_of(hw, "custom")["Greeting"] == "hello one"
    [create] = requests_of(record)
    assert create["ServiceToken"].startswith("arn:aws:sns:us-east-1:000000000000:")


#: A Node.js handler answering as CDK's do (S3 auto-delete, AwsCustomResource): https.request
#: with the URL's hostname and path only, no protocol or port.
NODE_HANDLER = """
const https = require('https');
const url = require('url');
exports.handler = async (event) => {
  const parsed = url.parse(event.ResponseURL);
  const body = JSON.stringify({
    Status: 'SUCCESS', Reason: '', PhysicalResourceId: 'node-thing', StackId: event.StackId,
    RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId,
    Data: {Greeting: 'hello ' + event.ResourceProperties.Name},
  });
  await new Promise((resolve, reject) => {
    const request = https.request({hostname: parsed.hostname, path: parsed.path, method: 'PUT',
      headers: {'content-type': '', 'content-length': Buffer.byteLength(body, 'utf8')}},
      (response) => { response.resume(); response.on('end', resolve); });
    request.on('error', reject);
    request.write(body);
    request.end();
  });
};
"""


def node_template(name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "nodejs20.x",
                    "Handler": "index.handler",
                    "Role": ROLE,
                    "Code": {"ZipFile": NODE_HANDLER},
                },
            },
            "Thing": {
                "Type": "AWS::CloudFormation::CustomResource",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                    "ServiceTimeout": "30",
                    "Name": name,
                },
            },
        },
        "Outputs": {
            "Ref": {"Value": {"Ref": "Thing"}},
            "Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}},
        },
    }


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_a_node_handler_answering_with_https_request_as_cdks_do(hw: Headwater) -> None:
    assert deploy(hw, "node", node_template("node")) == "CREATE_COMPLETE"
    assert outputs_of(hw, "node") == {"Ref": "node-thing", "Greeting": "hello node"}
    stack_id = stack_of(hw, "node")["StackId"]
    hw.client("cloudformation").delete_stack(StackName="node")
    assert stack_of(hw, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_a_change_set_creates_and_then_updates_a_custom_resource(
    hw: Headwater, tmp_path: Path
) -> None:
    record = tmp_path / "requests"
    cfn = hw.client("cloudformation")
    for kind, name in (("CREATE", "one"), ("UPDATE", "two")):
        cfn.create_change_set(
            StackName="custom",
            ChangeSetName=f"set-{name}",
            ChangeSetType=kind,
            TemplateBody=json.dumps(template(record, Name=name)),
            Capabilities=["CAPABILITY_IAM"],
        )
        described = cfn.describe_change_set(StackName="custom", ChangeSetName=f"set-{name}")
        actions = {
            c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"]
            for c in described["Changes"]
        }
        assert actions["Thing"] == ("Add" if kind == "CREATE" else "Modify")
        cfn.execute_change_set(StackName="custom", ChangeSetName=f"set-{name}")
        assert outputs_of(hw, "custom")["Greeting"] == f"hello {name}"
    assert [r["RequestType"] for r in requests_of(record)] == ["Create", "Update"]


#: Inline code using the modules CloudFormation packages with it (cfnresponse, cfn-response).
CFNRESPONSE_PYTHON = """
import cfnresponse

def handler(event, context):
    name = event["ResourceProperties"]["Name"]
    cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Greeting": "hello " + name},
                     "py-" + name)
"""
CFN_RESPONSE_NODE = """
const response = require('cfn-response');
exports.handler = function (event, context) {
  const name = event.ResourceProperties.Name;
  response.send(event, context, response.SUCCESS, {Greeting: 'hello ' + name}, 'js-' + name);
};
"""


@pytest.mark.parametrize(
    ("runtime", "source", "prefix"),
    [
        (RUNTIME, CFNRESPONSE_PYTHON, "py"),
        pytest.param(
            "nodejs20.x",
            CFN_RESPONSE_NODE,
            "js",
            marks=pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
        ),
    ],
)
def test_inline_code_gets_the_cfn_response_module(
    hw: Headwater, runtime: str, source: str, prefix: str
) -> None:
    document = node_template("mod")
    handler = document["Resources"]["Handler"]["Properties"]
    handler["Runtime"] = runtime
    handler["Code"] = {"ZipFile": source}
    assert deploy(hw, "modules", document) == "CREATE_COMPLETE"
    assert outputs_of(hw, "modules") == {"Ref": f"{prefix}-mod", "Greeting": "hello mod"}


def test_a_secret_reference_reaches_the_function_as_written(hw: Headwater, tmp_path: Path) -> None:
    # AWS resolves no secure dynamic reference in a custom resource's properties
    hw.client("secretsmanager").create_secret(Name="pw", SecretString="hunter2")
    record = tmp_path / "requests"
    reference = "{{resolve:secretsmanager:pw}}"
    assert deploy(hw, "custom", template(record, Name="one", Password=reference)) == (
        "CREATE_COMPLETE"
    )
    [create] = requests_of(record)
    assert create["ResourceProperties"]["Password"] == reference


def test_the_servers_response_path_takes_one_answer_and_refuses_pages(hw: Headwater) -> None:
    app = create_app(hw)
    responses = hw.service("cloudformation").custom_responses  # type: ignore[attr-defined]
    token, _ = responses.expect()

    def put(method: str = "PUT", **headers: str) -> int:
        request = WireRequest(
            method=method,
            raw_path=RESPONSE_PREFIX + token,
            query_string="",
            headers={"host": "127.0.0.1:4599", **headers},
            body=b'{"Status": "SUCCESS"}',
        )
        return asyncio.run(app.respond(request)).status

    assert put(origin="https://evil.example") == 403
    assert put(**{"sec-fetch-site": "cross-site"}) == 403
    assert put(host="evil.example") == 403
    assert put("GET") == 403
    assert put() == 200
    assert put() == 403  # spent
    assert responses.wait(token, 1) == b'{"Status": "SUCCESS"}'
