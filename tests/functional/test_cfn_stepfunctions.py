"""AWS::StepFunctions::StateMachine deployed through CloudFormation (Definition,
DefinitionString with DefinitionSubstitutions, DefinitionS3Location, tags, updates in
place, replacement on a new name) and SAM's AWS::Serverless::StateMachine running a
function."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater import Headwater
from headwater.services.stepfunctions.service import StepFunctionsService
from tests.functional.cfn_support import deploy, outputs_of, physical_ids

ROLE = "arn:aws:iam::000000000000:role/sfn"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def run_to_end(hw: Headwater, arn: str, payload: Any) -> dict[str, Any]:
    sfn = hw.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    service = hw.service("stepfunctions")
    assert isinstance(service, StepFunctionsService)
    assert service.runner.wait_idle(20)
    described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
    return described


def machines_template(greeting: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Resources": {
            "Inline": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "inline",
                    "RoleArn": ROLE,
                    "Definition": {
                        "StartAt": "Say",
                        "States": {"Say": {"Type": "Pass", "Result": greeting, "End": True}},
                    },
                    "Tags": tags,
                },
            },
            "Substituted": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": ROLE,
                    "StateMachineType": "EXPRESS",
                    "DefinitionString": json.dumps(
                        {
                            "StartAt": "Say",
                            "States": {"Say": {"Type": "Pass", "Result": "${word}", "End": True}},
                        }
                    ),
                    "DefinitionSubstitutions": {"word": greeting},
                },
            },
            "FromS3": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": ROLE,
                    "DefinitionS3Location": {"Bucket": "defs", "Key": "machine.json"},
                },
            },
        },
        "Outputs": {
            "InlineArn": {"Value": {"Ref": "Inline"}},
            "InlineName": {"Value": {"Fn::GetAtt": ["Inline", "Name"]}},
            "SubstitutedArn": {"Value": {"Fn::GetAtt": ["Substituted", "Arn"]}},
        },
    }


def test_state_machines_deploy_update_and_delete(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="defs")
    s3.put_object(
        Bucket="defs",
        Key="machine.json",
        Body=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}).encode(),
    )
    status = deploy(hw, "flows", machines_template("hello", [{"Key": "team", "Value": "a"}]))
    assert status == "CREATE_COMPLETE"
    outputs = outputs_of(hw, "flows")
    inline = outputs["InlineArn"]
    assert inline == "arn:aws:states:us-east-1:000000000000:stateMachine:inline"
    assert outputs["InlineName"] == "inline"
    assert json.loads(run_to_end(hw, inline, {})["output"]) == "hello"
    sync = hw.client("stepfunctions").start_sync_execution(
        stateMachineArn=outputs["SubstitutedArn"]
    )
    assert json.loads(sync["output"]) == "hello"
    ids = physical_ids(hw, "flows")
    assert run_to_end(hw, ids["FromS3"], {"k": 1})["status"] == "SUCCEEDED"

    assert deploy(hw, "flows", machines_template("bye", [{"Key": "env", "Value": "b"}])) == (
        "UPDATE_COMPLETE"
    )
    assert physical_ids(hw, "flows")["Inline"] == inline  # changed in place
    assert json.loads(run_to_end(hw, inline, {})["output"]) == "bye"
    tags = hw.client("stepfunctions").list_tags_for_resource(resourceArn=inline)["tags"]
    assert tags == [{"key": "env", "value": "b"}]

    hw.client("cloudformation").delete_stack(StackName="flows")
    assert hw.client("stepfunctions").list_state_machines()["stateMachines"] == []


HANDLER = """
def handler(event, context):
    return {"total": sum(event["numbers"])}
"""


def test_sam_state_machine_invokes_its_function(hw: Headwater) -> None:
    sam = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Adder": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": HANDLER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                },
            },
            "Flow": {
                "Type": "AWS::Serverless::StateMachine",
                "Properties": {
                    "Definition": {
                        "StartAt": "Add",
                        "States": {
                            "Add": {
                                "Type": "Task",
                                "Resource": "${AdderArn}",
                                "ResultPath": "$.sum",
                                "End": True,
                            }
                        },
                    },
                    "DefinitionSubstitutions": {"AdderArn": {"Fn::GetAtt": ["Adder", "Arn"]}},
                    "Policies": [{"LambdaInvokePolicy": {"FunctionName": {"Ref": "Adder"}}}],
                },
            },
        },
        "Outputs": {"FlowArn": {"Value": {"Ref": "Flow"}}},
    }
    status = deploy(hw, "sam", sam, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    assert status == "CREATE_COMPLETE"
    assert "FlowRole" in physical_ids(hw, "sam")
    described = run_to_end(hw, outputs_of(hw, "sam")["FlowArn"], {"numbers": [1, 2, 3]})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"numbers": [1, 2, 3], "sum": {"total": 6}}
