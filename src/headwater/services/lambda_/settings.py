"""Per-function settings headwater stores and answers as AWS does, without acting on them:
provisioned concurrency, runtime management, recursion detection and code signing (none
can be set here; the getter answers as AWS does when none is set). Function URLs are
``function_urls``.

Provisioned concurrency is stored per version or alias and reported ``READY`` at once;
headwater's workers start on demand whatever it says (``hw.lambda_`` callers can warm
them with ``prewarm``).
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import AwsError, validation_error
from headwater.core.values import JAVA_INT
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.configuration import last_modified
from headwater.services.lambda_.parts import LambdaParts, marker_page
from headwater.services.lambda_.qualifiers import LATEST, is_version
from headwater.store.functions import FunctionRecord

#: A new AWS account's concurrent executions, named in the too-much-concurrency error.
ACCOUNT_CONCURRENCY = 1000

PROVISIONED = "provisioned-concurrency"
RUNTIME_MANAGEMENT = "runtime-management"
RECURSION = "recursion"
RECURSIVE_LOOPS = ("Terminate", "Allow")
UPDATE_RUNTIME_ON = ("Auto", "Manual", "FunctionUpdate")
#: botocore's pattern of a RuntimeVersionArn (a managed runtime's, or a custom one's).
RUNTIME_VERSION_ARN_PATTERN = (
    r"((arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}::"
    r"runtime:.+)|(arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-"
    r"\d{1}:\d{12}:runtime/[A-Za-z0-9_.-]{1,128}/version/[A-Za-z0-9_.-]{1,128}))"
)
_RUNTIME_VERSION_ARN = re.compile(RUNTIME_VERSION_ARN_PATTERN)


def _not_in_enum(value: Any, member: str, allowed: tuple[str, ...]) -> AwsError:
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]",
    )


def _not_found(message: str) -> AwsError:
    return check.user_error("ResourceNotFoundException", message, 404)


class SettingOperations(LambdaParts):
    """Provisioned concurrency and the other stored settings (mixed into ``LambdaService``)."""

    def _published(
        self, params: Params, ctx: RequestContext, latest_message: str
    ) -> tuple[FunctionRecord, str]:
        """The function and the version or alias a provisioned-concurrency call names."""
        parsed, home = self._locate(
            params.get("FunctionName", ""), params.get("Qualifier"), ctx.region
        )
        qualifier = parsed.qualifier
        if qualifier is None or qualifier == LATEST:
            raise check.invalid_parameter(latest_message)
        record = self._functions.get(home, parsed.name)
        if is_version(qualifier):
            if record is None or self._resources.version(home, parsed.name, int(qualifier)) is None:
                raise check.not_found(self._arn(home, parsed.name, qualifier))
        elif record is None or self._resources.alias(home, parsed.name, qualifier) is None:
            raise _not_found(f"Cannot find alias arn: {self._arn(home, parsed.name, qualifier)}")
        assert record is not None
        return record, qualifier

    def _function(self, params: Params, ctx: RequestContext) -> FunctionRecord:
        parsed, home = self._locate(params.get("FunctionName", ""), region=ctx.region)
        record = self._functions.get(home, parsed.name)
        if record is None:
            raise check.not_found(self._arn(home, parsed.name))
        return record

    # -- provisioned concurrency ----------------------------------------------------------

    def _provisioned_result(self, body: dict[str, Any], *, ready: bool) -> Result:
        requested = body["RequestedProvisionedConcurrentExecutions"]
        return {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": requested if ready else 0,
            "AllocatedProvisionedConcurrentExecutions": requested if ready else 0,
            "Status": "READY" if ready else "IN_PROGRESS",
            "LastModified": last_modified(body["LastModified"]),
        }

    def _alias_version(self, record: FunctionRecord, qualifier: str) -> str:
        if is_version(qualifier):
            return qualifier
        alias = self._resources.alias(record.region, record.name, qualifier) or {}
        return str(alias.get("FunctionVersion", ""))

    @operation("PutProvisionedConcurrencyConfig")
    def put_provisioned_concurrency_config(self, params: Params, ctx: RequestContext) -> Result:
        count = params.get("ProvisionedConcurrentExecutions")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{count}' at "
                "'provisionedConcurrentExecutions' failed to satisfy constraint: Member must "
                "have value greater than or equal to 1",
            )
        with self._function_lock, self._resources.transaction():
            record, qualifier = self._published(
                params,
                ctx,
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.",
            )
            version = self._alias_version(record, qualifier)
            for other, _ in self._resources.settings(record.region, record.name, PROVISIONED):
                if other == qualifier or self._alias_version(record, other) != version:
                    continue
                if is_version(qualifier):
                    raise check.user_error(
                        "ResourceConflictException",
                        "Version is pointed by a Provisioned Concurrency alias",
                        409,
                    )
                raise check.user_error(
                    "ResourceConflictException",
                    "Alias can't be used for Provisioned Concurrency configuration on an "
                    "already Provisioned version",
                    409,
                )
            if count > JAVA_INT[-1]:
                # Far beyond any account's concurrency (the store keeps 64-bit integers):
                # AWS's answer to a request above the account's unreserved pool.
                raise check.user_error(
                    "InvalidParameterValueException",
                    "Specified ConcurrentExecutions for function is greater than account's "
                    f"unreserved concurrency [{ACCOUNT_CONCURRENCY}].",
                )
            body = {
                "RequestedProvisionedConcurrentExecutions": count,
                "LastModified": self.env.clock.now(),
            }
            self._resources.put_setting(record.region, record.name, qualifier, PROVISIONED, body)
        result = self._provisioned_result(body, ready=False)
        result["_status"] = 202
        return result

    @operation("GetProvisionedConcurrencyConfig")
    def get_provisioned_concurrency_config(self, params: Params, ctx: RequestContext) -> Result:
        record, qualifier = self._published(
            params, ctx, "The function resource provided must be an alias or a published version."
        )
        body = self._resources.setting(record.region, record.name, qualifier, PROVISIONED)
        if body is None:
            raise check.user_error(
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
                404,
            )
        return self._provisioned_result(body, ready=True)

    @operation("DeleteProvisionedConcurrencyConfig")
    def delete_provisioned_concurrency_config(self, params: Params, ctx: RequestContext) -> Result:
        record, qualifier = self._published(
            params, ctx, "The function resource provided must be an alias or a published version."
        )
        self._resources.delete_setting(record.region, record.name, qualifier, PROVISIONED)
        return {"_status": 204}

    @operation("ListProvisionedConcurrencyConfigs")
    def list_provisioned_concurrency_configs(self, params: Params, ctx: RequestContext) -> Result:
        record = self._function(params, ctx)
        configs = []
        for qualifier, body in self._resources.settings(record.region, record.name, PROVISIONED):
            config = self._provisioned_result(body, ready=True)
            config["FunctionArn"] = self._arn(record.region, record.name, qualifier)
            configs.append(config)
        return marker_page(configs, params, "ProvisionedConcurrencyConfigs")

    # -- runtime management, recursion ----------------------------------------------------

    @operation("GetRuntimeManagementConfig")
    def get_runtime_management_config(self, params: Params, ctx: RequestContext) -> Result:
        target = self._target(params.get("FunctionName", ""), params.get("Qualifier"), ctx.region)
        record = target.record
        qualifier = target.qualifier if target.qualifier != LATEST else None
        body = self._resources.setting(
            record.region, record.name, qualifier or "", RUNTIME_MANAGEMENT
        ) or {"UpdateRuntimeOn": "Auto"}
        result: Result = {"UpdateRuntimeOn": body["UpdateRuntimeOn"]}
        if body.get("RuntimeVersionArn"):
            result["RuntimeVersionArn"] = body["RuntimeVersionArn"]
        result["FunctionArn"] = self._arn(record.region, record.name, qualifier)
        return result

    @operation("PutRuntimeManagementConfig")
    def put_runtime_management_config(self, params: Params, ctx: RequestContext) -> Result:
        update_on = params.get("UpdateRuntimeOn")
        if update_on not in UPDATE_RUNTIME_ON:
            raise _not_in_enum(update_on, "updateRuntimeOn", UPDATE_RUNTIME_ON)
        version_arn = params.get("RuntimeVersionArn")
        # A model constraint: checked whatever the mode, before the function is looked up.
        if version_arn is not None and (
            not isinstance(version_arn, str) or not _RUNTIME_VERSION_ARN.fullmatch(version_arn)
        ):
            raise validation_error(
                version_arn,
                "runtimeVersionArn",
                f"Member must satisfy regular expression pattern: {RUNTIME_VERSION_ARN_PATTERN}",
            )
        target = self._target(params.get("FunctionName", ""), params.get("Qualifier"), ctx.region)
        record = target.record
        qualifier = target.qualifier if target.qualifier != LATEST else None
        body: dict[str, Any] = {"UpdateRuntimeOn": update_on}
        if update_on == "Manual":
            if not version_arn:
                raise check.invalid_parameter(
                    "RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual"
                )
            body["RuntimeVersionArn"] = version_arn
        self._resources.put_setting(
            record.region, record.name, qualifier or "", RUNTIME_MANAGEMENT, body
        )
        return {
            **body,
            "FunctionArn": self._arn(record.region, record.name, qualifier),
        }

    @operation("GetFunctionRecursionConfig")
    def get_function_recursion_config(self, params: Params, ctx: RequestContext) -> Result:
        record = self._function(params, ctx)
        body = self._resources.setting(record.region, record.name, "", RECURSION) or {}
        return {"RecursiveLoop": body.get("RecursiveLoop", "Terminate")}

    @operation("PutFunctionRecursionConfig")
    def put_function_recursion_config(self, params: Params, ctx: RequestContext) -> Result:
        loop = params.get("RecursiveLoop")
        if loop not in RECURSIVE_LOOPS:
            raise _not_in_enum(loop, "recursiveLoop", RECURSIVE_LOOPS)
        record = self._function(params, ctx)
        self._resources.put_setting(
            record.region, record.name, "", RECURSION, {"RecursiveLoop": loop}
        )
        return {"RecursiveLoop": loop}

    # -- code signing: never set here ------------------------------------------------------

    @operation("GetFunctionCodeSigningConfig")
    def get_function_code_signing_config(self, params: Params, ctx: RequestContext) -> Result:
        record = self._function(params, ctx)
        return {"CodeSigningConfigArn": "", "FunctionName": record.name}
