"""Lambda deployments: an alias's traffic shifted from one version to another on the clock.

A deployment runs CodeDeploy's Lambda lifecycle: ``BeforeAllowTraffic`` (the hook function,
if the AppSpec names one, is invoked asynchronously with ``{"DeploymentId",
"LifecycleEventHookExecutionId"}`` and the deployment waits for
PutLifecycleEventHookExecutionStatus, an hour at most), ``AllowTraffic`` (the alias's
``RoutingConfig.AdditionalVersionWeights`` gives the target version the configuration's
share, step by step, then the alias points to it), ``AfterAllowTraffic`` (the second hook),
then ``Succeeded``. A failed or timed-out hook, an alarm of the deployment group in ALARM,
or StopDeployment ends it and puts the alias back on the current version.

Deployments move forward on the headwater clock (a ``ClockTicker``: with a ManualClock,
each advance steps them; with ``--time-scale``, faster than real time) and when a hook
reports its status. One lock per process serialises the steps (several processes sharing
a PostgreSQL store each step the same deployments: not supported yet).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import orjson
import yaml
from botocore.exceptions import ClientError

from headwater.client import ServiceClient
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.codedeploy.configs import LAMBDA_CONFIGS, TrafficRouting
from headwater.services.codedeploy.store import ACTIVE, DEPLOYMENT, GROUP, CodeDeployStore

log = logging.getLogger(__name__)

#: How long a lifecycle hook may take to report its status (CodeDeploy: one hour).
HOOK_TIMEOUT_SECONDS = 3600.0
#: Statuses a deployment ends in.
FINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})
_HOOK_EVENTS = ("BeforeAllowTraffic", "AfterAllowTraffic")


def _deployment_id() -> str:
    """``d-`` and nine capitals or digits, as CodeDeploy's deployment ids are."""
    return "d-" + new_uuid().replace("-", "")[:9].upper()


def _not_found(deployment_id: str) -> AwsError:
    # Wording guessed (AWS-style); the code is the model's.
    return AwsError("DeploymentDoesNotExistException", f"Deployment {deployment_id} does not exist")


def not_found_application(name: str) -> AwsError:
    """ApplicationDoesNotExistException as CodeDeploy words it (aws/aws-cli#2270)."""
    return AwsError("ApplicationDoesNotExistException", f"No application found for name: {name}")


def not_found_group(name: str) -> AwsError:
    # Wording guessed after the application's ("No application found for name: ...").
    return AwsError(
        "DeploymentGroupDoesNotExistException", f"No Deployment Group found for name: {name}"
    )


def _lambda_appspec(revision: Any) -> dict[str, Any]:
    """The alias, versions and hooks of a Lambda AppSpec revision (JSON or YAML text)."""
    if not isinstance(revision, dict):
        raise AwsError("RevisionRequiredException", "Revision must be specified.")
    kind = revision.get("revisionType")
    holder = {"AppSpecContent": "appSpecContent", "String": "string"}.get(str(kind))
    content = (revision.get(holder) or {}).get("content") if holder else None
    if not isinstance(content, str):
        # Wording guessed: headwater runs only AppSpec revisions given inline.
        raise AwsError(
            "InvalidRevisionException",
            "A Lambda deployment's revision must be of type AppSpecContent with its content.",
        )
    try:
        spec = yaml.safe_load(content)
    except yaml.YAMLError:
        spec = None
    invalid = AwsError(
        "InvalidRevisionException",
        "The AppSpec file is not valid: it must name one AWS::Lambda::Function resource "
        "with Name, Alias, CurrentVersion and TargetVersion.",  # wording guessed
    )
    if not isinstance(spec, dict):
        raise invalid
    resources = spec.get("Resources") or spec.get("resources")
    if not isinstance(resources, list) or len(resources) != 1:
        raise invalid
    entry = next(iter(resources[0].values()), None) if isinstance(resources[0], dict) else None
    properties = (entry or {}).get("Properties") or (entry or {}).get("properties")
    if not isinstance(properties, dict):
        raise invalid
    fields = {key.lower(): value for key, value in properties.items()}
    shift = {
        "function": fields.get("name"),
        "alias": fields.get("alias"),
        "current": fields.get("currentversion"),
        "target": fields.get("targetversion"),
    }
    if not all(isinstance(value, str | int) and str(value) for value in shift.values()):
        raise invalid
    hooks: dict[str, str] = {}
    for hook in spec.get("Hooks") or spec.get("hooks") or []:
        if isinstance(hook, dict):
            hooks.update({str(k): str(v) for k, v in hook.items() if k in _HOOK_EVENTS})
    return {**{key: str(value) for key, value in shift.items()}, "hooks": hooks}


def public(document: dict[str, Any]) -> dict[str, Any]:
    """A stored document without headwater's own (``_``-prefixed) keys."""
    return {key: value for key, value in document.items() if not key.startswith("_")}


class DeploymentOperations(Service):
    """CreateDeployment, GetDeployment, ListDeployments, StopDeployment and
    PutLifecycleEventHookExecutionStatus, and the stepper that runs deployments."""

    store: CodeDeployStore

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._step_lock = threading.RLock()
        #: Notified whenever a deployment changes (``wait_for_deployment``).
        self._changed = threading.Condition()
        #: Set by ``close``: waits end (a stack update waiting on a deployment gives up, so
        #: closing headwater does not hang on it).
        self._closed = False

    # -- Python API ------------------------------------------------------------------------

    def wait_for_deployment(
        self,
        deployment_id: str,
        ctx: RequestContext | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Block until the deployment ends (or ``timeout`` real seconds); its deploymentInfo.

        Wakes on every change in this process and looks again every fifth of a second (a
        change made by another process).
        """
        ctx = ctx or self.env.default_context()
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            found = self._get(ctx, deployment_id)
            if found is None:
                raise _not_found(deployment_id)
            if found["status"] in FINAL_STATUSES or self._closed or self.env.closing:
                return self._describe(found)
            left = None if deadline is None else deadline - _monotonic()
            if left is not None and left <= 0:
                return self._describe(found)
            with self._changed:
                self._changed.wait(0.2 if left is None else min(0.2, left))

    # -- operations ------------------------------------------------------------------------

    @operation("CreateDeployment")
    def create_deployment(self, params: Params, ctx: RequestContext) -> Result:
        group = self._group_of(params, ctx)
        shift = _lambda_appspec(params.get("revision"))
        config_name = str(params.get("deploymentConfigName") or group["deploymentConfigName"])
        if config_name not in LAMBDA_CONFIGS:
            raise AwsError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {config_name}",  # guessed
            )
        active = self._active_in(ctx, group)
        if active is not None:
            raise AwsError(
                "DeploymentLimitExceededException",
                f"The Deployment Group '{group['deploymentGroupName']}' already has an active "
                f"Deployment '{active}'",  # wording guessed
            )
        now = self.env.clock.now()
        deployment_id = _deployment_id()
        routing = LAMBDA_CONFIGS[config_name]
        document: dict[str, Any] = {
            "applicationName": group["applicationName"],
            "deploymentGroupName": group["deploymentGroupName"],
            "deploymentConfigName": config_name,
            "deploymentId": deployment_id,
            "revision": params["revision"],
            "status": "InProgress",
            "createTime": now,
            "startTime": now,
            "creator": "user",
            "computePlatform": "Lambda",
            "deploymentStyle": {
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
            "_shift": {
                **shift,
                "routing": [routing.kind, routing.percentage, routing.interval],
                "phase": "BeforeAllowTraffic",
                "phaseStart": now,
                "weight": 0.0,
            },
            "_alarms": group.get("alarmConfiguration") or {},
        }
        if params.get("description"):
            document["description"] = str(params["description"])
        self._put(ctx, document)
        self.store.put(ctx.account, ctx.region, ACTIVE, deployment_id, {})
        self.step_deployment(deployment_id, ctx)
        return {"deploymentId": deployment_id}

    def _active_in(self, ctx: RequestContext, group: dict[str, Any]) -> str | None:
        """The id of the group's deployment in progress (CodeDeploy runs one at a time)."""
        for marker in self.store.names(ctx.account, ctx.region, ACTIVE):
            deployment = self._get(ctx, marker)
            if (
                deployment is not None
                and deployment["applicationName"] == group["applicationName"]
                and deployment["deploymentGroupName"] == group["deploymentGroupName"]
                and deployment["status"] not in FINAL_STATUSES
            ):
                return str(deployment["deploymentId"])
        return None

    @operation("GetDeployment")
    def get_deployment(self, params: Params, ctx: RequestContext) -> Result:
        deployment_id = _required_id(params)
        found = self._get(ctx, deployment_id)
        if found is None:
            raise _not_found(deployment_id)
        return {"deploymentInfo": self._describe(found)}

    @operation("ListDeployments")
    def list_deployments(self, params: Params, ctx: RequestContext) -> Result:
        application = params.get("applicationName")
        group_name = params.get("deploymentGroupName")
        if group_name and not application:
            raise AwsError(
                "ApplicationNameRequiredException", "The application name must be specified."
            )
        if application:
            self._application(ctx, str(application))
        if application and group_name:
            key = f"{application}/{group_name}"
            if self.store.get(ctx.account, ctx.region, GROUP, key) is None:
                raise not_found_group(str(group_name))
        statuses = params.get("includeOnlyStatuses") or []
        found = [
            d
            for d in self.store.all(ctx.account, ctx.region, DEPLOYMENT)
            if (not application or d["applicationName"] == application)
            and (not group_name or d["deploymentGroupName"] == group_name)
            and (not statuses or d["status"] in statuses)
        ]
        found.sort(key=lambda d: d["createTime"], reverse=True)
        return {"deployments": [d["deploymentId"] for d in found]}

    @operation("StopDeployment")
    def stop_deployment(self, params: Params, ctx: RequestContext) -> Result:
        deployment_id = _required_id(params)
        with self._step_lock:
            found = self._get(ctx, deployment_id)
            if found is None:
                raise _not_found(deployment_id)
            if found["status"] in FINAL_STATUSES:
                raise AwsError(
                    "DeploymentAlreadyCompletedException",
                    f"Deployment {deployment_id} has already completed.",  # guessed
                )
            self._end(ctx, found, "Stopped", "MANUAL_STOP", "The deployment was stopped by user.")
        return {"status": "Succeeded", "statusMessage": "Deployment stopped."}

    @operation("PutLifecycleEventHookExecutionStatus")
    def put_lifecycle_event_hook_execution_status(
        self, params: Params, ctx: RequestContext
    ) -> Result:
        deployment_id = _required_id(params)
        execution_id = str(params.get("lifecycleEventHookExecutionId") or "")
        status = params.get("status")
        if status not in ("Succeeded", "Failed"):
            raise AwsError(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The lifecycle event hook execution status {status} is not valid: "
                "Succeeded or Failed.",  # wording guessed
            )
        with self._step_lock:
            found = self._get(ctx, deployment_id)
            if found is None:
                raise _not_found(deployment_id)
            shift = found["_shift"]
            executions: dict[str, Any] = shift.setdefault("executions", {})
            if execution_id not in executions:
                raise AwsError(
                    "InvalidLifecycleEventHookExecutionIdException",
                    f"Lifecycle event hook execution {execution_id} does not exist for "
                    f"deployment {deployment_id}.",  # wording guessed
                )
            if executions[execution_id] != "Pending" or found["status"] in FINAL_STATUSES:
                raise AwsError(
                    "LifecycleEventAlreadyCompletedException",
                    f"The lifecycle event hook execution {execution_id} has already "
                    "completed.",  # wording guessed
                )
            executions[execution_id] = status
            self._put(ctx, found)
        self.step_deployment(deployment_id, ctx)
        return {"lifecycleEventHookExecutionId": execution_id}

    # -- the stepper -----------------------------------------------------------------------

    def step_all(self, now: float) -> None:
        """Move every deployment in progress as far as the clock allows (the ticker)."""
        for account, region, deployment_id in self.store.everywhere(ACTIVE):
            ctx = RequestContext(region=region, account=account)
            try:
                self.step_deployment(deployment_id, ctx)
            except Exception:
                log.exception("deployment %s: step failed", deployment_id)

    def step_deployment(self, deployment_id: str, ctx: RequestContext) -> None:
        """Move one deployment as far as it can go now; hook invocations run after the
        lock is released (a hook that reports at once takes it again)."""
        invocations: list[Callable[[], None]] = []
        with self._step_lock:
            found = self._get(ctx, deployment_id)
            if found is None or found["status"] in FINAL_STATUSES:
                self.store.delete(ctx.account, ctx.region, ACTIVE, deployment_id)
                return
            try:
                self._step(ctx, found, invocations)
            except ClientError as error:  # the function, alias or a version is not there
                invocations.clear()
                self._end(
                    ctx,
                    found,
                    "Failed",
                    "INVALID_LAMBDA_CONFIGURATION",
                    # Wording guessed: CodeDeploy reports Lambda's own error.
                    f"The alias could not be updated: {error.response['Error']['Message']}",
                )
        for invoke in invocations:
            invoke()

    def _step(
        self, ctx: RequestContext, deployment: dict[str, Any], invocations: list[Callable[[], None]]
    ) -> None:
        now = self.env.clock.now()
        shift = deployment["_shift"]
        while deployment["status"] not in FINAL_STATUSES:
            alarm = self._alarm_in_alarm(ctx, deployment)
            if alarm is not None:
                self._end(
                    ctx,
                    deployment,
                    "Failed",
                    "ALARM_ACTIVE",
                    # Wording guessed after the CodeDeploy console's.
                    "One or more alarms have been activated according to the Amazon "
                    "CloudWatch metrics you selected, and the affected deployments have been "
                    f"stopped. Activated alarms: <{alarm}>",
                )
                return
            phase = shift["phase"]
            if phase in _HOOK_EVENTS:
                outcome = self._hook(ctx, deployment, phase, now, invocations)
                if outcome == "waiting":
                    return
                if outcome == "failed":
                    self._end(
                        ctx,
                        deployment,
                        "Failed",
                        "HOOK_EXECUTION_FAILURE",
                        f"The deployment failed because the {phase} lifecycle event hook "
                        "reported Failed.",  # wording guessed
                    )
                    return
                if outcome == "timeout":
                    self._end(
                        ctx,
                        deployment,
                        "Failed",
                        "TIMEOUT",
                        f"The {phase} lifecycle event hook did not report its status "
                        "within one hour.",  # wording guessed
                    )
                    return
                shift["phase"] = "AllowTraffic" if phase == "BeforeAllowTraffic" else "Done"
                shift["phaseStart"] = now
                self._put(ctx, deployment)
                continue
            if phase == "AllowTraffic":
                kind, percentage, interval = shift["routing"]
                routing = TrafficRouting(kind, percentage, interval)
                weight = round(routing.weight_at(now - shift["phaseStart"]), 4)
                if weight >= 1.0:
                    self._point_alias(ctx, shift, shift["target"])
                    shift["phase"], shift["phaseStart"], shift["weight"] = (
                        "AfterAllowTraffic",
                        now,
                        1.0,
                    )
                    self._put(ctx, deployment)
                    continue
                if weight != shift["weight"]:
                    self._lambda(ctx).update_alias(
                        FunctionName=shift["function"],
                        Name=shift["alias"],
                        FunctionVersion=shift["current"],
                        RoutingConfig={"AdditionalVersionWeights": {shift["target"]: weight}},
                    )
                    shift["weight"] = weight
                    self._put(ctx, deployment)
                return
            # "Done": both hooks passed and the alias is on the target version.
            deployment["status"] = "Succeeded"
            deployment["completeTime"] = now
            self._put(ctx, deployment)

    def _hook(
        self,
        ctx: RequestContext,
        deployment: dict[str, Any],
        phase: str,
        now: float,
        invocations: list[Callable[[], None]],
    ) -> str:
        """Where the ``phase`` hook stands: "passed" (none, or Succeeded), "waiting",
        "failed" or "timeout"; invokes it the first time."""
        shift = deployment["_shift"]
        function = shift["hooks"].get(phase)
        if not function:
            return "passed"
        started: dict[str, Any] = shift.setdefault("hookRuns", {})
        executions: dict[str, str] = shift.setdefault("executions", {})
        run = started.get(phase)
        if run is None:
            execution_id = _execution_id()
            started[phase] = {"executionId": execution_id, "started": now}
            executions[execution_id] = "Pending"
            self._put(ctx, deployment)
            payload = orjson.dumps(
                {
                    "DeploymentId": deployment["deploymentId"],
                    "LifecycleEventHookExecutionId": execution_id,
                }
            )
            invocations.append(lambda: self._invoke_hook(ctx, deployment, function, payload))
            return "waiting"
        status = executions.get(run["executionId"], "Pending")
        if status == "Succeeded":
            return "passed"
        if status == "Failed":
            return "failed"
        if now - run["started"] >= HOOK_TIMEOUT_SECONDS:
            return "timeout"
        return "waiting"

    def _invoke_hook(
        self, ctx: RequestContext, deployment: dict[str, Any], function: str, payload: bytes
    ) -> None:
        try:
            self._lambda(ctx).invoke(FunctionName=function, InvocationType="Event", Payload=payload)
        except Exception as error:  # the hook cannot run: the deployment fails
            log.warning("deployment %s: hook %s: %s", deployment["deploymentId"], function, error)
            with self._step_lock:
                found = self._get(ctx, deployment["deploymentId"])
                if found is not None and found["status"] not in FINAL_STATUSES:
                    self._end(
                        ctx,
                        found,
                        "Failed",
                        "HOOK_EXECUTION_FAILURE",
                        f"The lifecycle event hook function {function} could not be invoked: "
                        f"{error}",  # wording guessed
                    )

    def _alarm_in_alarm(self, ctx: RequestContext, deployment: dict[str, Any]) -> str | None:
        """The first of the group's alarms in ALARM state (when alarms are enabled)."""
        alarms = deployment.get("_alarms") or {}
        names = [str(a.get("name")) for a in alarms.get("alarms") or [] if a.get("name")]
        if not alarms.get("enabled") or not names:
            return None
        cloudwatch = ServiceClient(self.env.service("cloudwatch"), _internal(ctx))
        found = cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
        for alarm in found:
            if alarm.get("StateValue") == "ALARM":
                return str(alarm["AlarmName"])
        return None

    def _end(
        self,
        ctx: RequestContext,
        deployment: dict[str, Any],
        status: str,
        code: str,
        message: str,
    ) -> None:
        """End a deployment that did not succeed: the alias goes back to the current
        version with no routing, and the deployment records why."""
        shift = deployment["_shift"]
        try:
            self._point_alias(ctx, shift, shift["current"])
        except Exception as error:  # the function or alias went meanwhile
            log.warning("deployment %s: rollback: %s", deployment["deploymentId"], error)
        deployment["status"] = status
        deployment["completeTime"] = self.env.clock.now()
        deployment["errorInformation"] = {"code": code, "message": message}
        deployment["rollbackInfo"] = {
            "rollbackMessage": f"Traffic was shifted back to version {shift['current']}."
        }
        self._put(ctx, deployment)

    def _point_alias(self, ctx: RequestContext, shift: dict[str, Any], version: str) -> None:
        self._lambda(ctx).update_alias(
            FunctionName=shift["function"],
            Name=shift["alias"],
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )

    def _lambda(self, ctx: RequestContext) -> ServiceClient:
        return ServiceClient(self.env.service("lambda"), _internal(ctx))

    # -- storage ---------------------------------------------------------------------------

    def _get(self, ctx: RequestContext, deployment_id: str) -> dict[str, Any] | None:
        return self.store.get(ctx.account, ctx.region, DEPLOYMENT, deployment_id)

    def _put(self, ctx: RequestContext, deployment: dict[str, Any]) -> None:
        deployment_id = deployment["deploymentId"]
        self.store.put(ctx.account, ctx.region, DEPLOYMENT, deployment_id, deployment)
        if deployment["status"] in FINAL_STATUSES:
            self.store.delete(ctx.account, ctx.region, ACTIVE, deployment_id)
        with self._changed:
            self._changed.notify_all()

    def _describe(self, deployment: dict[str, Any]) -> dict[str, Any]:
        info = public(deployment)
        for key in ("createTime", "startTime", "completeTime"):
            if key in info:
                info[key] = as_datetime(info[key])
        shift = deployment["_shift"]
        done = deployment["status"] == "Succeeded"
        info["deploymentOverview"] = {
            "Pending": 0,
            "InProgress": 0 if deployment["status"] in FINAL_STATUSES else 1,
            "Succeeded": 1 if done else 0,
            "Failed": 1 if deployment["status"] in ("Failed", "Stopped") else 0,
            "Skipped": 0,
            "Ready": 0,
        }
        if shift["phase"] == "AllowTraffic" and not done:
            info["additionalDeploymentStatusInfo"] = (
                f"{round(shift['weight'] * 100)}% of traffic on version {shift['target']}"
            )
        return info

    # -- supplied by the service -----------------------------------------------------------

    def _application(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def _group_of(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        raise NotImplementedError


def _required_id(params: Params) -> str:
    deployment_id = params.get("deploymentId")
    if not deployment_id:
        raise AwsError("DeploymentIdRequiredException", "Deployment ID must be specified.")
    if not re.fullmatch(r"d-[A-Z0-9]{9}", str(deployment_id)):
        raise AwsError(
            "InvalidDeploymentIdException",
            f"Specified DeploymentId is not in the valid format: {deployment_id}",  # guessed
        )
    return str(deployment_id)


def _execution_id() -> str:
    """An opaque lifecycle event hook execution id (AWS's are long base64-like tokens)."""
    return "eyJ" + new_uuid().replace("-", "") + new_uuid().replace("-", "")


def _internal(ctx: RequestContext) -> RequestContext:
    """The deployment's account and region, for the calls CodeDeploy makes itself."""
    return RequestContext(region=ctx.region, account=ctx.account)


def _monotonic() -> float:
    import time

    return time.monotonic()
