"""SAM's DeploymentPreference: a redeployed function's alias shifts through CodeDeploy.

The SAM translator writes a CodeDeploy application, a deployment group and its role, and
a ``CodeDeployLambdaAliasUpdate`` UpdatePolicy on the AutoPublishAlias. On an update that
publishes a new version, the alias update runs a CodeDeploy deployment (its PreTraffic
hook reports through boto3, as a real hook does) and the stack update waits for it on the
ManualClock; a hook that reports Failed rolls the stack back and the alias stays put.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from tests.functional.cfn_support import deploy as submit
from tests.functional.cfn_support import events_of, physical_ids, stack_of, status_of

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers

HOOK = """
import os
import boto3

def handler(event, context):
    boto3.client("codedeploy", region_name="us-east-1").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=os.environ["OUTCOME"],
    )
"""


def block(code: str) -> str:
    """``code`` as a YAML literal block under a property (eight spaces in)."""
    return "|\n" + "".join(f"        {line}\n" for line in code.strip("\n").splitlines())


def template(code: str, outcome: str = "Succeeded") -> str:
    function = block(f"def handler(event, context):\n    return {code!r}")
    return f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: {function}
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Linear10PercentEvery1Minute
        Hooks:
          PreTraffic: !Ref PreTrafficHook
  PreTrafficHook:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: CodeDeployHook_pre
      Runtime: python3.12
      Handler: index.handler
      InlineCode: {block(HOOK)}
      Environment:
        Variables:
          OUTCOME: {outcome}
      DeploymentPreference:
        Enabled: false
Outputs:
  Function:
    Value: !Ref Fn
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline", "endpoint_url": ENDPOINT, "cloudformation_wait_seconds": 0}


@pytest.fixture
def wired(hw: Headwater) -> Iterator[Headwater]:
    with boto3_in_process(hw):
        yield hw


def deploy(hw: Headwater, name: str, body: str) -> str:
    return submit(hw, name, body, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])


def finish(hw: Headwater, stack: str) -> str:
    cfn: Any = hw.service("cloudformation")
    cfn.wait_for(stack_of(hw, stack)["StackId"], timeout=30)
    return status_of(hw, stack)


def live(hw: Headwater) -> tuple[str, dict[str, float]]:
    function = physical_ids(hw, "app")["Fn"]
    found = hw.lambda_.get_alias(FunctionName=function, Name="live")
    return found["FunctionVersion"], found.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights", {}
    )


def invoke_live(hw: Headwater) -> str:
    function = physical_ids(hw, "app")["Fn"]
    response = hw.lambda_.invoke(FunctionName=function, Qualifier="live")
    return str(response["Payload"].read().decode())


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    """Until ``condition()`` holds (the stack update runs on its own thread)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("condition not reached")


def test_a_redeploy_shifts_the_alias_linearly_and_ends_on_the_new_version(
    wired: Headwater, clock: ManualClock
) -> None:
    hw = wired
    deploy(hw, "app", template("one"))
    assert finish(hw, "app") == "CREATE_COMPLETE"
    assert live(hw) == ("1", {})
    ids = physical_ids(hw, "app")
    assert ids["ServerlessDeploymentApplication"]
    assert ids["FnDeploymentGroup"]

    deploy(hw, "app", template("two"))
    # The PreTraffic hook runs and reports Succeeded; then 10 % goes to version 2.
    wait_until(lambda: live(hw) == ("1", {"2": 0.1}))
    assert status_of(hw, "app") == "UPDATE_IN_PROGRESS"
    clock.advance(60)
    assert live(hw) == ("1", {"2": 0.2})
    for _ in range(8):
        clock.advance(60)
    assert finish(hw, "app") == "UPDATE_COMPLETE"
    assert live(hw) == ("2", {})
    assert invoke_live(hw) == '"two"'
    codedeploy = hw.client("codedeploy")
    [deployment] = codedeploy.list_deployments()["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Succeeded"
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"


def test_a_failing_pre_traffic_hook_rolls_the_update_back(
    wired: Headwater, clock: ManualClock
) -> None:
    hw = wired
    deploy(hw, "app", template("one"))
    assert finish(hw, "app") == "CREATE_COMPLETE"

    deploy(hw, "app", template("two", outcome="Failed"))
    assert finish(hw, "app") == "UPDATE_ROLLBACK_COMPLETE"
    assert live(hw) == ("1", {})
    assert invoke_live(hw) == '"one"'
    assert ("FnAliaslive", "UPDATE_FAILED") in events_of(hw, "app")
    codedeploy = hw.client("codedeploy")
    [deployment] = codedeploy.list_deployments()["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"


def test_closing_headwater_ends_a_stack_update_waiting_on_a_deployment(clock: ManualClock) -> None:
    hw = Headwater.in_memory(
        clock=clock, functions="inline", endpoint_url=ENDPOINT, cloudformation_wait_seconds=0
    )
    # CodeDeploy made before CloudFormation: services close in reverse order, so the stack
    # update's wait must end on its own when closing starts
    hw.client("codedeploy").list_applications()
    with boto3_in_process(hw):
        deploy(hw, "app", template("one"))
        assert finish(hw, "app") == "CREATE_COMPLETE"
        deploy(hw, "app", template("two"))
        wait_until(lambda: live(hw) == ("1", {"2": 0.1}))
        closer = threading.Thread(target=hw.close)
        closer.start()
        closer.join(timeout=10)
    assert not closer.is_alive()
