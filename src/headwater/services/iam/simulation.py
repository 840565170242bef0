"""SimulatePrincipalPolicy and SimulateCustomPolicy: IAM's policy evaluation, on request.

headwater stores IAM policies without enforcing them; these operations evaluate them the
way IAM does for identity policies: an explicit Deny wins, else an Allow, else the implicit
deny. ``Action``/``NotAction`` and ``Resource``/``NotResource`` match with IAM's ``*`` and
``?`` wildcards (actions case-insensitively). Conditions are not evaluated: a statement with
a ``Condition`` is taken as matching, and its keys are reported in ``MissingContextValues``
when the request gave no ``ContextEntries`` for them. Each matched statement is located in
its document (line and column) as IAM reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.iam import validation as check
from headwater.services.iam.aws_managed import AWS_MANAGED_POLICIES, is_aws_managed
from headwater.services.iam.entities import IamParts, page
from headwater.store.iam import Entity


@dataclass(frozen=True, slots=True)
class Located:
    """A statement of a policy document and where it is in the text."""

    statement: dict[str, Any]
    policy_id: str
    start: tuple[int, int]
    end: tuple[int, int]


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    items = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(_wildcard(str(p), ignore_case).fullmatch(value) for p in items)


def _close(text: str, start: int) -> int:
    """The offset of the bracket closing the one at ``start`` (strings skipped)."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == '"':
            index += 1
            while index < len(text) and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return len(text) - 1


def _statement_spans(text: str) -> list[tuple[int, int]]:
    """Start and end offsets of each statement object in a policy document's text."""
    found = re.search(r'"Statement"\s*:\s*', text)
    if found is None:
        return []
    start = found.end()
    if text[start : start + 1] == "{":
        return [(start, _close(text, start))]
    spans = []
    end = _close(text, start)
    index = start + 1
    while index < end:
        if text[index] == "{":
            close = _close(text, index)
            spans.append((index, close))
            index = close
        index += 1
    return spans


def _position(text: str, offset: int) -> tuple[int, int]:
    """IAM's (line, column) of a statement boundary: 1-based, one past the brace."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 2
    return line, column


def locate(document: str, policy_id: str) -> list[Located]:
    policy = orjson.loads(document)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    spans = _statement_spans(document)
    located = []
    for index, statement in enumerate(statements):
        start, end = spans[index] if index < len(spans) else (0, 0)
        located.append(
            Located(statement, policy_id, _position(document, start), _position(document, end))
        )
    return located


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        if not _matches(statement["Action"], action, ignore_case=True):
            return False
    elif _matches(statement.get("NotAction"), action, ignore_case=True):
        return False
    if "Resource" in statement:
        return _matches(statement["Resource"], resource, ignore_case=False)
    if "NotResource" in statement:
        return not _matches(statement["NotResource"], resource, ignore_case=False)
    return True


def _matched(statement: Located) -> Result:
    return {
        "SourcePolicyId": statement.policy_id,
        "SourcePolicyType": "IAM Policy",
        "StartPosition": {"Line": statement.start[0], "Column": statement.start[1]},
        "EndPosition": {"Line": statement.end[0], "Column": statement.end[1]},
    }


def evaluate(
    statements: list[Located], action: str, resource: str, context_keys: set[str]
) -> tuple[str, list[Result], list[str]]:
    """(decision, matched statements, missing context keys) for one action on one resource."""
    allows: list[Result] = []
    denies: list[Result] = []
    missing: list[str] = []
    for located in statements:
        statement = located.statement
        if not _applies(statement, action, resource):
            continue
        for condition in (statement.get("Condition") or {}).values():
            for key in condition:
                if key.lower() not in context_keys and key not in missing:
                    missing.append(key)
        (denies if statement.get("Effect") == "Deny" else allows).append(_matched(located))
    if denies:
        return "explicitDeny", denies, missing
    if allows:
        return "allowed", allows, missing
    return "implicitDeny", [], missing


def policy_decision(document: Any, action: str, resource: str) -> str:
    """IAM's decision (``explicitDeny``, ``allowed``, ``implicitDeny``) of a policy
    document (a parsed one: a Lambda authorizer's answer) for one action on one resource;
    conditions are not evaluated (a statement with one matches)."""
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    located = [
        Located(statement, "", (0, 0), (0, 0))
        for statement in statements or []
        if isinstance(statement, dict)
    ]
    return evaluate(located, action, resource, set())[0]


class SimulationOperations(IamParts):
    """Policy simulation (mixed into ``IamService``)."""

    def _managed_documents(self, ctx: RequestContext, owner: Entity) -> list[tuple[str, str]]:
        documents = []
        for arn in self.store.attached(ctx.account, owner):
            if is_aws_managed(arn):
                known = AWS_MANAGED_POLICIES.get(arn)
                if known is not None:
                    documents.append((known.name, known.document))
                continue
            policy = self.store.get(ctx.account, "policy", arn.rsplit("/", 1)[-1])
            if policy is None:
                continue
            default = policy.body["DefaultVersionId"]
            for version_id, document, _ in self.store.versions(ctx.account, policy.key):
                if version_id == default:
                    documents.append((policy.name, document))
        return documents

    def _documents_of(self, ctx: RequestContext, owner: Entity) -> list[tuple[str, str]]:
        documents = [
            (name, self.store.get_inline(ctx.account, owner, name) or "{}")
            for name in self.store.list_inline(ctx.account, owner)
        ]
        return documents + self._managed_documents(ctx, owner)

    def _principal_documents(self, ctx: RequestContext, arn: str) -> list[tuple[str, str]]:
        parts = arn.split(":", 5)
        resource = parts[5] if len(parts) == 6 else ""
        kind, _, rest = resource.partition("/")
        if parts[:3] != ["arn", "aws", "iam"] or kind not in ("user", "group", "role"):
            raise check.invalid_input(
                f"Invalid Entity Arn: {arn} does not clearly define entity type."
            )
        owner = self.store.get(ctx.account, kind, rest.rsplit("/", 1)[-1])
        if owner is None or parts[4] != ctx.account:
            raise check.no_such_entity(f"The {kind} with name {rest} cannot be found.")
        documents = self._documents_of(ctx, owner)
        if kind == "user":
            for group_key in self.store.parents(ctx.account, "group-member", owner.key):
                group = self.store.get(ctx.account, "group", group_key)
                if group is not None:
                    documents += self._documents_of(ctx, group)
        return documents

    def _simulate(self, documents: list[tuple[str, str]], params: Params) -> Result:
        statements = [s for name, text in documents for s in locate(text, name)]
        context = {
            str(entry.get("ContextKeyName", "")).lower()
            for entry in params.get("ContextEntries") or []
        }
        results = []
        for action in params.get("ActionNames") or []:
            for resource in params.get("ResourceArns") or ["*"]:
                decision, matched, missing = evaluate(statements, action, resource, context)
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalResourceName": resource,
                        "EvalDecision": decision,
                        "MatchedStatements": matched,
                        "MissingContextValues": missing,
                        "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
                        "EvalDecisionDetails": {},
                        "ResourceSpecificResults": [
                            {
                                "EvalResourceName": resource,
                                "EvalResourceDecision": decision,
                                "MatchedStatements": matched,
                                "MissingContextValues": missing,
                            }
                        ],
                    }
                )
        return page(results, params, "EvaluationResults")

    @operation("SimulatePrincipalPolicy")
    def simulate_principal_policy(self, params: Params, ctx: RequestContext) -> Result:
        documents = self._principal_documents(ctx, str(params.get("PolicySourceArn") or ""))
        for index, text in enumerate(params.get("PolicyInputList") or []):
            check.check_policy_document(text)
            documents.append((f"PolicyInputList.{index + 1}", text))
        return self._simulate(documents, params)

    @operation("SimulateCustomPolicy")
    def simulate_custom_policy(self, params: Params, ctx: RequestContext) -> Result:
        documents = []
        for index, text in enumerate(params.get("PolicyInputList") or []):
            check.check_policy_document(text)
            documents.append((f"PolicyInputList.{index + 1}", text))
        return self._simulate(documents, params)
