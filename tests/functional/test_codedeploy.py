"""CodeDeploy for Lambda: applications, deployment groups, configurations, and deployments
that shift an alias's traffic on the ManualClock, with hooks, alarms and stops."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.asgi_boto import in_process_aws

ROLE = "arn:aws:iam::000000000000:role/codedeploy"

HANDLER = """
import json, os

def handler(event, context):
    if os.environ.get("JOURNAL"):
        with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\\n")
    return {"code": "CODE", "version": context.function_version}
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def zipped(tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER.replace("CODE", tag))
    return buffer.getvalue()


def two_versions(hw: Headwater) -> None:
    """Function ``f`` with versions 1 and 2 and alias ``live`` on version 1."""
    lam = hw.lambda_
    lam.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda",
        Handler="app.handler",
        Code={"ZipFile": zipped("v1")},
    )
    lam.publish_version(FunctionName="f")
    lam.update_function_code(FunctionName="f", ZipFile=zipped("v2"))
    lam.publish_version(FunctionName="f")
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")


def hook_function(hw: Headwater, name: str, journal: Path) -> None:
    hw.lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda",
        Handler="app.handler",
        Code={"ZipFile": zipped("hook")},
        Environment={"Variables": {"JOURNAL": str(journal)}},
    )


def group(hw: Headwater, config: str, **extra: Any) -> None:
    cd = hw.client("codedeploy")
    cd.create_application(applicationName="app", computePlatform="Lambda")
    cd.create_deployment_group(
        applicationName="app",
        deploymentGroupName="group",
        serviceRoleArn=ROLE,
        deploymentConfigName=config,
        **extra,
    )


def appspec(hooks: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                "fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": "f",
                        "Alias": "live",
                        "CurrentVersion": "1",
                        "TargetVersion": "2",
                    },
                }
            }
        ],
    }
    if hooks:
        spec["Hooks"] = [{event: function} for event, function in hooks.items()]
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(spec)}}


def deploy(hw: Headwater, hooks: dict[str, str] | None = None) -> str:
    created = hw.client("codedeploy").create_deployment(
        applicationName="app", deploymentGroupName="group", revision=appspec(hooks)
    )
    return str(created["deploymentId"])


def alias(hw: Headwater) -> tuple[str, dict[str, float]]:
    found = hw.lambda_.get_alias(FunctionName="f", Name="live")
    return found["FunctionVersion"], found.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights", {}
    )


def info(hw: Headwater, deployment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = hw.client("codedeploy").get_deployment(deploymentId=deployment_id)[
        "deploymentInfo"
    ]
    return found


def hook_events(hw: Headwater, journal: Path) -> list[dict[str, Any]]:
    assert hw.service("lambda").wait_for_event_invocations()
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines()]


# -- applications, groups, configurations ---------------------------------------------------


def test_applications_and_groups_are_created_read_listed_and_deleted(hw: Headwater) -> None:
    group(
        hw,
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        alarmConfiguration={"enabled": True, "alarms": [{"name": "errors"}]},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    )
    cd = hw.client("codedeploy")
    application = cd.get_application(applicationName="app")["application"]
    assert application["computePlatform"] == "Lambda"
    assert cd.list_applications()["applications"] == ["app"]
    found = cd.get_deployment_group(applicationName="app", deploymentGroupName="group")[
        "deploymentGroupInfo"
    ]
    assert found["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert found["alarmConfiguration"]["alarms"] == [{"name": "errors"}]
    assert found["serviceRoleArn"] == ROLE
    cd.update_deployment_group(
        applicationName="app",
        currentDeploymentGroupName="group",
        newDeploymentGroupName="renamed",
        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
    )
    assert cd.list_deployment_groups(applicationName="app")["deploymentGroups"] == ["renamed"]
    renamed = cd.get_deployment_group(applicationName="app", deploymentGroupName="renamed")
    assert renamed["deploymentGroupInfo"]["deploymentConfigName"].endswith("LambdaAllAtOnce")
    cd.delete_deployment_group(applicationName="app", deploymentGroupName="renamed")
    assert cd.list_deployment_groups(applicationName="app")["deploymentGroups"] == []
    cd.delete_application(applicationName="app")
    assert cd.list_applications()["applications"] == []


def test_missing_and_duplicate_names_are_refused_with_codedeploy_errors(hw: Headwater) -> None:
    cd = hw.client("codedeploy")
    with pytest.raises(cd.exceptions.ApplicationDoesNotExistException, match="No application"):
        cd.get_application(applicationName="nothing")
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    with pytest.raises(cd.exceptions.ApplicationAlreadyExistsException):
        cd.create_application(applicationName="app", computePlatform="Lambda")
    with pytest.raises(cd.exceptions.DeploymentGroupAlreadyExistsException):
        cd.create_deployment_group(
            applicationName="app", deploymentGroupName="group", serviceRoleArn=ROLE
        )
    with pytest.raises(cd.exceptions.DeploymentGroupDoesNotExistException):
        cd.get_deployment_group(applicationName="app", deploymentGroupName="other")
    with pytest.raises(cd.exceptions.DeploymentConfigDoesNotExistException):
        cd.create_deployment_group(
            applicationName="app",
            deploymentGroupName="other",
            serviceRoleArn=ROLE,
            deploymentConfigName="CodeDeployDefault.OneAtATime",
        )
    with pytest.raises(cd.exceptions.InvalidComputePlatformException):
        cd.create_application(applicationName="servers", computePlatform="Server")
    with pytest.raises(cd.exceptions.DeploymentDoesNotExistException):
        cd.get_deployment(deploymentId="d-AAAAAAAAA")


def test_the_predefined_lambda_configurations_are_listed_and_described(hw: Headwater) -> None:
    cd = hw.client("codedeploy")
    names = cd.list_deployment_configs()["deploymentConfigsList"]
    assert "CodeDeployDefault.LambdaAllAtOnce" in names
    assert "CodeDeployDefault.LambdaLinear10PercentEvery1Minute" in names
    assert "CodeDeployDefault.LambdaCanary10Percent30Minutes" in names
    canary = cd.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes"
    )["deploymentConfigInfo"]
    assert canary["computePlatform"] == "Lambda"
    assert canary["trafficRoutingConfig"] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    }
    linear = cd.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
    )["deploymentConfigInfo"]
    assert linear["trafficRoutingConfig"]["timeBasedLinear"] == {
        "linearPercentage": 10,
        "linearInterval": 3,
    }


# -- traffic shifting ----------------------------------------------------------------------


def test_a_canary_sends_ten_percent_then_everything_after_its_interval(
    hw: Headwater, clock: ManualClock
) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    deployment = deploy(hw)
    assert alias(hw) == ("1", {"2": 0.1})
    assert info(hw, deployment)["status"] == "InProgress"
    clock.advance(299)
    assert alias(hw) == ("1", {"2": 0.1})
    clock.advance(1)
    assert alias(hw) == ("2", {})
    found = info(hw, deployment)
    assert found["status"] == "Succeeded"
    assert found["deploymentOverview"]["Succeeded"] == 1
    assert hw.client("codedeploy").list_deployments(
        applicationName="app", deploymentGroupName="group", includeOnlyStatuses=["Succeeded"]
    )["deployments"] == [deployment]


def test_a_linear_deployment_steps_ten_percent_a_minute(hw: Headwater, clock: ManualClock) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    deployment = deploy(hw)
    seen = [alias(hw)[1]["2"]]
    for _ in range(8):
        clock.advance(60)
        seen.append(alias(hw)[1]["2"])
    assert seen == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert info(hw, deployment)["status"] == "InProgress"
    clock.advance(60)
    assert alias(hw) == ("2", {})
    assert info(hw, deployment)["status"] == "Succeeded"


def test_all_at_once_moves_the_alias_when_the_deployment_is_created(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    deployment = deploy(hw)
    assert alias(hw) == ("2", {})
    assert info(hw, deployment)["status"] == "Succeeded"


def test_invocations_of_the_alias_follow_the_canary_weight(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    deploy(hw)
    versions = Counter(
        hw.lambda_.invoke(FunctionName="f", Qualifier="live")["ExecutedVersion"]
        for _ in range(1000)
    )
    assert abs(versions["2"] / 1000 - 0.1) <= 0.04
    assert versions["1"] + versions["2"] == 1000


# -- hooks ---------------------------------------------------------------------------------


def test_hooks_are_invoked_and_the_deployment_waits_for_their_status(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    two_versions(hw)
    journal = tmp_path / "hooks.jsonl"
    hook_function(hw, "pre", journal)
    hook_function(hw, "post", journal)
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    deployment = deploy(hw, {"BeforeAllowTraffic": "pre", "AfterAllowTraffic": "post"})
    [before] = hook_events(hw, journal)
    assert set(before) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert before["DeploymentId"] == deployment
    clock.advance(600)
    assert alias(hw) == ("1", {})  # no traffic moves before the hook reports
    cd = hw.client("codedeploy")
    cd.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment,
        lifecycleEventHookExecutionId=before["LifecycleEventHookExecutionId"],
        status="Succeeded",
    )
    assert alias(hw) == ("2", {})
    assert info(hw, deployment)["status"] == "InProgress"  # AfterAllowTraffic runs
    _, after = hook_events(hw, journal)
    assert after["LifecycleEventHookExecutionId"] != before["LifecycleEventHookExecutionId"]
    cd.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment,
        lifecycleEventHookExecutionId=after["LifecycleEventHookExecutionId"],
        status="Succeeded",
    )
    assert info(hw, deployment)["status"] == "Succeeded"
    with pytest.raises(cd.exceptions.LifecycleEventAlreadyCompletedException):
        cd.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment,
            lifecycleEventHookExecutionId=after["LifecycleEventHookExecutionId"],
            status="Failed",
        )
    with pytest.raises(cd.exceptions.InvalidLifecycleEventHookExecutionIdException):
        cd.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment, lifecycleEventHookExecutionId="nope", status="Succeeded"
        )


def test_a_failed_after_traffic_hook_rolls_the_alias_back(hw: Headwater, tmp_path: Path) -> None:
    two_versions(hw)
    journal = tmp_path / "hooks.jsonl"
    hook_function(hw, "post", journal)
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    deployment = deploy(hw, {"AfterAllowTraffic": "post"})
    assert alias(hw) == ("2", {})
    [after] = hook_events(hw, journal)
    hw.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment,
        lifecycleEventHookExecutionId=after["LifecycleEventHookExecutionId"],
        status="Failed",
    )
    assert alias(hw) == ("1", {})
    found = info(hw, deployment)
    assert found["status"] == "Failed"
    assert found["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"


def test_a_hook_that_never_reports_fails_the_deployment_after_an_hour(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    two_versions(hw)
    hook_function(hw, "pre", tmp_path / "hooks.jsonl")
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    deployment = deploy(hw, {"BeforeAllowTraffic": "pre"})
    clock.advance(3599)
    assert info(hw, deployment)["status"] == "InProgress"
    clock.advance(1)
    found = info(hw, deployment)
    assert found["status"] == "Failed"
    assert found["errorInformation"]["code"] == "TIMEOUT"
    assert alias(hw) == ("1", {})


# -- alarms and stops ----------------------------------------------------------------------


def test_an_alarm_in_alarm_stops_the_deployment_and_rolls_back(
    hw: Headwater, clock: ManualClock
) -> None:
    two_versions(hw)
    cloudwatch = hw.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    group(
        hw,
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        alarmConfiguration={"enabled": True, "alarms": [{"name": "errors"}]},
    )
    deployment = deploy(hw)
    clock.advance(60)
    assert alias(hw) == ("1", {"2": 0.2})
    cloudwatch.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="test")
    clock.advance(1)
    assert alias(hw) == ("1", {})
    found = info(hw, deployment)
    assert found["status"] == "Failed"
    assert found["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert "errors" in found["errorInformation"]["message"]


def test_stop_deployment_puts_the_alias_back(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    deployment = deploy(hw)
    cd = hw.client("codedeploy")
    assert cd.stop_deployment(deploymentId=deployment)["status"] == "Succeeded"
    assert alias(hw) == ("1", {})
    found = info(hw, deployment)
    assert found["status"] == "Stopped"
    assert found["errorInformation"]["code"] == "MANUAL_STOP"
    with pytest.raises(ClientError) as raised:
        cd.stop_deployment(deploymentId=deployment)
    assert raised.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"


def test_a_revision_without_an_appspec_is_refused(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    cd = hw.client("codedeploy")
    with pytest.raises(cd.exceptions.InvalidRevisionException):
        cd.create_deployment(
            applicationName="app",
            deploymentGroupName="group",
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": '{"Resources": []}'},
            },
        )
    assert cd.list_deployments()["deployments"] == []


def test_boto3_over_the_wire_reaches_codedeploy(hw: Headwater) -> None:
    with in_process_aws(hw) as aws:
        cd = aws.client("codedeploy")
        cd.create_application(applicationName="wired", computePlatform="Lambda")
        assert cd.get_application(applicationName="wired")["application"]["computePlatform"] == (
            "Lambda"
        )
        with pytest.raises(ClientError) as raised:
            cd.get_application(applicationName="missing")
    assert raised.value.response["Error"] == {
        "Code": "ApplicationDoesNotExistException",
        "Message": "No application found for name: missing",
    }


def test_one_deployment_at_a_time_per_group(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    first = deploy(hw)
    cd = hw.client("codedeploy")
    with pytest.raises(cd.exceptions.DeploymentLimitExceededException, match=first):
        deploy(hw)
    cd.stop_deployment(deploymentId=first)
    assert deploy(hw) != first


def test_a_deployment_of_a_missing_alias_fails(hw: Headwater) -> None:
    two_versions(hw)
    hw.lambda_.delete_alias(FunctionName="f", Name="live")
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    found = info(hw, deploy(hw))
    assert found["status"] == "Failed"
    assert found["errorInformation"]["code"] == "INVALID_LAMBDA_CONFIGURATION"


def test_a_hook_function_that_does_not_exist_fails_the_deployment(hw: Headwater) -> None:
    two_versions(hw)
    group(hw, "CodeDeployDefault.LambdaAllAtOnce")
    found = info(hw, deploy(hw, {"BeforeAllowTraffic": "no-such-hook"}))
    assert found["status"] == "Failed"
    assert found["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert alias(hw) == ("1", {})
