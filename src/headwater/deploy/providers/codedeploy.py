"""AWS::CodeDeploy::Application and AWS::CodeDeploy::DeploymentGroup through CodeDeploy's
operations, and the CodeDeploy deployment an alias update with a
``CodeDeployLambdaAliasUpdate`` UpdatePolicy runs instead of moving the alias itself.

CloudFormation's CodeDeploy properties are the API's members with a capital first letter
(``AlarmConfiguration: {Enabled, Alarms: [{Name}]}``); ``api_members`` lowers them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from headwater.core.tag_lists import tag_list
from headwater.deploy.errors import ResourceFailure
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    tags_dict,
    to_params,
)

MAX_NAME = 100
#: Real seconds between looks at a deployment when the service cannot be waited on directly.
POLL_SECONDS = 0.2


def api_members(value: Any) -> Any:
    """CloudFormation's ``PascalCase`` CodeDeploy properties as the API's ``camelCase``."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: api_members(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_members(item) for item in value]
    return value


def _ignore_missing(error: ClientError) -> None:
    code = error.response["Error"]["Code"]
    if code not in ("ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"):
        raise error


class ApplicationProvider(ResourceProvider):
    type_name = "AWS::CodeDeploy::Application"
    service = "codedeploy"
    operations = ("CreateApplication", "DeleteApplication")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("ApplicationName") or request.physical_name(MAX_NAME))
        params: dict[str, Any] = {
            "applicationName": name,
            "computePlatform": request.properties.get("ComputePlatform") or "Server",
        }
        tags = tags_dict(request.properties.get("Tags"))
        if tags:
            params["tags"] = api_members(tag_list(tags))
        request.client("codedeploy").create_application(**params)
        return ProviderResult(name, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        # Only Tags can change in place; headwater keeps an application's tags unread.
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        request.client("codedeploy").delete_application(applicationName=str(request.physical_id))


class DeploymentGroupProvider(ResourceProvider):
    type_name = "AWS::CodeDeploy::DeploymentGroup"
    service = "codedeploy"
    operations = ("CreateDeploymentGroup", "UpdateDeploymentGroup", "DeleteDeploymentGroup")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("DeploymentGroupName") or request.physical_name(MAX_NAME))
        members = api_members(request.properties)
        members["deploymentGroupName"] = name
        members.pop("deployment", None)  # a first deployment (EC2 revisions): not served
        params = to_params("codedeploy", "CreateDeploymentGroup", members)
        request.client("codedeploy").create_deployment_group(**params)
        return ProviderResult(name, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        members = api_members(request.properties)
        members["currentDeploymentGroupName"] = str(request.physical_id)
        members.pop("deploymentGroupName", None)
        params = to_params("codedeploy", "UpdateDeploymentGroup", members)
        request.client("codedeploy").update_deployment_group(**params)
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("codedeploy").delete_deployment_group(
                applicationName=str(request.properties["ApplicationName"]),
                deploymentGroupName=str(request.physical_id),
            )
        except ClientError as error:
            _ignore_missing(error)


def deploy_alias_version(request: ResourceRequest, policy: dict[str, Any]) -> bool:
    """Shift the alias to the template's ``FunctionVersion`` through a CodeDeploy
    deployment (``UpdatePolicy.CodeDeployLambdaAliasUpdate``) and wait for it, as
    CloudFormation does; False when there is nothing to shift (the alias is already on
    that version). A deployment that does not succeed fails the update (CodeDeploy has put
    the alias back by then)."""
    lam = request.client("lambda")
    function = str(request.properties["FunctionName"])
    alias = str(request.properties["Name"])
    target = str(request.properties["FunctionVersion"])
    current = str(lam.get_alias(FunctionName=function, Name=alias)["FunctionVersion"])
    if current == target:
        return False
    hooks = [
        {event: str(policy[key])}
        for event, key in (
            ("BeforeAllowTraffic", "BeforeAllowTrafficHook"),
            ("AfterAllowTraffic", "AfterAllowTrafficHook"),
        )
        if policy.get(key)
    ]
    appspec = {
        "version": 0.0,
        "Resources": [
            {
                alias: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": function,
                        "Alias": alias,
                        "CurrentVersion": current,
                        "TargetVersion": target,
                    },
                }
            }
        ],
        "Hooks": hooks,
    }
    codedeploy = request.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=str(policy["ApplicationName"]),
        deploymentGroupName=str(policy["DeploymentGroupName"]),
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(appspec)},
        },
    )["deploymentId"]
    info = _wait(codedeploy, deployment_id)
    if info["status"] != "Succeeded":
        error = info.get("errorInformation") or {}
        # Wording guessed: CloudFormation names the deployment and CodeDeploy's reason.
        raise ResourceFailure(
            f"CodeDeploy deployment {deployment_id} {info['status'].lower()}: "
            f"{error.get('message', 'the deployment did not succeed')}"
        )
    return True


def _wait(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    """The deployment's deploymentInfo once it has ended: waited on through the service
    (woken by its changes, on the headwater clock) when it is local, else polled."""
    service = getattr(codedeploy, "_service", None)
    if service is not None and hasattr(service, "wait_for_deployment"):
        context = getattr(codedeploy, "_context", None)
        found: dict[str, Any] = service.wait_for_deployment(deployment_id, context)
        return found
    while True:
        info: dict[str, Any] = codedeploy.get_deployment(deploymentId=deployment_id)[
            "deploymentInfo"
        ]
        if info["status"] in ("Succeeded", "Failed", "Stopped"):
            return info
        time.sleep(POLL_SECONDS)
