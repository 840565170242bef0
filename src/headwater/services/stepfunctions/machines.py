"""State machines: create, describe, list, update, delete, and the resource tag calls."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.paging import OffsetTokens
from headwater.core.tag_lists import tag_list, tag_pairs
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.stepfunctions.definition import (
    definition_problems,
    diagnostic,
    parse_definition,
)
from headwater.services.stepfunctions.store import MachineRecord, StepFunctionsStore

MACHINE_TYPES = ("STANDARD", "EXPRESS")
MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
#: AWS: 1-80 characters, none of whitespace, brackets, wildcards or these punctuation marks.
_NAME = re.compile(r'^[^\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$')


def machine_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:states:{ctx.region}:{ctx.account}:stateMachine:{name}"


def check_name(name: Any) -> str:
    text = str(name)
    if not _NAME.match(text):
        raise AwsError("InvalidName", f"Invalid Name: '{text}'")
    return text


def invalid_arn(arn: Any) -> AwsError:
    # AWS's text for a well-formed ARN of another kind; used for every bad ARN here.
    return AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


def machine_not_found(arn: str) -> AwsError:
    return AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


_TOKENS = OffsetTokens(invalid=lambda token: AwsError("InvalidToken", f"Invalid Token: '{token}'"))


def page(items: list[Any], params: Params) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``nextToken`` (an offset) and ``maxResults``."""
    limit = int(params.get("maxResults") or DEFAULT_RESULTS)
    if not 0 <= limit <= MAX_RESULTS:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy"
            f" constraint: Member must have value less than or equal to {MAX_RESULTS}",
        )
    return _TOKENS.page(items, params.get("nextToken"), limit or DEFAULT_RESULTS)


def definition_text(value: Any) -> str:
    """The definition parameter as text (in process a caller may pass the object)."""
    return value if isinstance(value, str) else json.dumps(value)


def _tags_of(params: Params) -> dict[str, str]:
    """The request's ``tags`` as a mapping."""
    return dict(tag_pairs(params.get("tags"), key="key", value="value"))


class MachineOperations(Service):
    """CreateStateMachine, DescribeStateMachine, ListStateMachines, UpdateStateMachine,
    DeleteStateMachine, TagResource, UntagResource and ListTagsForResource."""

    store: StepFunctionsStore

    def machine(self, ctx: RequestContext, arn: Any) -> MachineRecord:
        """The machine ``arn`` names; InvalidArn or StateMachineDoesNotExist otherwise."""
        text = str(arn)
        prefix = f"arn:aws:states:{ctx.region}:{ctx.account}:stateMachine:"
        if not text.startswith("arn:aws:states:") or ":stateMachine:" not in text:
            raise invalid_arn(text)
        name = text[len(prefix) :] if text.startswith(prefix) else None
        found = None if name is None else self.store.get_machine(ctx.account, ctx.region, name)
        if found is None:
            raise machine_not_found(text)
        return found

    @operation("CreateStateMachine")
    def create_state_machine(self, params: Params, ctx: RequestContext) -> Result:
        name = check_name(params["name"])
        definition = definition_text(params["definition"])
        parse_definition(definition)
        kind = str(params.get("type") or "STANDARD")
        if kind not in MACHINE_TYPES:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{kind}' at 'type' failed to satisfy"
                " constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]",
            )
        if params.get("publish"):
            raise AwsError(
                "ValidationException", "headwater does not support state machine versions"
            )
        arn = machine_arn(ctx, name)
        now = self.env.clock.now()
        record = MachineRecord(
            name=name,
            arn=arn,
            definition=definition,
            role_arn=str(params["roleArn"]),
            type=kind,
            created=now,
            updated=now,
            revision_id=str(uuid.uuid4()),
            tags=_tags_of(params),
            logging=params.get("loggingConfiguration"),
            tracing=params.get("tracingConfiguration"),
        )
        with self.store.db.transaction():
            existing = self.store.get_machine(ctx.account, ctx.region, name)
            if existing is not None:
                same = (existing.definition, existing.role_arn, existing.type) == (
                    definition,
                    record.role_arn,
                    kind,
                )
                if not same:
                    raise AwsError(
                        "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'"
                    )
                return {"stateMachineArn": arn, "creationDate": as_datetime(existing.created)}
            self.store.put_machine(ctx.account, ctx.region, record)
        return {"stateMachineArn": arn, "creationDate": as_datetime(now)}

    @operation("DescribeStateMachine")
    def describe_state_machine(self, params: Params, ctx: RequestContext) -> Result:
        machine = self.machine(ctx, params["stateMachineArn"])
        result: Result = {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": machine.definition,
            "roleArn": machine.role_arn,
            "type": machine.type,
            "creationDate": as_datetime(machine.created),
            "loggingConfiguration": machine.logging
            or {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": machine.tracing or {"enabled": False},
            "revisionId": machine.revision_id,
        }
        if machine.description:
            result["description"] = machine.description
        return result

    @operation("ListStateMachines")
    def list_state_machines(self, params: Params, ctx: RequestContext) -> Result:
        machines, token = page(self.store.machines(ctx.account, ctx.region), params)
        result: Result = {
            "stateMachines": [
                {
                    "stateMachineArn": m.arn,
                    "name": m.name,
                    "type": m.type,
                    "creationDate": as_datetime(m.created),
                }
                for m in machines
            ]
        }
        if token:
            result["nextToken"] = token
        return result

    @operation("UpdateStateMachine")
    def update_state_machine(self, params: Params, ctx: RequestContext) -> Result:
        changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
        if not any(key in params for key in changes):
            raise AwsError(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, or the"
                " TracingConfiguration must be specified",
            )
        with self.store.db.transaction():
            machine = self.machine(ctx, params["stateMachineArn"])
            if "definition" in params:
                machine.definition = definition_text(params["definition"])
                parse_definition(machine.definition)
            if "roleArn" in params:
                machine.role_arn = str(params["roleArn"])
            if "loggingConfiguration" in params:
                machine.logging = params["loggingConfiguration"]
            if "tracingConfiguration" in params:
                machine.tracing = params["tracingConfiguration"]
            machine.updated = self.env.clock.now()
            machine.revision_id = str(uuid.uuid4())
            self.store.put_machine(ctx.account, ctx.region, machine)
        return {"updateDate": as_datetime(machine.updated), "revisionId": machine.revision_id}

    @operation("DeleteStateMachine")
    def delete_state_machine(self, params: Params, ctx: RequestContext) -> Result:
        try:
            machine = self.machine(ctx, params["stateMachineArn"])
        except AwsError as error:
            if error.code == "StateMachineDoesNotExist":
                return {}  # AWS answers a delete of an unknown machine with success
            raise
        self.store.delete_machine(ctx.account, ctx.region, machine.name)
        return {}

    @operation("ValidateStateMachineDefinition")
    def validate_state_machine_definition(self, params: Params, ctx: RequestContext) -> Result:
        """The checks CreateStateMachine makes, as diagnostics (headwater finds only errors,
        no warnings)."""
        problems = definition_problems(definition_text(params["definition"]))
        limit = int(params.get("maxResults") or 100)
        diagnostics = [diagnostic(problem) for problem in problems]
        result: Result = {
            "result": "FAIL" if problems else "OK",
            "diagnostics": diagnostics[:limit],
        }
        result["truncated"] = len(diagnostics) > limit
        return result

    @operation("ListStateMachineVersions")
    def list_state_machine_versions(self, params: Params, ctx: RequestContext) -> Result:
        """None: headwater makes no versions (``publish`` is refused)."""
        self.machine(ctx, params["stateMachineArn"])
        return {"stateMachineVersions": []}

    @operation("ListStateMachineAliases")
    def list_state_machine_aliases(self, params: Params, ctx: RequestContext) -> Result:
        """None: headwater makes no aliases."""
        self.machine(ctx, params["stateMachineArn"])
        return {"stateMachineAliases": []}

    # ---- tags ----

    def _tagged(self, ctx: RequestContext, arn: Any) -> MachineRecord:
        try:
            return self.machine(ctx, arn)
        except AwsError as error:
            if error.code == "StateMachineDoesNotExist":
                raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'") from None
            raise

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            machine = self._tagged(ctx, params["resourceArn"])
            machine.tags.update(_tags_of(params))
            if len(machine.tags) > 50:
                raise AwsError(
                    "TooManyTags", "Too many tags: the resource can have at most 50 tags"
                )  # guessed text
            self.store.put_machine(ctx.account, ctx.region, machine)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            machine = self._tagged(ctx, params["resourceArn"])
            for key in params.get("tagKeys") or []:
                machine.tags.pop(key, None)
            self.store.put_machine(ctx.account, ctx.region, machine)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {
            "tags": tag_list(
                self._tagged(ctx, params["resourceArn"]).tags, key="key", value="value"
            )
        }
