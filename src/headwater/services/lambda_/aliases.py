"""Aliases: named pointers to a version, optionally splitting traffic with a second one.

An alias is resolved on every invocation (``qualifiers.QualifierResolver``), so moving it
moves the traffic of everything that invokes it (callers, event source mappings on the
alias ARN) from the next invocation on; ``RoutingConfig.AdditionalVersionWeights``
sends that share of invocations to the additional version.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.parts import LambdaParts, marker_page
from headwater.services.lambda_.qualifiers import LATEST, is_version
from headwater.store.functions import FunctionRecord

ALIAS_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_ALIAS = re.compile(ALIAS_PATTERN)
MAX_ALIAS_LENGTH = 128
WEIGHT_CONSTRAINT = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)
KEY_CONSTRAINT = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
    "Member must have length greater than or equal to 1, Member must satisfy regular "
    "expression pattern: [0-9]+]"
)


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def check_alias_name(name: Any) -> str:
    text = str(name or "")
    if len(text) > MAX_ALIAS_LENGTH:
        raise _validation(
            f"1 validation error detected: Value '{text}' at 'name' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ALIAS_LENGTH}"
        )
    if not _ALIAS.fullmatch(text) or text.isdigit():
        raise _validation(
            f"1 validation error detected: Value '{text}' at 'name' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {ALIAS_PATTERN}"
        )
    return text


def _weights_text(weights: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={float(v)}" for k, v in weights.items()) + "}"


def precondition_failed(what: str = "GetFunction/GetAlias") -> AwsError:
    return check.user_error(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        f"{what} API to retrieve the latest Revision Id",
        412,
    )


class AliasOperations(LambdaParts):
    """Create/Get/Update/Delete/ListAliases (mixed into ``LambdaService``)."""

    def _alias_result(self, record: FunctionRecord, alias: dict[str, Any]) -> Result:
        result: Result = {
            "AliasArn": self._arn(record.region, record.name, alias["Name"]),
            "Name": alias["Name"],
            "FunctionVersion": alias["FunctionVersion"],
            "Description": alias.get("Description", ""),
        }
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        if weights:
            result["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)}
        result["RevisionId"] = alias["RevisionId"]
        return result

    def _function_for_alias(
        self, params: Params, ctx: RequestContext, version: str | None = None
    ) -> FunctionRecord:
        parsed, home = self._locate(params.get("FunctionName", ""), region=ctx.region)
        record = self._functions.get(home, parsed.name)
        if record is None:
            raise check.not_found(self._arn(home, parsed.name, version))
        return record

    def _check_version(self, record: FunctionRecord, version: str) -> None:
        if version == LATEST:
            return
        if (
            not is_version(version)
            or self._resources.version(record.region, record.name, int(version)) is None
        ):
            raise check.not_found(self._arn(record.region, record.name, version))

    def _routing(self, record: FunctionRecord, version: str, routing: Any) -> dict[str, Any]:
        """A checked ``RoutingConfig`` (``{}`` when it sends everything to ``version``)."""
        weights = (routing or {}).get("AdditionalVersionWeights") or {}
        if not weights:
            return {}
        for key, weight in weights.items():
            if not is_version(str(key)):
                raise _validation(
                    f"1 validation error detected: Value '{_weights_text(weights)}' at "
                    f"'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                    f"{KEY_CONSTRAINT}"
                )
            if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
                raise _validation(
                    f"1 validation error detected: Value '{_weights_text(weights)}' at "
                    f"'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                    f"{WEIGHT_CONSTRAINT}"
                )
        if len(weights) > 1:
            raise check.invalid_parameter(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        if version == LATEST:
            raise check.invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        for key in weights:
            if key == version:
                raise check.invalid_parameter(
                    f"Invalid function version {key}. Function version {key} is already "
                    "included in routing configuration."
                )
            self._check_version(record, str(key))
        return {"AdditionalVersionWeights": {str(k): float(v) for k, v in weights.items()}}

    @operation("CreateAlias")
    def create_alias(self, params: Params, ctx: RequestContext) -> Result:
        name = check_alias_name(params.get("Name"))
        version = str(params.get("FunctionVersion") or "")
        description = check.check_description(params.get("Description"))
        with self._function_lock:
            record = self._function_for_alias(params, ctx, version)
            routing = self._routing(record, version, params.get("RoutingConfig"))
            self._check_version(record, version)
            alias = {
                "Name": name,
                "FunctionVersion": version,
                "Description": description,
                "RoutingConfig": routing,
                "RevisionId": str(uuid.uuid4()),
            }
            if not self._resources.put_alias(record.region, record.name, name, alias, create=True):
                raise check.user_error(
                    "ResourceConflictException",
                    f"Alias already exists: {self._arn(record.region, record.name, name)}",
                    409,
                )
        result = self._alias_result(record, alias)
        result["_status"] = 201
        return result

    def _alias(
        self, params: Params, ctx: RequestContext, missing: str
    ) -> tuple[FunctionRecord, dict[str, Any]]:
        record = self._function_for_alias(params, ctx, params.get("Name"))
        name = str(params.get("Name") or "")
        alias = self._resources.alias(record.region, record.name, name)
        if alias is None:
            raise check.user_error(
                "ResourceNotFoundException",
                f"{missing}{self._arn(record.region, record.name, name)}",
                404,
            )
        return record, alias

    @operation("GetAlias")
    def get_alias(self, params: Params, ctx: RequestContext) -> Result:
        record, alias = self._alias(params, ctx, "Cannot find alias arn: ")
        return self._alias_result(record, alias)

    @operation("UpdateAlias")
    def update_alias(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            record, alias = self._alias(params, ctx, "Alias not found: ")
            revision = params.get("RevisionId")
            if revision is not None and revision != alias["RevisionId"]:
                raise precondition_failed()
            version = str(params.get("FunctionVersion") or alias["FunctionVersion"])
            if "RoutingConfig" in params:
                routing = self._routing(record, version, params.get("RoutingConfig"))
            else:
                routing = self._routing(record, version, alias.get("RoutingConfig"))
            self._check_version(record, version)
            updated = {
                **alias,
                "FunctionVersion": version,
                "RoutingConfig": routing,
                "RevisionId": str(uuid.uuid4()),
            }
            if "Description" in params:
                updated["Description"] = check.check_description(params.get("Description"))
            self._resources.put_alias(
                record.region, record.name, alias["Name"], updated, create=False
            )
        return self._alias_result(record, updated)

    @operation("DeleteAlias")
    def delete_alias(self, params: Params, ctx: RequestContext) -> Result:
        record = self._function_for_alias(params, ctx)
        self._resources.delete_alias(record.region, record.name, str(params.get("Name") or ""))
        return {"_status": 204}

    @operation("ListAliases")
    def list_aliases(self, params: Params, ctx: RequestContext) -> Result:
        record = self._function_for_alias(params, ctx)
        wanted = params.get("FunctionVersion")
        aliases = [
            self._alias_result(record, alias)
            for alias in self._resources.aliases(record.region, record.name)
            if wanted is None or alias["FunctionVersion"] == wanted
        ]
        return marker_page(aliases, params, "Aliases")
