"""Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion, a layer version's policy (AddLayerVersionPermission,
GetLayerVersionPolicy, RemoveLayerVersionPermission) and the ``Layers`` of a function.

A layer version's zip is unpacked once under ``<data_dir>/layers/<region>/<name>/<n>/``; a
function that references it gets those directories as its ``layer_dirs`` (AWS's ``/opt``):
the runtime puts ``python/`` and ``python/lib/pythonX.Y/site-packages`` of each on the
function's import path, as Lambda does. Deleting a layer version keeps its content for
the functions that use it, as on AWS. A layer version's policy, like a function's, is
stored, not enforced: it lives in the version's stored body, so it goes with the version.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from headwater.core.errors import AwsError
from headwater.core.values import JAVA_LONG, as_bytes
from headwater.runtime import code as function_code
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.aliases import precondition_failed
from headwater.services.lambda_.configuration import last_modified
from headwater.services.lambda_.parts import LambdaParts, marker_page
from headwater.store.functions import FunctionRecord

MAX_LAYERS = 5
LAYER_NAME_PATTERN = (
    r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
)
LAYER_VERSION_ARN_PATTERN = (
    r"arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+"
)
_LAYER_NAME = re.compile(LAYER_NAME_PATTERN)
#: The longest layer name (botocore's model: PublishLayerVersion's LayerName max).
MAX_LAYER_NAME = 140
_LAYER_VERSION_ARN = re.compile(LAYER_VERSION_ARN_PATTERN)

#: Members of a stored layer version that are not part of AWS's answers.
_PRIVATE = ("Dir", "Policy")
#: AddLayerVersionPermission's patterns (botocore's model).
LAYER_STATEMENT_ID_PATTERN = "([a-zA-Z0-9-_]+)"
LAYER_ACTION_PATTERN = "lambda:GetLayerVersion"
LAYER_PRINCIPAL_PATTERN = r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"
ORGANIZATION_ID_PATTERN = "o-[a-z0-9]{10,32}"
_LAYER_STATEMENT_ID = re.compile(LAYER_STATEMENT_ID_PATTERN)
_LAYER_PRINCIPAL = re.compile(LAYER_PRINCIPAL_PATTERN, re.ASCII)
_ORGANIZATION_ID = re.compile(ORGANIZATION_ID_PATTERN)
#: The longest statement id (botocore's model).
MAX_LAYER_STATEMENT_ID = 100


def _validation(value: Any, member: str, pattern: str) -> AwsError:
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}",
    )


def _not_found(message: str = "The resource you requested does not exist.") -> AwsError:
    return check.user_error("ResourceNotFoundException", message, 404)


def _layer_statement(params: Params, resource: str) -> dict[str, Any]:
    """The policy statement Lambda makes of AddLayerVersionPermission's parameters."""
    statement_id = str(params.get("StatementId") or "")
    if not _LAYER_STATEMENT_ID.fullmatch(statement_id):
        raise _validation(statement_id, "statementId", LAYER_STATEMENT_ID_PATTERN)
    if len(statement_id) > MAX_LAYER_STATEMENT_ID:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{statement_id}' at 'statementId' failed to "
            f"satisfy constraint: Member must have length less than or equal to "
            f"{MAX_LAYER_STATEMENT_ID}",
        )
    action = str(params.get("Action") or "")
    if action != LAYER_ACTION_PATTERN:
        raise _validation(action, "action", LAYER_ACTION_PATTERN)
    principal = str(params.get("Principal") or "")
    if not _LAYER_PRINCIPAL.fullmatch(principal):
        raise _validation(principal, "principal", LAYER_PRINCIPAL_PATTERN)
    organization = params.get("OrganizationId")
    if organization is not None and not _ORGANIZATION_ID.fullmatch(str(organization)):
        raise _validation(organization, "organizationId", ORGANIZATION_ID_PATTERN)
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": _account_root(principal)},
        "Action": action,
        "Resource": resource,
    }
    if organization is not None:
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": str(organization)}}
    return statement


def _account_root(principal: str) -> str:
    return principal if principal.startswith("arn:") else f"arn:aws:iam::{principal}:root"


def _public(body: dict[str, Any]) -> Result:
    return {k: v for k, v in body.items() if k not in _PRIVATE}


class LayerOperations(LambdaParts):
    """Layer versions and functions' layers (mixed into ``LambdaService``)."""

    def _layer_arn(self, region: str, name: str, version: int | None = None) -> str:
        arn = f"arn:aws:lambda:{region}:{self.env.account}:layer:{name}"
        return arn if version is None else f"{arn}:{version}"

    def _layer_name(self, value: Any) -> str:
        text = str(value or "")
        if not _LAYER_NAME.fullmatch(text):
            raise _validation(text, "layerName", LAYER_NAME_PATTERN)
        return text.rsplit(":", 1)[-1] if text.startswith("arn:") else text

    def _layer(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        name = self._layer_name(params.get("LayerName"))
        version = params.get("VersionNumber")
        body = None
        if _storable_version(version):
            body = self._resources.layer_version(ctx.region, name, version)
        if body is None:
            raise check.user_error(
                "ResourceNotFoundException", "The resource you requested does not exist.", 404
            )
        return body

    # -- functions' layers ----------------------------------------------------------------

    def _layer_settings(self, layers: Any, region: str) -> list[dict[str, Any]]:
        """``Layers`` of CreateFunction/UpdateFunctionConfiguration as the configuration
        shows them, checked as Lambda checks them."""
        arns = [str(arn) for arn in layers or []]
        if len(arns) > MAX_LAYERS:
            raise check.invalid_parameter(f"Cannot reference more than {MAX_LAYERS} layers.")
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for arn in arns:
            if not _LAYER_VERSION_ARN.fullmatch(arn):
                raise _validation(arn, "layers", LAYER_VERSION_ARN_PATTERN)
            parts = arn.split(":")
            layer_region, name, version = parts[3], parts[6], int(parts[7])
            if name in seen:
                raise check.invalid_parameter(
                    "Two different versions of the same layer are not allowed to be referenced "
                    "in the same function. Use a single version of each layer."
                )
            seen.add(name)
            body = None
            if layer_region == region and parts[4] == self.env.account:
                body = self._resources.layer_version(region, name, version)
            if body is None:
                raise check.invalid_parameter(f"Layer version {arn} does not exist.")
            found.append({"Arn": arn, "CodeSize": body["Content"]["CodeSize"], "Dir": body["Dir"]})
        return found

    def _layer_dirs(self, record: FunctionRecord) -> tuple[str, ...]:
        return tuple(layer["Dir"] for layer in record.extra.get("Layers") or [] if "Dir" in layer)

    # -- operations -----------------------------------------------------------------------

    @operation("PublishLayerVersion")
    def publish_layer_version(self, params: Params, ctx: RequestContext) -> Result:
        name = self._layer_name(params.get("LayerName"))
        if len(name) > MAX_LAYER_NAME:
            # The name becomes a directory: a longer one once failed there (OSError).
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{name}' at 'layerName' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{MAX_LAYER_NAME}",
            )
        content = params.get("Content") or {}
        if content.get("ZipFile") is None:
            raise check.invalid_parameter(
                "headwater publishes layers from zip bytes (Content={'ZipFile': ...}); S3 "
                "content is not supported"
            )
        description = check.check_description(params.get("Description"))
        data = as_bytes(content["ZipFile"])
        function_code.check_zip(data)
        with self._resources.transaction():
            version = self._resources.next_number(ctx.region, "layer", name)
            target = Path(self.env.data_dir, "layers", ctx.region, name, str(version))
            info = function_code.unpack_zip(data, target)
            arn = self._layer_arn(ctx.region, name, version)
            body: dict[str, Any] = {
                "Content": {
                    "Location": target.as_uri(),
                    "CodeSha256": info.sha256,
                    "CodeSize": info.size,
                },
                "LayerArn": self._layer_arn(ctx.region, name),
                "LayerVersionArn": arn,
                "Description": description,
                "CreatedDate": last_modified(self.env.clock.now()),
                "Version": version,
            }
            for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
                if params.get(key):
                    body[key] = params[key]
            body["Dir"] = info.directory
            self._resources.add_layer_version(ctx.region, name, version, body)
        result = _public(body)
        result["_status"] = 201
        return result

    @operation("GetLayerVersion")
    def get_layer_version(self, params: Params, ctx: RequestContext) -> Result:
        return _public(self._layer(params, ctx))

    @operation("GetLayerVersionByArn")
    def get_layer_version_by_arn(self, params: Params, ctx: RequestContext) -> Result:
        arn = str(params.get("Arn") or "")
        if not _LAYER_VERSION_ARN.fullmatch(arn):
            raise _validation(arn, "arn", LAYER_VERSION_ARN_PATTERN)
        parts = arn.split(":")
        if parts[3] != ctx.region or parts[4] != self.env.account:
            raise check.user_error(
                "ResourceNotFoundException", "The resource you requested does not exist.", 404
            )
        return _public(self._layer({"LayerName": parts[6], "VersionNumber": int(parts[7])}, ctx))

    @operation("ListLayerVersions")
    def list_layer_versions(self, params: Params, ctx: RequestContext) -> Result:
        name = self._layer_name(params.get("LayerName"))
        runtime = params.get("CompatibleRuntime")
        architecture = params.get("CompatibleArchitecture")
        listed = []
        for body in self._resources.layer_versions(ctx.region, name):
            if runtime and runtime not in body.get("CompatibleRuntimes", []):
                continue
            if architecture and architecture not in body.get("CompatibleArchitectures", []):
                continue
            item = _public(body)
            item.pop("Content", None)
            item.pop("LayerArn", None)
            listed.append(item)
        return marker_page(listed, params, "LayerVersions")

    @operation("ListLayers")
    def list_layers(self, params: Params, ctx: RequestContext) -> Result:
        latest: dict[str, dict[str, Any]] = {}
        for body in self._resources.layer_versions(ctx.region):
            name = body["LayerArn"].rsplit(":", 1)[-1]
            latest.setdefault(name, body)  # newest first within a layer
        layers = []
        for name, body in sorted(latest.items()):
            matching = _public(body)
            matching.pop("Content", None)
            matching.pop("LayerArn", None)
            layers.append(
                {"LayerName": name, "LayerArn": body["LayerArn"], "LatestMatchingVersion": matching}
            )
        return marker_page(layers, params, "Layers")

    @operation("DeleteLayerVersion")
    def delete_layer_version(self, params: Params, ctx: RequestContext) -> Result:
        name = self._layer_name(params.get("LayerName"))
        version = params.get("VersionNumber")
        if _storable_version(version):
            # The unpacked content stays: functions that use this version keep working.
            self._resources.delete_layer_version(ctx.region, name, version)
        return {"_status": 204}

    # -- a layer version's policy ---------------------------------------------------------

    def _layer_policy_owner(self, params: Params, ctx: RequestContext) -> tuple[str, int, Any]:
        """The layer name, version number and stored body a policy operation names."""
        name = self._layer_name(params.get("LayerName"))
        version = params.get("VersionNumber")
        if not _storable_version(version):
            raise _not_found()
        body = self._resources.layer_version(ctx.region, name, version)
        if body is None:
            raise _not_found()
        return name, version, body

    @operation("AddLayerVersionPermission")
    def add_layer_version_permission(self, params: Params, ctx: RequestContext) -> Result:
        with self._resources.transaction():
            name, version, body = self._layer_policy_owner(params, ctx)
            statement = _layer_statement(params, body["LayerVersionArn"])
            policy = body.get("Policy") or {"Statements": [], "RevisionId": ""}
            _check_revision(policy, params.get("RevisionId"))
            if any(s["Sid"] == statement["Sid"] for s in policy["Statements"]):
                raise check.user_error(
                    "ResourceConflictException",
                    f"The statement id ({statement['Sid']}) provided already exists. Please "
                    "provide a new statement id, or remove the existing statement.",
                    409,
                )
            revision = str(uuid.uuid4())
            body["Policy"] = {
                "Statements": [*policy["Statements"], statement],
                "RevisionId": revision,
            }
            self._resources.replace_layer_version(ctx.region, name, version, body)
        return {
            "Statement": orjson.dumps(statement).decode(),
            "RevisionId": revision,
            "_status": 201,
        }

    @operation("GetLayerVersionPolicy")
    def get_layer_version_policy(self, params: Params, ctx: RequestContext) -> Result:
        _, _, body = self._layer_policy_owner(params, ctx)
        policy = body.get("Policy")
        if not policy or not policy["Statements"]:
            raise _not_found("No policy is associated with the given resource.")
        document = {"Version": "2012-10-17", "Id": "default", "Statement": policy["Statements"]}
        return {"Policy": orjson.dumps(document).decode(), "RevisionId": policy["RevisionId"]}

    @operation("RemoveLayerVersionPermission")
    def remove_layer_version_permission(self, params: Params, ctx: RequestContext) -> Result:
        with self._resources.transaction():
            name, version, body = self._layer_policy_owner(params, ctx)
            policy = body.get("Policy")
            if not policy or not policy["Statements"]:
                raise _not_found("No policy is associated with the given resource.")
            _check_revision(policy, params.get("RevisionId"))
            statement_id = params.get("StatementId")
            statements = [s for s in policy["Statements"] if s["Sid"] != statement_id]
            if len(statements) == len(policy["Statements"]):
                raise _not_found(f"Statement {statement_id} is not found in resource policy.")
            body["Policy"] = {"Statements": statements, "RevisionId": str(uuid.uuid4())}
            self._resources.replace_layer_version(ctx.region, name, version, body)
        return {"_status": 204}


def _check_revision(policy: dict[str, Any], revision_id: Any) -> None:
    """A given RevisionId must be the policy's current one (optimistic locking)."""
    if revision_id is not None and revision_id != policy["RevisionId"]:
        raise precondition_failed("GetLayerVersionPolicy")


def _storable_version(version: Any) -> TypeGuard[int]:
    """Whether ``version`` can name a layer version: an integer the store's 64-bit column
    holds (a larger one names none, so it is not found rather than an overflow)."""
    return isinstance(version, int) and version in JAVA_LONG
