"""``CodeDeployService``: applications, deployment groups, the predefined Lambda deployment
configurations, and Lambda deployments (``deployments.py``).

Only the Lambda compute platform is served: an application of another platform is
refused when it is created, as are EC2/ECS settings of a deployment group (nothing here
could deploy them).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, ServiceEnvironment, operation
from headwater.services.codedeploy.configs import LAMBDA_CONFIGS, describe_config
from headwater.services.codedeploy.deployments import (
    DeploymentOperations,
    not_found_application,
    not_found_group,
    public,
)
from headwater.services.codedeploy.store import APPLICATION, DEPLOYMENT, GROUP, CodeDeployStore
from headwater.services.ticker import ClockTicker

#: Clock seconds between steps of the deployments in progress (their intervals are minutes).
STEP_INTERVAL = 1.0
#: Real seconds between steps, at least, on a clock sped up many times.
MIN_REAL_STEP_SECONDS = 0.25
MAX_NAME = 100
_NAME = re.compile(r"^[A-Za-z0-9.\-_+=,@]+$")
#: Members of a deployment group that only EC2/on-premises or ECS deployments use.
_SERVER_MEMBERS = (
    "ec2TagFilters",
    "onPremisesInstanceTagFilters",
    "autoScalingGroups",
    "ec2TagSet",
    "onPremisesTagSet",
    "ecsServices",
    "loadBalancerInfo",
    "blueGreenDeploymentConfiguration",
)
#: The deployment group members CreateDeploymentGroup and UpdateDeploymentGroup keep.
_GROUP_MEMBERS = (
    "deploymentConfigName",
    "serviceRoleArn",
    "alarmConfiguration",
    "autoRollbackConfiguration",
    "triggerConfigurations",
    "deploymentStyle",
    "outdatedInstancesStrategy",
    "terminationHookEnabled",
)


def _check_name(value: Any, kind: str) -> str:
    """An application or deployment group name, checked as CodeDeploy checks it."""
    required, invalid = {
        "application": ("ApplicationNameRequiredException", "InvalidApplicationNameException"),
        "group": ("DeploymentGroupNameRequiredException", "InvalidDeploymentGroupNameException"),
    }[kind]
    label = "Application" if kind == "application" else "Deployment group"
    if not value:
        raise AwsError(required, f"{label} name must be specified.")  # wording guessed
    name = str(value)
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise AwsError(
            invalid,
            f"{label} name {name} is not valid: at most {MAX_NAME} letters, digits and "
            ".-_+=,@ characters.",  # wording guessed
        )
    return name


class CodeDeployService(DeploymentOperations):
    """Every CodeDeploy operation headwater serves; deployments step on the clock."""

    service_name: ClassVar[str] = "codedeploy"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = env.database.store(CodeDeployStore)
        real_per_clock_second = env.clock.real_delay(1.0)
        interval = (
            STEP_INTERVAL
            if not real_per_clock_second
            else max(STEP_INTERVAL, MIN_REAL_STEP_SECONDS / real_per_clock_second)
        )
        self._stepper = ClockTicker(
            env.clock, interval, self.step_all, name="codedeploy-deployments"
        ).start()

    def close(self) -> None:
        self._stepper.stop()
        self._closed = True
        with self._changed:
            self._changed.notify_all()
        super().close()

    # -- applications ----------------------------------------------------------------------

    @operation("CreateApplication")
    def create_application(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params.get("applicationName"), "application")
        platform = params.get("computePlatform") or "Server"
        if platform != "Lambda":
            raise AwsError(
                "InvalidComputePlatformException",
                f"headwater's CodeDeploy deploys Lambda functions only, not {platform}.",
            )
        if self.store.get(ctx.account, ctx.region, APPLICATION, name) is not None:
            raise AwsError(
                "ApplicationAlreadyExistsException",
                f"The application {name} already exists with the current account.",  # guessed
            )
        application = {
            "applicationId": new_uuid(),
            "applicationName": name,
            "createTime": self.env.clock.now(),
            "linkedToGitHub": False,
            "computePlatform": platform,
            "_tags": params.get("tags") or [],
        }
        self.store.put(ctx.account, ctx.region, APPLICATION, name, application)
        return {"applicationId": application["applicationId"]}

    @operation("GetApplication")
    def get_application(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params.get("applicationName"), "application")
        application = public(self._application(ctx, name))
        application["createTime"] = as_datetime(application["createTime"])
        return {"application": application}

    @operation("ListApplications")
    def list_applications(self, params: Params, ctx: RequestContext) -> Result:
        found = self.store.all(ctx.account, ctx.region, APPLICATION)
        return {"applications": [a["applicationName"] for a in found]}

    @operation("DeleteApplication")
    def delete_application(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params.get("applicationName"), "application")
        # CodeDeploy answers success for an application that does not exist.
        for group in self._groups(ctx, name):
            self.store.delete(ctx.account, ctx.region, GROUP, f"{name}/{group}")
        self.store.delete(ctx.account, ctx.region, APPLICATION, name)
        return {}

    def _application(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        found = self.store.get(ctx.account, ctx.region, APPLICATION, name)
        if found is None:
            raise not_found_application(name)
        return found

    # -- deployment groups -----------------------------------------------------------------

    @operation("CreateDeploymentGroup")
    def create_deployment_group(self, params: Params, ctx: RequestContext) -> Result:
        application = self._application(
            ctx, _check_name(params.get("applicationName"), "application")
        )
        name = _check_name(params.get("deploymentGroupName"), "group")
        key = f"{application['applicationName']}/{name}"
        if self.store.get(ctx.account, ctx.region, GROUP, key) is not None:
            raise AwsError(
                "DeploymentGroupAlreadyExistsException",
                f"A deployment group named {name} already exists for application "
                f"{application['applicationName']}.",  # wording guessed
            )
        if not params.get("serviceRoleArn"):
            raise AwsError("RoleRequiredException", "Role ARN must be specified.")  # guessed
        group: dict[str, Any] = {
            "applicationName": application["applicationName"],
            "deploymentGroupId": new_uuid(),
            "deploymentGroupName": name,
            "deploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce",
            "computePlatform": application["computePlatform"],
            "deploymentStyle": {
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        }
        self._apply_group_settings(group, params)
        self.store.put(ctx.account, ctx.region, GROUP, key, group)
        return {"deploymentGroupId": group["deploymentGroupId"]}

    @operation("GetDeploymentGroup")
    def get_deployment_group(self, params: Params, ctx: RequestContext) -> Result:
        return {"deploymentGroupInfo": public(self._group_of(params, ctx))}

    @operation("UpdateDeploymentGroup")
    def update_deployment_group(self, params: Params, ctx: RequestContext) -> Result:
        application = _check_name(params.get("applicationName"), "application")
        current = params.get("currentDeploymentGroupName")
        group = self._group_of(
            {"applicationName": application, "deploymentGroupName": current}, ctx
        )
        new_name = params.get("newDeploymentGroupName")
        if new_name and new_name != group["deploymentGroupName"]:
            new_name = _check_name(new_name, "group")
            if self.store.get(ctx.account, ctx.region, GROUP, f"{application}/{new_name}"):
                raise AwsError(
                    "DeploymentGroupAlreadyExistsException",
                    f"A deployment group named {new_name} already exists for application "
                    f"{application}.",  # wording guessed
                )
        self._apply_group_settings(group, params)
        if new_name and new_name != group["deploymentGroupName"]:
            self.store.delete(ctx.account, ctx.region, GROUP, f"{application}/{current}")
            group["deploymentGroupName"] = new_name
        key = f"{application}/{group['deploymentGroupName']}"
        self.store.put(ctx.account, ctx.region, GROUP, key, group)
        return {"hooksNotCleanedUp": []}

    @operation("DeleteDeploymentGroup")
    def delete_deployment_group(self, params: Params, ctx: RequestContext) -> Result:
        application = _check_name(params.get("applicationName"), "application")
        name = _check_name(params.get("deploymentGroupName"), "group")
        self.store.delete(ctx.account, ctx.region, GROUP, f"{application}/{name}")
        return {"hooksNotCleanedUp": []}

    @operation("ListDeploymentGroups")
    def list_deployment_groups(self, params: Params, ctx: RequestContext) -> Result:
        application = _check_name(params.get("applicationName"), "application")
        self._application(ctx, application)
        return {"applicationName": application, "deploymentGroups": self._groups(ctx, application)}

    def _groups(self, ctx: RequestContext, application: str) -> list[str]:
        return [
            g["deploymentGroupName"]
            for g in self.store.all(ctx.account, ctx.region, GROUP)
            if g["applicationName"] == application
        ]

    def _group_of(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        application = self._application(
            ctx, _check_name(params.get("applicationName"), "application")
        )
        name = _check_name(params.get("deploymentGroupName"), "group")
        found = self.store.get(
            ctx.account, ctx.region, GROUP, f"{application['applicationName']}/{name}"
        )
        if found is None:
            raise not_found_group(name)
        return found

    def _apply_group_settings(self, group: dict[str, Any], params: Params) -> None:
        """The members of a Create/UpdateDeploymentGroup request, checked, onto ``group``."""
        for member in _SERVER_MEMBERS:
            if params.get(member):
                raise AwsError(
                    "InvalidInputException",
                    f"{member} is not used by a Lambda deployment group: headwater's "
                    "CodeDeploy deploys Lambda functions only.",
                )
        config = params.get("deploymentConfigName")
        if config is not None and config not in LAMBDA_CONFIGS:
            raise AwsError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {config}",  # wording guessed
            )
        alarms = params.get("alarmConfiguration")
        if alarms is not None and len(alarms.get("alarms") or []) > 10:
            raise AwsError(
                "AlarmsLimitExceededException",
                "The maximum number of alarms for a deployment group (10) was exceeded.",
            )
        for member in _GROUP_MEMBERS:
            if params.get(member) is not None:
                group[member] = params[member]

    # -- deployment configurations ---------------------------------------------------------

    @operation("GetDeploymentConfig")
    def get_deployment_config(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("deploymentConfigName")
        if not name:
            raise AwsError(
                "DeploymentConfigNameRequiredException",
                "Deployment configuration name must be specified.",  # wording guessed
            )
        if name not in LAMBDA_CONFIGS:
            raise AwsError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {name}",  # wording guessed
            )
        info = describe_config(str(name))
        info["createTime"] = as_datetime(info["createTime"])
        return {"deploymentConfigInfo": info}

    @operation("ListDeploymentConfigs")
    def list_deployment_configs(self, params: Params, ctx: RequestContext) -> Result:
        return {"deploymentConfigsList": sorted(LAMBDA_CONFIGS)}

    # -- Python API ------------------------------------------------------------------------

    def deployments_in_progress(self, ctx: RequestContext | None = None) -> list[str]:
        """Ids of the deployments that have not ended (for tests and the dashboard)."""
        ctx = ctx or self.env.default_context()
        return [
            d["deploymentId"]
            for d in self.store.all(ctx.account, ctx.region, DEPLOYMENT)
            if d["status"] not in ("Succeeded", "Failed", "Stopped")
        ]
