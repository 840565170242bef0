"""CDK's custom resource provider framework (``cr.Provider``) on ``headwater serve``, with
CDK's own framework code: the framework's onEvent function calls the user's onEvent, then
starts the waiter state machine, whose task polls the user's isComplete (Step Functions
retries) until it says complete; the framework answers CloudFormation (with
``https.request``, which headwater's Node.js bootstrap sends to its http ResponseURL).

The framework imports ``@aws-sdk/client-lambda`` and ``@aws-sdk/client-sfn``, which AWS's
nodejs runtime provides: the test gives them from the node tools cache (``.ci/run``
installs ``tools/node``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server
from tests.functional.cfn_support import body
from tests.integration.deploy_tools import cdk_handler_code

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/provider-role"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
FRAMEWORK = "aws-cdk-lib/custom-resources/lib/provider-framework/runtime"

#: The user's handlers: onEvent names the resource, isComplete says so on its third call.
ON_EVENT = """
def handler(event, context):
    name = event["ResourceProperties"]["Name"]
    return {"PhysicalResourceId": "slow-" + name, "Data": {"Greeting": "hello " + name}}
"""
IS_COMPLETE = """
import os

def handler(event, context):
    path = os.environ["COUNTER"]
    calls = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as out:
        out.write(str(calls))
    if calls < 3:
        return {"IsComplete": False}
    return {"IsComplete": True, "Data": {"Calls": str(calls)}}
"""


@pytest.fixture(scope="module")
def framework(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDK's framework code beside the SDK clients it imports."""
    destination = tmp_path_factory.mktemp("framework") / "runtime"
    return cdk_handler_code(FRAMEWORK, destination, ["client-lambda", "client-sfn"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("cdk-provider")) as running:
        yield running


def function(code: dict[str, Any], handler: str, **environment: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Code": code,
        "Handler": handler,
        "Role": ROLE,
        "Runtime": RUNTIME if "ZipFile" in code else "nodejs22.x",
        "Timeout": 30,
    }
    if environment:
        properties["Environment"] = {"Variables": environment}
    return {"Type": "AWS::Lambda::Function", "Properties": properties}


def provider_template(framework: Path, counter: Path) -> dict[str, Any]:
    """What ``new cr.Provider(this, 'Provider', {onEventHandler, isCompleteHandler,
    queryInterval: 1s})`` and a ``CustomResource`` on it synthesize (logging left out)."""
    code = {"Directory": str(framework)}
    framework_env = {
        "USER_ON_EVENT_FUNCTION_ARN": {"Fn::GetAtt": ["OnEvent", "Arn"]},
        "USER_IS_COMPLETE_FUNCTION_ARN": {"Fn::GetAtt": ["IsComplete", "Arn"]},
    }
    definition = {
        "StartAt": "framework-isComplete-task",
        "States": {
            "framework-isComplete-task": {
                "End": True,
                "Retry": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 30,
                        "BackoffRate": 1,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "framework-onTimeout-task"}],
                "Type": "Task",
                "Resource": "${isComplete}",
            },
            "framework-onTimeout-task": {"End": True, "Type": "Task", "Resource": "${onTimeout}"},
        },
    }
    return {
        "Resources": {
            "OnEvent": function({"ZipFile": ON_EVENT}, "index.handler"),
            "IsComplete": function({"ZipFile": IS_COMPLETE}, "index.handler", COUNTER=str(counter)),
            "ProviderframeworkonEvent": function(
                code,
                "framework.onEvent",
                WAITER_STATE_MACHINE_ARN={"Ref": "ProviderwaiterstatemachineC1FBB9F5"},
                **framework_env,
            ),
            "ProviderframeworkisComplete": function(code, "framework.isComplete", **framework_env),
            "ProviderframeworkonTimeout": function(code, "framework.onTimeout", **framework_env),
            "ProviderwaiterstatemachineC1FBB9F5": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": {
                        "Fn::Sub": [
                            json.dumps(definition),
                            {
                                "isComplete": {
                                    "Fn::GetAtt": ["ProviderframeworkisComplete", "Arn"]
                                },
                                "onTimeout": {"Fn::GetAtt": ["ProviderframeworkonTimeout", "Arn"]},
                            },
                        ]
                    },
                    "RoleArn": ROLE,
                },
            },
            "Slow": {
                "Type": "AWS::CloudFormation::CustomResource",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["ProviderframeworkonEvent", "Arn"]},
                    "Name": "thing",
                },
                "UpdateReplacePolicy": "Delete",
                "DeletionPolicy": "Delete",
            },
        },
        "Outputs": {
            "Ref": {"Value": {"Ref": "Slow"}},
            "Greeting": {"Value": {"Fn::GetAtt": ["Slow", "Greeting"]}},
            "Calls": {"Value": {"Fn::GetAtt": ["Slow", "Calls"]}},
        },
    }


def test_on_event_then_is_complete_polled_by_the_waiter_state_machine(
    server: ServerProcess, framework: Path, tmp_path: Path
) -> None:
    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    cfn.create_stack(
        StackName="provider", TemplateBody=body(provider_template(framework, tmp_path / "n"))
    )
    wait = {"Delay": 1, "MaxAttempts": 120}
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName="provider", WaiterConfig=wait)
    except WaiterError:
        events = cfn.describe_stack_events(StackName="provider")["StackEvents"]
        reasons = [
            (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
            for e in events
        ]
        raise AssertionError(reasons) from None
    stack = cfn.describe_stacks(StackName="provider")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    # isComplete's Data is merged over onEvent's, as the framework does
    assert outputs == {"Ref": "slow-thing", "Greeting": "hello thing", "Calls": "3"}

    cfn.delete_stack(StackName="provider")
    cfn.get_waiter("stack_delete_complete").wait(StackName="provider", WaiterConfig=wait)
