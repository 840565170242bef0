"""Change sets: CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet, List.

A change set is computed when it is created (``CREATE_COMPLETE`` with its ``Changes``, or
``FAILED`` with the reason, such as a transform error or no changes at all) and runs the
stack operation when executed. A CREATE change set makes a ``REVIEW_IN_PROGRESS`` stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.deploy.changes import describe_changes
from headwater.deploy.engine import StackRun
from headwater.deploy.errors import TemplateError, validation_error
from headwater.deploy.records import ChangeSetRecord, StackRecord
from headwater.deploy.template import check_template
from headwater.services.base import Params, RequestContext, Result
from headwater.services.cloudformation import describe
from headwater.services.cloudformation.templates import PreparedTemplate, check_capabilities

if TYPE_CHECKING:
    from headwater.services.cloudformation.service import CloudFormationService

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


def change_set_not_found(name: str) -> AwsError:
    return AwsError("ChangeSetNotFound", f"ChangeSet [{name}] does not exist", status=404)


def create_change_set(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    name = str(params.get("StackName", ""))
    cs_name = str(params.get("ChangeSetName", ""))
    kind = str(params.get("ChangeSetType") or "UPDATE")
    if kind not in ("CREATE", "UPDATE"):
        raise validation_error(f"ChangeSetType {kind} is not supported by headwater")
    with cfn._lock:
        stack = cfn.find_stack(name, ctx)
        if kind == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                shown = name if not name.startswith("arn:") else stack.stack_id
                raise validation_error(
                    f"Stack [{shown}] already exists and cannot be created again with the "
                    f"changeSet [{cs_name}]."
                )
            if name.startswith("arn:"):
                raise validation_error(f"Stack [{name}] does not exist")
        else:
            if stack is None or stack.status == "REVIEW_IN_PROGRESS":
                raise validation_error(f"Stack [{name}] does not exist")
            if stack.status not in _UPDATABLE_FOR_CHANGE_SET:
                raise validation_error(
                    f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                )
        previous = stack if kind == "UPDATE" else None
        prepared_or_error: Any
        try:
            prepared_or_error = cfn.prepare_template(params, ctx, previous=previous)
        except AwsError as error:
            if "Transform" not in error.message or "failed with" not in error.message:
                raise
            prepared_or_error = error
        if stack is None:
            stack = cfn.new_stack(name, ctx, "REVIEW_IN_PROGRESS", params)
            cfn.store.put_stack(stack)
            _run(cfn, stack).stack_event("REVIEW_IN_PROGRESS", "User Initiated")
        else:
            existing = cfn.store.find_change_set(stack.stack_id, cs_name)
            if existing is not None and existing.execution_status.startswith("EXECUTE_"):
                # an executed change set no longer holds its name
                cfn.store.delete_change_set(existing.change_set_id)
            elif existing is not None:
                raise AwsError("AlreadyExistsException", f"ChangeSet [{cs_name}] already exists")
        record = ChangeSetRecord(
            change_set_id=(
                f"arn:aws:cloudformation:{ctx.region}:{ctx.account}:changeSet/{cs_name}/"
                f"{new_uuid()}"
            ),
            name=cs_name,
            stack_id=stack.stack_id,
            stack_name=stack.name,
            change_set_type=kind,
            status="CREATE_IN_PROGRESS",
            execution_status="UNAVAILABLE",
            creation_time=cfn.env.clock.now(),
            description=params.get("Description"),
            supplied_parameters=list(params.get("Parameters") or []),
            capabilities=list(params.get("Capabilities") or []),
            tags=list(params.get("Tags") or []),
            notification_arns=list(params.get("NotificationARNs") or []),
            role_arn=params.get("RoleARN"),
            include_nested_stacks=bool(params.get("IncludeNestedStacks", False)),
            endpoint=ctx.endpoint,
        )
        if isinstance(prepared_or_error, AwsError):
            _fail(cfn, record, prepared_or_error.message)
            return {"Id": record.change_set_id, "StackId": stack.stack_id}
        prepared = prepared_or_error
        check_capabilities(prepared, record.capabilities, through_change_set=True)
        target = cfn.build_target(prepared, stack, params, previous=previous)
        record.template_body = prepared.body
        record.processed = prepared.document
        record.parameters = target.parameters.describe()
        record.parameter_values = dict(target.parameters.given)
        current = cfn.store.resources(stack.stack_id) if kind == "UPDATE" else {}
        old_template = check_template(stack.processed) if kind == "UPDATE" else None
        try:
            found = describe_changes(
                target,
                current,
                old_template=old_template,
                old_parameters=_old_values(stack) if kind == "UPDATE" else {},
                import_value=lambda export: cfn.export_value(stack, export),
                ssm=cfn.ssm_lookup(stack.region),
            )
        except TemplateError as error:
            _fail(cfn, record, error.message)
            return {"Id": record.change_set_id, "StackId": stack.stack_id}
        record.changes = found.changes
        record.status_reason = found.warning
        unchanged = (
            kind == "UPDATE"
            and not record.changes
            and prepared.document == stack.processed
            and record.parameter_values == stack.parameter_values
        )
        if unchanged:
            _fail(cfn, record, NO_CHANGES)
        else:
            record.status = "CREATE_COMPLETE"
            record.execution_status = "AVAILABLE"
            cfn.store.put_change_set(record)
    return {"Id": record.change_set_id, "StackId": stack.stack_id}


_UPDATABLE_FOR_CHANGE_SET = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


def _old_values(stack: StackRecord) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for entry in stack.parameters:
        values[entry["ParameterKey"]] = stack.parameter_values.get(entry["ParameterKey"])
    return values


def _fail(cfn: CloudFormationService, record: ChangeSetRecord, reason: str) -> None:
    record.status = "FAILED"
    record.execution_status = "UNAVAILABLE"
    record.status_reason = reason
    cfn.store.put_change_set(record)


def _run(cfn: CloudFormationService, stack: StackRecord) -> StackRun:
    return StackRun(
        cfn.store,
        cfn.providers,
        cfn.clients_for(stack),
        cfn.env.clock.now,
        stack,
        ssm=cfn.ssm_lookup(stack.region),
        secrets=cfn.secret_lookup(stack),
    )


def find_change_set(
    cfn: CloudFormationService, params: Params, ctx: RequestContext
) -> ChangeSetRecord:
    name = str(params.get("ChangeSetName", ""))
    if name.startswith("arn:"):
        found = cfn.store.get_change_set(name)
        if found is None:
            raise change_set_not_found(name)
        return found
    stack_name = params.get("StackName")
    if not stack_name:
        raise validation_error(
            "StackName must be specified if ChangeSetName is not specified as an ARN."
        )
    stack = cfn.find_stack(stack_name, ctx)
    if stack is None:
        raise validation_error(f"Stack [{stack_name}] does not exist")
    found = cfn.store.find_change_set(stack.stack_id, name)
    if found is None:
        raise change_set_not_found(name)
    return found


def describe_change_set(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    record = find_change_set(cfn, params, ctx)
    return describe.change_set(record, include_values=bool(params.get("IncludePropertyValues")))


def list_change_sets(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    stack = cfn.find_stack(params.get("StackName"), ctx)
    if stack is None:
        raise validation_error(f"Stack [{params.get('StackName')}] does not exist")
    return {
        "Summaries": [
            describe.change_set_summary(record) for record in cfn.store.change_sets(stack.stack_id)
        ]
    }


def delete_change_set(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    with cfn._lock:
        record = find_change_set(cfn, params, ctx)
        if record.execution_status == "EXECUTE_IN_PROGRESS":
            raise AwsError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{record.change_set_id}] cannot be deleted in its current status of "
                f"[{record.execution_status}]",
            )
        cfn.store.delete_change_set(record.change_set_id)
    return {}


def execute_change_set(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    with cfn._lock:
        record = find_change_set(cfn, params, ctx)
        if record.status != "CREATE_COMPLETE" or record.execution_status != "AVAILABLE":
            state = record.status if record.status != "CREATE_COMPLETE" else record.execution_status
            raise AwsError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{record.change_set_id}] cannot be executed in its current status of "
                f"[{state}]",
            )
        stack = cfn.store.get_stack(record.stack_id)
        if stack is None:
            raise change_set_not_found(record.name)
        creating = record.change_set_type == "CREATE"
        if not creating:
            cfn.check_updatable(stack)
        prepared = PreparedTemplate(
            body=record.template_body,
            document=record.processed,
            template=check_template(record.processed),
            transforms=(),
        )
        target = cfn.build_target(
            prepared,
            stack,
            {
                "Parameters": record.supplied_parameters,
                "NotificationARNs": record.notification_arns,
            },
            previous=None if creating else stack,
        )
        record.execution_status = "EXECUTE_IN_PROGRESS"
        cfn.store.put_change_set(record)
        stack.change_set_id = record.change_set_id
        stack.capabilities = list(record.capabilities)
        stack.tags = list(record.tags) or stack.tags
        stack.notification_arns = list(record.notification_arns)
        stack.endpoint = ctx.endpoint or stack.endpoint
        if params.get("DisableRollback") is not None:
            stack.disable_rollback = bool(params["DisableRollback"])
        stack.status = "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS"
        cfn.store.put_stack(stack)

    def work(run: StackRun) -> None:
        if creating:
            run.stack.last_updated_time = cfn.env.clock.now()
            cfn.apply_template(run.stack, prepared, target)
            ok = run.create(target)
        else:
            ok = run.update(target, commit=lambda: cfn.apply_template(run.stack, prepared, target))
        record.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        cfn.store.put_change_set(record)
        for other in cfn.store.change_sets(record.stack_id):
            if other.change_set_id != record.change_set_id:
                cfn.store.delete_change_set(other.change_set_id)

    cfn.run(stack, work)
    return {}
