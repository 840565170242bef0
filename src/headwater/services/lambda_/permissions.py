"""Resource-based policies: AddPermission, RemovePermission and GetPolicy.

A function (or one of its versions or aliases) has a policy of statements that say who may
invoke it. Like IAM policies, they are **stored, not enforced**: every caller may invoke
every function on headwater. The statements are built exactly as Lambda builds them from
AddPermission's parameters, so tools that read them back (Terraform's
``aws_lambda_permission``) find what they wrote.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.aliases import precondition_failed
from headwater.services.lambda_.parts import LambdaParts
from headwater.services.lambda_.qualifiers import LATEST, is_version
from headwater.store.functions import FunctionRecord

POLICY_KIND = "policy"
STATEMENT_ID_PATTERN = "([a-zA-Z0-9-_]+)"
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ACTION_PATTERN = r"(lambda:[*]|lambda:[a-zA-Z]+|[*])"
_STATEMENT_ID = re.compile(STATEMENT_ID_PATTERN)
_QUALIFIER = re.compile(QUALIFIER_PATTERN)
_ACTION = re.compile(ACTION_PATTERN)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_SERVICE = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?|[a-z0-9.-]+\.amazon\.com")
NO_SUCH_RESOURCE = "The resource you requested does not exist."


def _validation(value: Any, member: str, pattern: str) -> AwsError:
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}",
    )


def _not_found(message: str) -> AwsError:
    return check.user_error("ResourceNotFoundException", message, 404)


def principal_of(principal: Any) -> Any:
    """The statement's ``Principal`` for AddPermission's ``Principal`` parameter."""
    text = str(principal or "")
    if text == "*":
        return "*"
    if _ACCOUNT.fullmatch(text):
        return {"AWS": f"arn:aws:iam::{text}:root"}
    if text.startswith("arn:") and ":iam::" in text:
        return {"AWS": text}
    if _SERVICE.fullmatch(text):
        return {"Service": text}
    raise check.invalid_parameter(
        "The provided principal was invalid. Please check the principal and try again."
    )


def statement_of(params: Params, resource: str) -> dict[str, Any]:
    """The policy statement Lambda makes of AddPermission's parameters."""
    action = str(params.get("Action") or "")
    if not _ACTION.fullmatch(action):
        raise _validation(action, "action", ACTION_PATTERN)
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": principal_of(params.get("Principal")),
        "Action": action,
        "Resource": resource,
    }
    equals: dict[str, str] = {}
    for member, key in (
        ("SourceAccount", "AWS:SourceAccount"),
        ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
        ("PrincipalOrgID", "aws:PrincipalOrgID"),
        ("EventSourceToken", "lambda:EventSourceToken"),
    ):
        if params.get(member):
            equals[key] = str(params[member])
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if params.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": str(params["SourceArn"])}
    if params.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        statement["Condition"] = condition
    return statement


class PermissionOperations(LambdaParts):
    """AddPermission, RemovePermission, GetPolicy (mixed into ``LambdaService``)."""

    def _policy_owner(
        self, params: Params, ctx: RequestContext, *, missing_function: str | None = None
    ) -> tuple[FunctionRecord, str]:
        """The function and qualifier ("" unqualified) whose policy a call is about."""
        qualifier = params.get("Qualifier")
        if qualifier is not None and not _QUALIFIER.fullmatch(str(qualifier)):
            raise _validation(qualifier, "qualifier", QUALIFIER_PATTERN)
        parsed, home = self._locate(params.get("FunctionName", ""), qualifier, ctx.region)
        record = self._functions.get(home, parsed.name)
        if record is None:
            if missing_function is not None:
                raise _not_found(missing_function + self._arn(home, parsed.name))
            raise check.not_found(self._arn(home, parsed.name))
        qualifier = parsed.qualifier
        if qualifier is None or qualifier == LATEST:
            return record, qualifier or ""
        if is_version(qualifier) or "$" in qualifier:
            if (
                not is_version(qualifier)
                or self._resources.version(home, record.name, int(qualifier)) is None
            ):
                raise check.not_found(self._arn(home, record.name, qualifier))
        elif self._resources.alias(home, record.name, qualifier) is None:
            raise _not_found(f"Cannot find alias arn: {self._arn(home, record.name, qualifier)}")
        return record, qualifier

    def _check_policy_revision(
        self,
        record: FunctionRecord,
        qualifier: str,
        policy: dict[str, Any] | None,
        revision: str | None,
    ) -> None:
        """A RevisionId must be the policy's: for the unqualified function, that is the
        function's own revision (a policy change gives $LATEST a new revision)."""
        if revision is None:
            return
        current = record.revision_id if not qualifier else (policy or {}).get("RevisionId")
        if revision != current:
            raise precondition_failed("GetPolicy")

    def _store_policy(
        self, record: FunctionRecord, qualifier: str, statements: list[dict[str, Any]]
    ) -> None:
        region, name = record.region, record.name
        revision = str(uuid.uuid4())
        if statements:
            body = {"Statements": statements, "RevisionId": revision}
            self._resources.put_setting(region, name, qualifier, POLICY_KIND, body)
        else:
            self._resources.delete_setting(region, name, qualifier, POLICY_KIND)
        if not qualifier:
            # The function's policy is part of $LATEST: it shares the policy's revision.
            # Code and configuration are unchanged, so its workers keep running.
            latest = self._functions.get(region, name) or record
            self._functions.replace(latest.with_changes(revision_id=revision))

    @operation("AddPermission")
    def add_permission(self, params: Params, ctx: RequestContext) -> Result:
        statement_id = str(params.get("StatementId") or "")
        if not _STATEMENT_ID.fullmatch(statement_id):
            raise _validation(statement_id, "statementId", STATEMENT_ID_PATTERN)
        with self._function_lock, self._resources.transaction():
            record, qualifier = self._policy_owner(params, ctx)
            if qualifier == LATEST:
                raise check.invalid_parameter(
                    "We currently do not support adding policies for $LATEST."
                )
            region, name = record.region, record.name
            policy = self._resources.setting(region, name, qualifier, POLICY_KIND)
            self._check_policy_revision(record, qualifier, policy, params.get("RevisionId"))
            statements = list((policy or {}).get("Statements", []))
            if any(s["Sid"] == statement_id for s in statements):
                raise check.user_error(
                    "ResourceConflictException",
                    f"The statement id ({statement_id}) provided already exists. Please provide "
                    "a new statement id, or remove the existing statement.",
                    409,
                )
            resource = self._arn(region, name, qualifier or None)
            statement = statement_of(params, resource)
            statements.append(statement)
            self._store_policy(record, qualifier, statements)
        return {"Statement": orjson.dumps(statement).decode(), "_status": 201}

    @operation("RemovePermission")
    def remove_permission(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock, self._resources.transaction():
            record, qualifier = self._policy_owner(
                params, ctx, missing_function="No policy found for: "
            )
            region, name = record.region, record.name
            policy = self._resources.setting(region, name, qualifier, POLICY_KIND)
            if policy is None:
                raise _not_found("No policy is associated with the given resource.")
            self._check_policy_revision(record, qualifier, policy, params.get("RevisionId"))
            statement_id = params.get("StatementId")
            statements = [s for s in policy["Statements"] if s["Sid"] != statement_id]
            if len(statements) == len(policy["Statements"]):
                raise _not_found(f"Statement {statement_id} is not found in resource policy.")
            self._store_policy(record, qualifier, statements)
        return {"_status": 204}

    @operation("GetPolicy")
    def get_policy(self, params: Params, ctx: RequestContext) -> Result:
        try:
            record, qualifier = self._policy_owner(params, ctx)
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                raise _not_found(NO_SUCH_RESOURCE) from None
            raise
        policy = self._resources.setting(record.region, record.name, qualifier, POLICY_KIND)
        if policy is None:
            raise _not_found(NO_SUCH_RESOURCE)
        document = {"Version": "2012-10-17", "Id": "default", "Statement": policy["Statements"]}
        return {"Policy": orjson.dumps(document).decode(), "RevisionId": policy["RevisionId"]}
