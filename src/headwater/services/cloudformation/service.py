"""CloudFormation: stacks and change sets over headwater's own services.

The API side of ``headwater.deploy``: operations check their input with CloudFormation's
error texts, keep stacks and change sets in the ``StackStore``, and run stack operations
(``StackRun``) on background threads. A call that starts an operation answers when it has
finished or after ``cloudformation_wait_seconds``, whichever comes first, so clients that
poll (waiters, ``sam deploy``, ``cdk deploy``) see the final status on their first poll.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from headwater.client import LambdaClient, ServiceClient
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import JAVA_INT
from headwater.deploy.custom_responses import CustomResponses
from headwater.deploy.engine import StackRun
from headwater.deploy.errors import TemplateError, validation_error
from headwater.deploy.plan import StackIdentity, Target, build_target
from headwater.deploy.providers import ResourceProvider, default_providers
from headwater.deploy.providers.custom import (
    CUSTOM_RESOURCE_TYPE,
    CustomResourceProvider,
    provider_type,
)
from headwater.deploy.records import StackRecord
from headwater.deploy.secret_references import SecretLookup
from headwater.deploy.stack_store import StackStore
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.cloudformation import change_sets, describe, template_operations
from headwater.services.cloudformation.templates import (
    PreparedTemplate,
    check_capabilities,
    check_supported,
    prepare,
    read_body,
)

log = logging.getLogger(__name__)

_STACK_NAME = re.compile(r"^(?:[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*)$")
MAX_STACK_NAME = 128
#: Statuses from which a stack may be updated.
UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


def stack_not_found(name: str) -> AwsError:
    return validation_error(f"Stack with id {name} does not exist")


class CloudFormationService(Service):
    service_name = "cloudformation"
    unencodable_text_code = "ValidationError"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = StackStore(self.env.database)
        self.custom_responses = CustomResponses(
            served_url=lambda: self.env.endpoint_url if self.env.serving else None,
            closing=lambda: self.env.closing or self.env.closed,
        )
        self.candidates: dict[str, list[ResourceProvider]] = default_providers()
        self.candidates[CUSTOM_RESOURCE_TYPE] = [CustomResourceProvider(self.custom_responses)]
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="cfn-stack"
        )
        self._lock = threading.RLock()
        self._running: dict[str, concurrent.futures.Future[None]] = {}
        self._interrupted_operations()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.custom_responses.close()

    # -- shared helpers --------------------------------------------------------------------

    def _interrupted_operations(self) -> None:
        """Stacks left in progress by a previous process failed; say so instead of hanging."""
        for stack in self.store.stacks_in_progress():
            stack.status = stack.status.replace("_IN_PROGRESS", "_FAILED")
            if stack.status == "UPDATE_COMPLETE_CLEANUP_FAILED":
                stack.status = "UPDATE_COMPLETE"
            stack.status_reason = "headwater stopped while the operation was running"
            self.store.put_stack(stack)

    def service_available(self, name: str) -> bool:
        try:
            self.env.service(name)
        except AwsError:
            return False
        return True

    def usable(self, provider: ResourceProvider) -> bool:
        """Whether the provider's service exists and has the operations it needs."""
        if provider.service is None:
            return True
        if not self.service_available(provider.service):
            return False
        implemented = set(self.env.service(provider.service).operation_names())
        return all(operation in implemented for operation in provider.operations)

    @property
    def providers(self) -> dict[str, ResourceProvider]:
        """Resource type -> the provider that deploys it now (the first usable one)."""
        chosen: dict[str, ResourceProvider] = {}
        for type_name, candidates in self.candidates.items():
            for provider in candidates:
                if self.usable(provider):
                    chosen[type_name] = provider
                    break
        return chosen

    def supports_type(self, type_name: str) -> bool:
        candidates = self.candidates.get(provider_type(type_name), [])
        return any(self.usable(provider) for provider in candidates)

    def clients_for(self, stack: StackRecord) -> Callable[..., ServiceClient]:
        context = RequestContext(
            region=stack.region, account=stack.account, endpoint=stack.endpoint
        )

        def client(name: str, validate: bool = True) -> ServiceClient:
            cls = LambdaClient if name == "lambda" else ServiceClient
            return cls(self.env.service(name), context, validate=validate)

        return client

    def ssm_lookup(self, region: str) -> Callable[[str], str | None]:
        def lookup(name: str) -> str | None:
            if not self.service_available("ssm"):
                return None
            ssm: Any = self.env.service("ssm")
            found: str | None = ssm.lookup(name, region=region)
            return found

        return lookup

    def secret_lookup(self, stack: StackRecord) -> SecretLookup:
        """Reads the secrets ``{{resolve:secretsmanager:...}}`` references name, in the
        stack's account and region."""
        context = RequestContext(region=stack.region, account=stack.account)

        def lookup(secret_id: str, stage: str | None, version_id: str | None) -> str:
            if not self.service_available("secretsmanager"):
                raise TemplateError("Secrets Manager is not available")
            service: Any = self.env.service("secretsmanager")
            try:
                answer = service.secret_value(
                    secret_id, version_stage=stage, version_id=version_id, ctx=context
                )
            except AwsError as error:
                # CloudFormation passes the service's error on, in the AWS SDK's words.
                raise TemplateError(
                    f"{error.message} (Service: AWSSecretsManager; Status Code: {error.status}; "
                    f"Error Code: {error.code})"
                ) from None
            if "SecretString" not in answer:
                raise TemplateError(
                    f"The secret {secret_id} holds a SecretBinary: dynamic references read "
                    "SecretString only"
                )  # guessed text
            found: str = answer["SecretString"]
            return found

        return lookup

    def read_object(self, ctx: RequestContext) -> Callable[[str, str], bytes]:
        def read(bucket: str, key: str) -> bytes:
            if not self.service_available("s3"):
                raise AwsError("NoSuchBucket", f"S3 bucket [{bucket}] does not exist.")
            s3 = ServiceClient(self.env.service("s3"), ctx)
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            except Exception as error:
                raise AwsError("NoSuchKey", str(error)) from None
            data: bytes = body.read()
            return data

        return read

    def find_stack(self, name: Any, ctx: RequestContext) -> StackRecord | None:
        """The stack a StackName (name or id) refers to; deleted stacks only by id."""
        if not isinstance(name, str) or not name:
            return None
        if name.startswith("arn:"):
            return self.store.get_stack(name)
        return self.store.find_live_stack(ctx.account, ctx.region, name)

    def require_stack(self, name: Any, ctx: RequestContext) -> StackRecord:
        found = self.find_stack(name, ctx)
        if found is None:
            raise stack_not_found(str(name))
        return found

    def prepare_template(
        self, params: Params, ctx: RequestContext, *, previous: StackRecord | None = None
    ) -> PreparedTemplate:
        if params.get("UsePreviousTemplate"):
            if previous is None:
                raise validation_error("UsePreviousTemplate is set but there is no stack")
            body = previous.template_body
        else:
            body = read_body(params, self.read_object(ctx), ctx.endpoint)

        def sam_parameters(document: dict[str, Any]) -> dict[str, Any]:
            values: dict[str, Any] = {}
            for name, declaration in (document.get("Parameters") or {}).items():
                if isinstance(declaration, dict) and "Default" in declaration:
                    values[name] = declaration["Default"]
            for item in params.get("Parameters") or []:
                if item.get("ParameterValue") is not None:
                    values[item["ParameterKey"]] = item["ParameterValue"]
                elif item.get("UsePreviousValue") and previous is not None:
                    values[item["ParameterKey"]] = previous.parameter_values.get(
                        item["ParameterKey"]
                    )
            return values

        prepared = prepare(body, region=ctx.region, parameter_values=sam_parameters)
        check_supported(prepared.template, self.supports_type)
        return prepared

    def build_target(
        self,
        prepared: PreparedTemplate,
        stack: StackRecord,
        params: Params,
        previous: StackRecord | None = None,
    ) -> Target:
        identity = StackIdentity(
            stack_id=stack.stack_id,
            name=stack.name,
            region=stack.region,
            account=stack.account,
            notification_arns=tuple(params.get("NotificationARNs") or ()),
        )
        return build_target(
            prepared.template,
            identity,
            params.get("Parameters") or [],
            previous_parameters=previous.parameter_values if previous else None,
            ssm=self.ssm_lookup(stack.region),
        )

    def new_stack(self, name: str, ctx: RequestContext, status: str, params: Params) -> StackRecord:
        check_stack_name(name)
        check_timeout_in_minutes(params.get("TimeoutInMinutes"))
        return StackRecord(
            stack_id=f"arn:aws:cloudformation:{ctx.region}:{ctx.account}:stack/{name}/{new_uuid()}",
            name=name,
            region=ctx.region,
            account=ctx.account,
            status=status,
            creation_time=self.env.clock.now(),
            capabilities=list(params.get("Capabilities") or []),
            tags=list(params.get("Tags") or []),
            notification_arns=list(params.get("NotificationARNs") or []),
            disable_rollback=bool(params.get("DisableRollback", False)),
            termination_protection=bool(params.get("EnableTerminationProtection", False)),
            role_arn=params.get("RoleARN"),
            timeout_in_minutes=params.get("TimeoutInMinutes"),
            endpoint=ctx.endpoint,
        )

    def apply_template(
        self, stack: StackRecord, prepared: PreparedTemplate, target: Target
    ) -> None:
        """Make ``prepared`` the stack's template (after a successful operation)."""
        stack.template_body = prepared.body
        stack.processed = prepared.document
        stack.description = prepared.template.description
        stack.parameters = target.parameters.describe()
        stack.parameter_values = dict(target.parameters.given)

    def run(self, stack: StackRecord, work: Callable[[StackRun], object]) -> None:
        """Run ``work`` on a background thread; wait for it up to the configured time."""
        stack_run = StackRun(
            self.store,
            self.providers,
            self.clients_for(stack),
            self.env.clock.now,
            stack,
            ssm=self.ssm_lookup(stack.region),
            secrets=self.secret_lookup(stack),
        )

        def guarded() -> None:
            try:
                work(stack_run)
            except Exception:
                log.exception("stack %s: operation failed", stack.name)
                status = stack.status.replace("_IN_PROGRESS", "_FAILED")
                stack_run.stack_event(status, "Internal failure")

        future = self._executor.submit(guarded)
        with self._lock:
            self._running[stack.stack_id] = future
        wait = self.env.options.cloudformation_wait_seconds
        if wait > 0:
            concurrent.futures.wait([future], timeout=wait)

    def wait_for(self, stack_id: str, timeout: float | None = None) -> None:
        """Block until the stack's running operation (if any) has finished."""
        with self._lock:
            future = self._running.get(stack_id)
        if future is not None:
            concurrent.futures.wait([future], timeout=timeout)

    def check_updatable(self, stack: StackRecord) -> None:
        if stack.status not in UPDATABLE:
            raise validation_error(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )

    # -- stacks ----------------------------------------------------------------------------

    @operation("CreateStack")
    def create_stack(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("StackName", ""))
        check_stack_name(name)
        with self._lock:
            if self.store.find_live_stack(ctx.account, ctx.region, name) is not None:
                raise AwsError("AlreadyExistsException", f"Stack [{name}] already exists")
            prepared = self.prepare_template(params, ctx)
            check_capabilities(prepared, params.get("Capabilities") or [], through_change_set=False)
            stack = self.new_stack(name, ctx, "CREATE_IN_PROGRESS", params)
            target = self.build_target(prepared, stack, params)
            self.apply_template(stack, prepared, target)
            self.store.put_stack(stack)
        self.run(stack, lambda run: run.create(target))
        return {"StackId": stack.stack_id}

    @operation("UpdateStack")
    def update_stack(self, params: Params, ctx: RequestContext) -> Result:
        with self._lock:
            stack = self.require_stack(params.get("StackName"), ctx)
            self.check_updatable(stack)
            prepared = self.prepare_template(params, ctx, previous=stack)
            check_capabilities(prepared, params.get("Capabilities") or [], through_change_set=False)
            target = self.build_target(prepared, stack, params, previous=stack)
            if not self.has_changes(stack, prepared, target, params):
                raise validation_error("No updates are to be performed.")
            self.update_settings(stack, params, ctx)
            stack.status = "UPDATE_IN_PROGRESS"
            self.store.put_stack(stack)
        self.run(
            stack,
            lambda run: run.update(
                target, commit=lambda: self.apply_template(stack, prepared, target)
            ),
        )
        return {"StackId": stack.stack_id}

    def update_settings(self, stack: StackRecord, params: Params, ctx: RequestContext) -> None:
        stack.capabilities = list(params.get("Capabilities") or stack.capabilities)
        if params.get("Tags") is not None:
            stack.tags = list(params["Tags"])
        if params.get("NotificationARNs") is not None:
            stack.notification_arns = list(params["NotificationARNs"])
        if params.get("DisableRollback") is not None:
            stack.disable_rollback = bool(params["DisableRollback"])
        stack.endpoint = ctx.endpoint or stack.endpoint

    def has_changes(
        self, stack: StackRecord, prepared: PreparedTemplate, target: Target, params: Params
    ) -> bool:
        from headwater.deploy.changes import describe_changes

        changes = describe_changes(
            target,
            self.store.resources(stack.stack_id),
            old_template=None,
            old_parameters={},
            import_value=lambda name: self.export_value(stack, name),
            ssm=self.ssm_lookup(stack.region),
        )
        return bool(
            changes.changes
            or prepared.document != stack.processed
            or target.parameters.given != stack.parameter_values
            or (params.get("Tags") is not None and list(params["Tags"]) != stack.tags)
        )

    def export_value(self, stack: StackRecord, name: str) -> Any:
        found = self.store.exports(stack.account, stack.region).get(name)
        if found is None:
            raise TemplateError(f"No export named {name} found.")
        return found[1]

    @operation("DeleteStack")
    def delete_stack(self, params: Params, ctx: RequestContext) -> Result:
        with self._lock:
            stack = self.find_stack(params.get("StackName"), ctx)
            if stack is None or stack.status == "DELETE_COMPLETE":
                return {}
            if stack.termination_protection:
                raise validation_error(
                    f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
                )
            if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
                raise validation_error(
                    f"Stack [{stack.name}] is in {stack.status} state and can not be deleted."
                )
            if stack.status == "REVIEW_IN_PROGRESS":
                stack.deletion_time = self.env.clock.now()
                StackRun(
                    self.store,
                    self.providers,
                    self.clients_for(stack),
                    self.env.clock.now,
                    stack,
                    ssm=self.ssm_lookup(stack.region),
                ).stack_event("DELETE_COMPLETE")
                self.store.delete_change_sets(stack.stack_id)
                return {}
            retain = frozenset(params.get("RetainResources") or [])
            if retain and stack.status != "DELETE_FAILED":
                raise validation_error(
                    f"Invalid operation on stack [{stack.stack_id}]. RetainResources can only be "
                    "specified when a stack is in the DELETE_FAILED state"
                )
            stack.status = "DELETE_IN_PROGRESS"
            self.store.put_stack(stack)

        def delete(run: StackRun) -> None:
            if run.delete(retain):
                self.store.delete_change_sets(stack.stack_id)

        self.run(stack, delete)
        return {}

    @operation("DescribeStacks")
    def describe_stacks(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("StackName")
        if name:
            stack = self.find_stack(name, ctx)
            if stack is None:
                raise stack_not_found(str(name))
            return {"Stacks": [describe.stack(stack)]}
        stacks = [
            describe.stack(stack)
            for stack in self.store.list_stacks(ctx.account, ctx.region)
            if stack.status != "DELETE_COMPLETE"
        ]
        return {"Stacks": stacks}

    @operation("ListStacks")
    def list_stacks(self, params: Params, ctx: RequestContext) -> Result:
        wanted = set(params.get("StackStatusFilter") or [])
        return {
            "StackSummaries": [
                describe.stack_summary(stack)
                for stack in self.store.list_stacks(ctx.account, ctx.region)
                if not wanted or stack.status in wanted
            ]
        }

    @operation("DescribeStackEvents")
    def describe_stack_events(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("StackName")
        stack = self.find_stack(name, ctx)
        if stack is None:
            raise validation_error(f"Stack [{name}] does not exist")
        return {
            "StackEvents": [
                describe.event(stack, event) for event in self.store.events(stack.stack_id)
            ]
        }

    @operation("DescribeStackResource")
    def describe_stack_resource(self, params: Params, ctx: RequestContext) -> Result:
        stack = self.require_stack(params.get("StackName"), ctx)
        logical_id = params.get("LogicalResourceId")
        found = self.store.resources(stack.stack_id).get(str(logical_id))
        if found is None:
            raise validation_error(f"Resource {logical_id} does not exist for stack {stack.name}")
        return {"StackResourceDetail": describe.resource(stack, found, shape="detail")}

    @operation("DescribeStackResources")
    def describe_stack_resources(self, params: Params, ctx: RequestContext) -> Result:
        physical = params.get("PhysicalResourceId")
        if params.get("StackName") is None and physical is not None:
            stack = self._stack_of_physical(str(physical), ctx)
        else:
            stack = self.require_stack(params.get("StackName"), ctx)
        resources = list(self.store.resources(stack.stack_id).values())
        logical_id = params.get("LogicalResourceId")
        return {
            "StackResources": [
                describe.resource(stack, resource, shape="resource")
                for resource in resources
                if (logical_id is None or resource.logical_id == logical_id)
                and (physical is None or resource.physical_id == physical)
            ]
        }

    def _stack_of_physical(self, physical_id: str, ctx: RequestContext) -> StackRecord:
        for stack in self.store.list_stacks(ctx.account, ctx.region):
            if stack.status == "DELETE_COMPLETE":
                continue
            for resource in self.store.resources(stack.stack_id).values():
                if resource.physical_id == physical_id:
                    return stack
        raise validation_error(f"Stack for {physical_id} does not exist")

    @operation("ListStackResources")
    def list_stack_resources(self, params: Params, ctx: RequestContext) -> Result:
        stack = self.require_stack(params.get("StackName"), ctx)
        return {
            "StackResourceSummaries": [
                describe.resource(stack, resource, shape="summary")
                for resource in self.store.resources(stack.stack_id).values()
            ]
        }

    @operation("UpdateTerminationProtection")
    def update_termination_protection(self, params: Params, ctx: RequestContext) -> Result:
        with self._lock:
            stack = self.require_stack(params.get("StackName"), ctx)
            stack.termination_protection = bool(params.get("EnableTerminationProtection"))
            self.store.put_stack(stack)
        return {"StackId": stack.stack_id}

    @operation("ListExports")
    def list_exports(self, params: Params, ctx: RequestContext) -> Result:
        exports = self.store.exports(ctx.account, ctx.region)
        return {
            "Exports": [
                {"ExportingStackId": stack_id, "Name": name, "Value": value}
                for name, (stack_id, value) in exports.items()
            ]
        }

    @operation("ListImports")
    def list_imports(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("ExportName", ""))
        importers = [
            stack.name
            for stack in self.store.list_stacks(ctx.account, ctx.region)
            if stack.status != "DELETE_COMPLETE" and name in stack.imports
        ]
        if not importers:
            raise validation_error(f"Export '{name}' is not imported by any stack.")
        return {"Imports": importers}

    # -- change sets and templates (in their own modules) -----------------------------------

    @operation("CreateChangeSet")
    def create_change_set(self, params: Params, ctx: RequestContext) -> Result:
        return change_sets.create_change_set(self, params, ctx)

    @operation("DescribeChangeSet")
    def describe_change_set(self, params: Params, ctx: RequestContext) -> Result:
        return change_sets.describe_change_set(self, params, ctx)

    @operation("ExecuteChangeSet")
    def execute_change_set(self, params: Params, ctx: RequestContext) -> Result:
        return change_sets.execute_change_set(self, params, ctx)

    @operation("DeleteChangeSet")
    def delete_change_set(self, params: Params, ctx: RequestContext) -> Result:
        return change_sets.delete_change_set(self, params, ctx)

    @operation("ListChangeSets")
    def list_change_sets(self, params: Params, ctx: RequestContext) -> Result:
        return change_sets.list_change_sets(self, params, ctx)

    @operation("GetTemplate")
    def get_template(self, params: Params, ctx: RequestContext) -> Result:
        return template_operations.get_template(self, params, ctx)

    @operation("GetTemplateSummary")
    def get_template_summary(self, params: Params, ctx: RequestContext) -> Result:
        return template_operations.get_template_summary(self, params, ctx)

    @operation("ValidateTemplate")
    def validate_template(self, params: Params, ctx: RequestContext) -> Result:
        return template_operations.validate_template(self, params, ctx)


def check_timeout_in_minutes(timeout: int | None) -> None:
    """A stack timeout CloudFormation's Java integer holds (botocore sends any integer; one
    beyond 64 bits made the stored stack record's JSON raise TypeError)."""
    if timeout is not None and timeout > JAVA_INT[-1]:
        raise validation_error(
            f"1 validation error detected: Value '{timeout}' at 'timeoutInMinutes' failed to "
            f"satisfy constraint: Member must have value less than or equal to {JAVA_INT[-1]}"
        )


def check_stack_name(name: str) -> None:
    if not _STACK_NAME.match(name) or len(name) > MAX_STACK_NAME:
        raise validation_error(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
        )
