"""API Gateway REST APIs (``apigateway``): REST APIs created empty or imported from a
Swagger 2.0 / OpenAPI 3 definition (``x-amazon-apigateway-integration`` ``aws_proxy`` and
``mock``), their resources, methods, Lambda proxy and MOCK integrations, method and
integration responses, deployments and stages, and tags; persisted in the headwater
database.

``server.execute_api`` serves them at ``<id>.execute-api.<region>.localhost/<stage>/...``:
``execution_target`` finds the resource and method a request matches (API Gateway's
choice, the same as an HTTP API's route choice: ``route_keys``). A stage serves the API's
current resources (no deployment snapshot). Authorizers, models, request validators,
usage plans, API keys, domain names and AWS/HTTP integrations are not implemented.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.ids import request_id as new_request_id
from headwater.core.proxy_payloads import ProxyRequest
from headwater.services.apigateway.jwt_authorizers import (
    IssuerKeys,
    JwtAuthorizer,
    JwtRefusal,
    check_token,
    pool_id_of_arn,
    string_claims,
)
from headwater.services.apigateway.lambda_authorizers import (
    LambdaAuthorizer,
    authorizer_event,
    decision,
    execute_api_arn,
    identity_of,
    identity_sources,
    invocation_outcome,
    valid_source,
)
from headwater.services.apigateway.mock_integrations import (
    method_responses_of,
    mock_integration_of,
)
from headwater.services.apigatewayv2.openapi import ImportedApi, function_arn_of, read_definition
from headwater.services.apigatewayv2.route_keys import match_route
from headwater.services.apigatewayv2.stored_apis import (
    StoredApiService,
    api_and_stage,
    new_id,
    with_datetimes,
)
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.store.api_documents import ApiDocument, RestApiStore

METHODS = frozenset({"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
#: The integration types headwater serves (a Lambda proxy, a mock); AWS and HTTP
#: integrations would reach beyond this machine.
INTEGRATION_TYPES = ("AWS_PROXY", "MOCK")
_METHOD_MEMBERS = (
    "authorizationType",
    "authorizerId",
    "apiKeyRequired",
    "operationName",
    "requestParameters",
    "requestModels",
    "requestValidatorId",
    "authorizationScopes",
)
_INTEGRATION_MEMBERS = (
    "type",
    "uri",
    "connectionType",
    "credentials",
    "requestParameters",
    "requestTemplates",
    "passthroughBehavior",
    "cacheNamespace",
    "cacheKeyParameters",
    "contentHandling",
    "timeoutInMillis",
)
_STAGE_MEMBERS = ("description", "variables", "tracingEnabled", "cacheClusterEnabled")
PASSTHROUGH_BEHAVIORS = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
_METHOD_PATCHES = frozenset(
    {"authorizationType", "authorizerId", "apiKeyRequired", "operationName"}
)
#: A method's OAuth scopes: patched a scope at a time (``add`` / ``remove``).
SCOPES = "authorizationScopes"
AUTHORIZER_TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS")
#: A Lambda authorizer's result TTL when none is given, and the most AWS allows.
DEFAULT_AUTHORIZER_TTL = 300
MAX_AUTHORIZER_TTL = 3600
_AUTHORIZER_MEMBERS = (
    "name",
    "type",
    "providerARNs",
    "authType",
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
    "authorizerResultTtlInSeconds",
)
#: UpdateAuthorizer's patchable paths.
_AUTHORIZER_PATCHES = frozenset(
    {
        "name",
        "type",
        "authType",
        "authorizerUri",
        "authorizerCredentials",
        "identitySource",
        "identityValidationExpression",
        "authorizerResultTtlInSeconds",
        "providerARNs",
    }
)
#: A method or integration response's status code (the model's ``[1-5]\d\d``).
_STATUS_CODE = re.compile(r"[1-5]\d\d")


def _not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, status=404)


def _bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


def _conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, status=409)


def _dates(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as answered: epoch-second dates as datetimes."""
    return with_datetimes(item, ("createdDate", "lastUpdatedDate"))


def rest_api_arn(api_id: str, region: str) -> str:
    return f"arn:aws:apigateway:{region}::/restapis/{api_id}"


@dataclass(frozen=True, slots=True)
class RestExecutionTarget:
    """What a request to a REST API's stage invokes (``server.execute_api``)."""

    api_id: str
    region: str
    stage: str
    #: The resource's path template (``/items/{id}``) and id.
    resource_path: str
    resource_id: str
    #: The path below the stage (``/items/7``).
    path: str
    path_parameters: dict[str, str]
    stage_variables: dict[str, str]
    #: The Lambda proxy integration's function ("" for a mock).
    function: str
    #: The MOCK integration (``None``: a Lambda proxy).
    mock: dict[str, Any] | None = None
    #: The method's Lambda authorizer (``CUSTOM`` authorization) or Cognito user pools
    #: authorizer (``COGNITO_USER_POOLS``); ``None``: none.
    authorizer: LambdaAuthorizer | JwtAuthorizer | None = None


def lambda_authorizer(api_id: str, record: dict[str, Any]) -> LambdaAuthorizer:
    """A stored TOKEN or REQUEST authorizer as serving runs it."""
    return LambdaAuthorizer(
        api_id=api_id,
        authorizer_id=str(record["id"]),
        function=function_arn_of(str(record.get("authorizerUri", ""))),
        kind=str(record["type"]),
        sources=tuple(identity_sources(record.get("identitySource"))),
        ttl=int(record.get("authorizerResultTtlInSeconds", DEFAULT_AUTHORIZER_TTL)),
        validation=record.get("identityValidationExpression"),
    )


def cognito_authorizer(
    api_id: str, record: dict[str, Any], method: dict[str, Any]
) -> JwtAuthorizer:
    """A stored COGNITO_USER_POOLS authorizer as serving runs it for ``method`` (its
    ``authorizationScopes``); the identity source defaults to the Authorization header,
    as AWS's does."""
    return JwtAuthorizer(
        api_id=api_id,
        authorizer_id=str(record["id"]),
        kind="COGNITO_USER_POOLS",
        sources=tuple(
            identity_sources(record.get("identitySource"))
            or ["method.request.header.Authorization"]
        ),
        ttl=int(record.get("authorizerResultTtlInSeconds", DEFAULT_AUTHORIZER_TTL)),
        validation=record.get("identityValidationExpression"),
        pool_ids=tuple(pool_id_of_arn(str(a)) for a in record.get("providerARNs") or []),
        scopes=tuple(str(s) for s in method.get("authorizationScopes") or []),
    )


class ApiGatewayService(StoredApiService):
    service_name = "apigateway"
    store_class = RestApiStore

    # -- serving -----------------------------------------------------------------------------

    def execution_target(
        self, api_id: str, method: str, path: str
    ) -> RestExecutionTarget | str | None:
        """What a request to ``api_id`` for ``method`` ``path`` (``/<stage>/...``) invokes:
        a ``RestExecutionTarget``, or ``"stage"`` (no such stage), ``"resource"`` (no
        resource and method match), ``"authorizer"`` (the method names an authorizer the
        API does not have, or an authorization headwater does not run), ``None`` (no such
        API)."""
        found = self._store.find(api_id)
        if found is None:
            return None
        region, document = found
        stage, _, rest = path.lstrip("/").partition("/")
        stage_record = document["Stages"].get(stage)
        if not stage or stage_record is None:
            return "stage"
        keys: dict[str, tuple[str, dict[str, Any]]] = {}
        for resource in document["Resources"].values():
            for verb, method_record in (resource.get("resourceMethods") or {}).items():
                if method_record.get("methodIntegration") is not None:
                    keys[f"{verb} {resource['path']}"] = (resource["id"], method_record)
        below = "/" + rest
        matched = match_route(list(keys), method, below)
        if matched is None:
            return "resource"
        key, parameters = matched
        resource_id, method_record = keys[key]
        integration = method_record["methodIntegration"]
        kind = str(integration.get("type"))
        if kind not in INTEGRATION_TYPES:
            return "resource"
        authorizer: LambdaAuthorizer | JwtAuthorizer | None = None
        authorization = method_record.get("authorizationType")
        if authorization in ("CUSTOM", "COGNITO_USER_POOLS"):
            record = (document.get("Authorizers") or {}).get(method_record.get("authorizerId"))
            wanted = ("TOKEN", "REQUEST") if authorization == "CUSTOM" else (authorization,)
            if record is None or record.get("type") not in wanted:
                return "authorizer"
            if authorization == "CUSTOM":
                authorizer = lambda_authorizer(api_id, record)
            else:
                authorizer = cognito_authorizer(api_id, record, method_record)
        elif authorization not in (None, "NONE", "AWS_IAM"):
            return "authorizer"
        return RestExecutionTarget(
            api_id=api_id,
            region=region,
            stage=stage,
            resource_path=key.partition(" ")[2],
            resource_id=resource_id,
            path=below,
            path_parameters=parameters,
            stage_variables=dict(stage_record.get("variables") or {}),
            function=function_arn_of(str(integration.get("uri", ""))),
            mock=dict(integration) if kind == "MOCK" else None,
            authorizer=authorizer,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _no_such_api(self, ctx: RequestContext, api_id: str) -> AwsError:
        # AWS's text for an unknown REST API id
        return _not_found(f"Invalid API identifier specified {ctx.account}:{api_id}")

    @staticmethod
    def _api_result(document: ApiDocument) -> Result:
        return _dates(document["Api"])

    def _new_document(self, params: Params) -> ApiDocument:
        api_id = new_id(10)
        root_id = new_id(10)
        api: dict[str, Any] = {
            "id": api_id,
            "name": params.get("name"),
            "createdDate": self.env.clock.now(),
            "apiKeySource": params.get("apiKeySource") or "HEADER",
            "endpointConfiguration": params.get("endpointConfiguration")
            or {"types": ["EDGE"], "ipAddressType": "ipv4"},
            "disableExecuteApiEndpoint": bool(params.get("disableExecuteApiEndpoint", False)),
            "rootResourceId": root_id,
            "tags": dict(params.get("tags") or {}),
        }
        for name in ("description", "version", "binaryMediaTypes", "policy"):
            if params.get(name) is not None:
                api[name] = params[name]
        return {
            "Api": api,
            "Resources": {root_id: {"id": root_id, "path": "/"}},
            "Deployments": {},
            "Stages": {},
        }

    def _resource(self, document: ApiDocument, resource_id: str) -> dict[str, Any]:
        found: dict[str, Any] | None = document["Resources"].get(resource_id)
        if found is None:
            raise _not_found("Invalid Resource identifier specified")
        return found

    def _add_resource(self, document: ApiDocument, parent_id: str, part: str) -> dict[str, Any]:
        parent = self._resource(document, parent_id)
        if not part or "/" in part:
            raise _bad_request(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning "
                "and the end and an optional plus sign before the closing brace."
            )
        path = (parent["path"].rstrip("/") + "/" + part) if parent["path"] != "/" else "/" + part
        for existing in document["Resources"].values():
            if existing["path"] == path:
                # AWS's text for a sibling that exists
                raise _conflict(
                    f"Another resource with the same parent already has this name: {part}"
                )
        resource = {"id": new_id(6), "parentId": parent_id, "pathPart": part, "path": path}
        document["Resources"][resource["id"]] = resource
        return resource

    def _resource_for_path(self, document: ApiDocument, path: str) -> dict[str, Any]:
        """The resource at ``path``, made (with the resources above it) when missing."""
        root_id = document["Api"]["rootResourceId"]
        current: dict[str, Any] = document["Resources"][root_id]
        for part in (p for p in path.split("/") if p):
            child_path = "/" + part if current["path"] == "/" else f"{current['path']}/{part}"
            found = next(
                (r for r in document["Resources"].values() if r["path"] == child_path), None
            )
            current = (
                found if found is not None else self._add_resource(document, current["id"], part)
            )
        return current

    def _apply_import(self, document: ApiDocument, imported: ImportedApi, overwrite: bool) -> None:
        api = document["Api"]
        api["name"] = imported.name
        if imported.description is not None:
            api["description"] = imported.description
        if imported.version is not None:
            api["version"] = imported.version
        if overwrite:
            root_id = api["rootResourceId"]
            document["Resources"] = {root_id: {"id": root_id, "path": "/"}}
        authorizer_ids = self._import_authorizers(document, imported, overwrite)
        for route in imported.routes:
            verb, _, path = route.route_key.partition(" ")
            if route.route_key == "$default" or not path:
                raise _bad_request("Invalid OpenAPI input: $default is not a REST API path")
            resource = self._resource_for_path(document, path)
            method: dict[str, Any] = {
                "httpMethod": verb,
                "authorizationType": "NONE",
                "apiKeyRequired": False,
            }
            security = route.operation.get("security", imported.security)
            for requirement in security if isinstance(security, list) else ():
                names = list(requirement) if isinstance(requirement, dict) else []
                if names and names[0] in authorizer_ids:
                    authorizer_id = authorizer_ids[names[0]]
                    kind = document["Authorizers"][authorizer_id]["type"]
                    cognito = kind == "COGNITO_USER_POOLS"
                    method["authorizationType"] = "COGNITO_USER_POOLS" if cognito else "CUSTOM"
                    method["authorizerId"] = authorizer_id
                    scopes = requirement[names[0]]
                    if cognito and isinstance(scopes, list) and scopes:
                        # a Cognito requirement's list is the method's OAuth scopes
                        method["authorizationScopes"] = [str(s) for s in scopes]
                    break
            method_responses = method_responses_of(route.operation)
            if method_responses:
                method["methodResponses"] = method_responses
            if route.integration is not None and route.integration["IntegrationType"] == "MOCK":
                method["methodIntegration"] = mock_integration_of(
                    route.operation["x-amazon-apigateway-integration"], resource["id"]
                )
            elif route.integration is not None:
                method["methodIntegration"] = {
                    "type": "AWS_PROXY",
                    "httpMethod": route.integration.get("IntegrationMethod", "POST"),
                    "uri": route.integration["IntegrationUri"],
                    "passthroughBehavior": "WHEN_NO_MATCH",
                    "timeoutInMillis": int(route.integration.get("TimeoutInMillis", 29000)),
                    "cacheNamespace": resource["id"],
                    "cacheKeyParameters": [],
                }
            resource.setdefault("resourceMethods", {})[verb] = method

    def _import_authorizers(
        self, document: ApiDocument, imported: ImportedApi, overwrite: bool
    ) -> dict[str, str]:
        """The definition's ``x-amazon-apigateway-authorizer`` schemes as the API's
        authorizers (an authorizer of the same name keeps its id); their ids by name."""
        authorizers: dict[str, Any] = document.setdefault("Authorizers", {})
        by_name = {str(a["name"]): a for a in authorizers.values()}
        if overwrite:
            authorizers.clear()
        ids: dict[str, str] = {}
        for name, scheme in imported.security_schemes.items():
            extension = scheme["x-amazon-apigateway-authorizer"]
            kind = str(extension.get("type", "")).upper()
            source = extension.get("identitySource")
            if source is None and kind in ("TOKEN", "COGNITO_USER_POOLS") and scheme.get("name"):
                # the scheme's header (SAM writes Cognito authorizers so)
                source = f"method.request.header.{scheme['name']}"
            params: dict[str, Any] = {
                "name": name,
                "type": kind,
                "authorizerUri": extension.get("authorizerUri"),
                "identitySource": source,
                "identityValidationExpression": extension.get("identityValidationExpression"),
                "authorizerResultTtlInSeconds": extension.get("authorizerResultTtlInSeconds"),
                "authorizerCredentials": extension.get("authorizerCredentials"),
                "providerARNs": extension.get("providerARNs"),
                "authType": scheme.get("x-amazon-apigateway-authtype"),
            }
            record = _authorizer_record(
                {k: v for k, v in params.items() if v is not None},
                existing=by_name.get(name),
            )
            authorizers[record["id"]] = record
            ids[name] = record["id"]
        return ids

    # -- REST APIs ---------------------------------------------------------------------------

    @operation("CreateRestApi")
    def create_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        if not params.get("name"):
            raise _bad_request("Invalid API name specified")
        document = self._new_document(params)
        self._add_document(ctx, document["Api"]["id"], document)
        return self._api_result(document)

    @operation("ImportRestApi")
    def import_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        imported = read_definition(_text(params.get("body")), INTEGRATION_TYPES)
        document = self._new_document({"name": imported.name})
        self._apply_import(document, imported, overwrite=True)
        self._add_document(ctx, document["Api"]["id"], document)
        return self._api_result(document)

    @operation("PutRestApi")
    def put_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        imported = read_definition(_text(params.get("body")), INTEGRATION_TYPES)
        overwrite = params.get("mode", "merge") == "overwrite"

        def change(document: ApiDocument) -> Result:
            self._apply_import(document, imported, overwrite)
            return self._api_result(document)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetRestApi")
    def get_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        return self._api_result(self._document(ctx, str(params["restApiId"])))

    @operation("GetRestApis")
    def get_rest_apis(self, params: Params, ctx: RequestContext) -> Result:
        return {"items": [self._api_result(d) for d in self._store.all(ctx.account, ctx.region)]}

    @operation("UpdateRestApi")
    def update_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            api = document["Api"]
            for patch in params.get("patchOperations") or []:
                path = str(patch.get("path", ""))
                name = path.lstrip("/")
                if patch.get("op") == "replace" and name in ("name", "description", "version"):
                    api[name] = patch.get("value")
                else:
                    raise _bad_request(f"Invalid patch path {path}")
            return self._api_result(document)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("DeleteRestApi")
    def delete_rest_api(self, params: Params, ctx: RequestContext) -> Result:
        self._delete_document(ctx, str(params["restApiId"]))
        return {}

    # -- resources, methods, integrations ----------------------------------------------------

    @operation("GetResources")
    def get_resources(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        items = sorted(document["Resources"].values(), key=lambda r: str(r["path"]))
        return {"items": [dict(r) for r in items]}

    @operation("GetResource")
    def get_resource(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        return dict(self._resource(document, str(params["resourceId"])))

    @operation("CreateResource")
    def create_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self._change(
            ctx,
            str(params["restApiId"]),
            lambda d: dict(self._add_resource(d, str(params["parentId"]), str(params["pathPart"]))),
        )

    @operation("DeleteResource")
    def delete_resource(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            resource = self._resource(document, str(params["resourceId"]))
            if resource["id"] == document["Api"]["rootResourceId"]:
                raise _bad_request("Cannot delete root resource")
            prefix = resource["path"] + "/"
            for found in list(document["Resources"].values()):
                if found["id"] == resource["id"] or str(found["path"]).startswith(prefix):
                    del document["Resources"][found["id"]]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    def _method(self, document: ApiDocument, params: Params) -> dict[str, Any]:
        resource = self._resource(document, str(params["resourceId"]))
        found: dict[str, Any] | None = (resource.get("resourceMethods") or {}).get(
            str(params["httpMethod"]).upper()
        )
        if found is None:
            raise _not_found("Invalid Method identifier specified")
        return found

    @operation("PutMethod")
    def put_method(self, params: Params, ctx: RequestContext) -> Result:
        verb = str(params["httpMethod"]).upper()
        if verb not in METHODS:
            raise _bad_request(
                "Invalid HttpMethod specified. Valid options are "
                "ANY,DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
            )

        def change(document: ApiDocument) -> Result:
            resource = self._resource(document, str(params["resourceId"]))
            methods = resource.setdefault("resourceMethods", {})
            if verb in methods:
                raise _conflict("Method already exists for this resource")
            _check_method_authorizer(document, params)
            method: dict[str, Any] = {"httpMethod": verb, "apiKeyRequired": False}
            method.update({n: params[n] for n in _METHOD_MEMBERS if params.get(n) is not None})
            methods[verb] = method
            return dict(method)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetMethod")
    def get_method(self, params: Params, ctx: RequestContext) -> Result:
        return dict(self._method(self._document(ctx, str(params["restApiId"])), params))

    @operation("UpdateMethod")
    def update_method(self, params: Params, ctx: RequestContext) -> Result:
        """``replace`` of ``/authorizationType``, ``/authorizerId``, ``/apiKeyRequired``
        and ``/operationName``; ``add`` and ``remove`` of one scope (the value) at
        ``/authorizationScopes``; a CUSTOM method must name an authorizer of the API."""

        def change(document: ApiDocument) -> Result:
            method = self._method(document, params)
            changed = dict(method)
            for patch in params.get("patchOperations") or []:
                name = str(patch.get("path", "")).lstrip("/")
                op = patch.get("op")
                value = patch.get("value")
                if name == SCOPES and op in ("add", "remove") and value is not None:
                    changed[SCOPES] = _patched_scopes(changed.get(SCOPES), op, str(value))
                    continue
                if op != "replace" or name not in _METHOD_PATCHES:
                    raise _bad_request(
                        f"Invalid patch path '{patch.get('path')}' specified for op '{op}'"
                    )
                changed[name] = str(value).lower() == "true" if name == "apiKeyRequired" else value
            _check_method_authorizer(document, changed)
            if changed.get("authorizationType") not in ("CUSTOM", "COGNITO_USER_POOLS"):
                changed.pop("authorizerId", None)
            method.clear()
            method.update(changed)
            return dict(method)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("DeleteMethod")
    def delete_method(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            self._method(document, params)
            resource = self._resource(document, str(params["resourceId"]))
            del resource["resourceMethods"][str(params["httpMethod"]).upper()]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("PutIntegration")
    def put_integration(self, params: Params, ctx: RequestContext) -> Result:
        kind = params.get("type")
        if kind not in INTEGRATION_TYPES:
            raise _bad_request(
                "headwater's REST APIs support only AWS_PROXY (Lambda) and MOCK integrations, "
                f"not {kind}"
            )
        if kind == "AWS_PROXY" and not params.get("uri"):
            raise _bad_request("Enumeration value for Integration uri must be non-empty")
        if kind == "AWS_PROXY" and not params.get("integrationHttpMethod"):
            # AWS's text when a Lambda integration names no method
            raise _bad_request("Enumeration value for HttpMethod must be non-empty")
        passthrough = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
        if passthrough not in PASSTHROUGH_BEHAVIORS:
            raise _bad_request(
                "Invalid passthrough behavior specified. "
                "Valid values are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER"
            )

        def change(document: ApiDocument) -> Result:
            method = self._method(document, params)
            integration: dict[str, Any] = {
                "passthroughBehavior": passthrough,
                "timeoutInMillis": 29000,
                "cacheNamespace": str(params["resourceId"]),
                "cacheKeyParameters": [],
            }
            if params.get("integrationHttpMethod"):
                integration["httpMethod"] = params["integrationHttpMethod"]
            integration.update(
                {n: params[n] for n in _INTEGRATION_MEMBERS if params.get(n) is not None}
            )
            # the method's integration responses stay with a replaced integration's
            old = method.get("methodIntegration") or {}
            if old.get("integrationResponses"):
                integration["integrationResponses"] = old["integrationResponses"]
            method["methodIntegration"] = integration
            return dict(integration)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetIntegration")
    def get_integration(self, params: Params, ctx: RequestContext) -> Result:
        method = self._method(self._document(ctx, str(params["restApiId"])), params)
        integration = method.get("methodIntegration")
        if integration is None:
            raise _not_found("No integration defined for method")
        return dict(integration)

    @operation("DeleteIntegration")
    def delete_integration(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            method = self._method(document, params)
            if method.pop("methodIntegration", None) is None:
                raise _not_found("No integration defined for method")
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    # -- authorizers -------------------------------------------------------------------------

    def _authorizer(self, document: ApiDocument, authorizer_id: str) -> dict[str, Any]:
        found: dict[str, Any] | None = (document.get("Authorizers") or {}).get(authorizer_id)
        if found is None:
            raise _not_found("Invalid Authorizer identifier specified")
        return found

    @operation("CreateAuthorizer")
    def create_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        record = _authorizer_record(params)

        def change(document: ApiDocument) -> Result:
            document.setdefault("Authorizers", {})[record["id"]] = record
            return dict(record)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetAuthorizer")
    def get_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        return dict(self._authorizer(document, str(params["authorizerId"])))

    @operation("GetAuthorizers")
    def get_authorizers(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        return {"items": [dict(a) for a in (document.get("Authorizers") or {}).values()]}

    @operation("UpdateAuthorizer")
    def update_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            record = self._authorizer(document, str(params["authorizerId"]))
            changed = dict(record)
            for patch in params.get("patchOperations") or []:
                name = str(patch.get("path", "")).lstrip("/")
                if patch.get("op") != "replace" or name not in _AUTHORIZER_PATCHES:
                    raise _bad_request(
                        f"Invalid patch path '{patch.get('path')}' specified for op "
                        f"'{patch.get('op')}'. Must be one of: "
                        + ", ".join(f"/{n}" for n in sorted(_AUTHORIZER_PATCHES))
                    )
                value = patch.get("value")
                if name == "authorizerResultTtlInSeconds":
                    value = _ttl(value)
                changed[name] = value
            checked = _authorizer_record(changed, existing=record)
            record.clear()
            record.update(checked)
            return dict(record)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("TestInvokeAuthorizer")
    def test_invoke_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        """Run an authorizer on the request ``params`` describe, as the method
        ``GET <pathWithQueryString>`` of stage ``test-invoke-stage`` (AWS's test stage
        name): ``clientStatus`` 200 (allowed), 401, 403 (the policy denies) or 500, with a
        Lambda authorizer's ``principalId`` and ``policy``, a Cognito one's ``claims``."""
        api_id = str(params["restApiId"])
        record = self._authorizer(self._document(ctx, api_id), str(params["authorizerId"]))
        request = _test_request(params, api_id, ctx, self.env.clock.now())
        if record.get("type") == "COGNITO_USER_POOLS":
            return self._test_cognito_authorizer(cognito_authorizer(api_id, record, {}), request)
        authorizer = lambda_authorizer(api_id, record)
        arn = execute_api_arn(
            ctx.region, ctx.account, api_id, stage=request.stage, method="GET", path=request.path
        )
        identity = identity_of(authorizer, request)
        if identity is None:
            return {"clientStatus": 401, "log": "Unauthorized: an identity source is missing"}
        started = time.monotonic()
        lambda_service: Any = self.env.service("lambda")
        result = lambda_service.invoke_function(
            authorizer.function,
            orjson.dumps(authorizer_event(authorizer, request, identity, arn)),
            region=ctx.region,
        )
        latency = int((time.monotonic() - started) * 1000)
        outcome = invocation_outcome(authorizer, result)
        if isinstance(outcome, str):
            status = 401 if outcome == "unauthorized" else 500
            return {"clientStatus": status, "latency": latency, "log": f"Authorizer {outcome}"}
        verdict = decision(outcome, arn)
        answer: Result = {
            "clientStatus": 200 if verdict == "allowed" else 403,
            "latency": latency,
            "log": f"Authorizer decision for {arn}: {verdict}",
            "policy": orjson.dumps(outcome.policy).decode(),
            "authorization": {},
            "claims": {},
        }
        if outcome.principal_id is not None:
            answer["principalId"] = outcome.principal_id
        return answer

    def _test_cognito_authorizer(self, authorizer: JwtAuthorizer, request: ProxyRequest) -> Result:
        """TestInvokeAuthorizer of a Cognito authorizer: the ID token's claims (as strings),
        or 401."""
        identity = identity_of(authorizer, request)
        if identity is None:
            return {"clientStatus": 401, "log": "Unauthorized: an identity source is missing"}
        outcome = check_token(
            authorizer,
            identity[0],
            user_pools=self.env.service("cognito-idp"),  # type: ignore[arg-type]
            keys=IssuerKeys(self.env.clock),
            now=self.env.clock.now(),
        )
        if isinstance(outcome, JwtRefusal):
            return {
                "clientStatus": 401,
                "latency": 0,
                "log": f"Unauthorized: {outcome.description}",
            }
        return {
            "clientStatus": 200,
            "latency": 0,
            "log": "Cognito user pools authorizer: the token is valid",
            "claims": string_claims(outcome.claims, rest=True),
        }

    @operation("DeleteAuthorizer")
    def delete_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            authorizer_id = str(params["authorizerId"])
            self._authorizer(document, authorizer_id)
            for resource in document["Resources"].values():
                for verb, method in (resource.get("resourceMethods") or {}).items():
                    if method.get("authorizerId") == authorizer_id:
                        # AWS keeps an authorizer a method uses (text AWS-like, a guess)
                        raise _conflict(
                            "Cannot delete authorizer, is referenced in method: "
                            f"{verb} {resource['path']}"
                        )
            del document["Authorizers"][authorizer_id]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    # -- method responses and integration responses -----------------------------------------

    @staticmethod
    def _status_code(params: Params) -> str:
        status = str(params["statusCode"])
        if not _STATUS_CODE.fullmatch(status):
            raise _bad_request("Invalid response status code specified")
        return status

    @staticmethod
    def _response_of(holder: dict[str, Any], member: str, status: str) -> dict[str, Any]:
        found: dict[str, Any] | None = (holder.get(member) or {}).get(status)
        if found is None:
            raise _not_found("Invalid Response status code specified")
        return found

    def _integration_of(self, document: ApiDocument, params: Params) -> dict[str, Any]:
        integration: dict[str, Any] | None = self._method(document, params).get("methodIntegration")
        if integration is None:
            raise _not_found("Invalid Integration identifier specified")
        return integration

    @operation("PutMethodResponse")
    def put_method_response(self, params: Params, ctx: RequestContext) -> Result:
        status = self._status_code(params)

        def change(document: ApiDocument) -> Result:
            method = self._method(document, params)
            response: dict[str, Any] = {"statusCode": status}
            for name in ("responseParameters", "responseModels"):
                if params.get(name):
                    response[name] = dict(params[name])
            method.setdefault("methodResponses", {})[status] = response
            return dict(response)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetMethodResponse")
    def get_method_response(self, params: Params, ctx: RequestContext) -> Result:
        method = self._method(self._document(ctx, str(params["restApiId"])), params)
        return dict(self._response_of(method, "methodResponses", str(params["statusCode"])))

    @operation("DeleteMethodResponse")
    def delete_method_response(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            method = self._method(document, params)
            status = str(params["statusCode"])
            self._response_of(method, "methodResponses", status)
            del method["methodResponses"][status]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("PutIntegrationResponse")
    def put_integration_response(self, params: Params, ctx: RequestContext) -> Result:
        status = self._status_code(params)
        pattern = params.get("selectionPattern")
        if pattern:
            try:
                re.compile(str(pattern))
            except re.error:
                raise _bad_request(f"Invalid selection pattern specified: {pattern}") from None

        def change(document: ApiDocument) -> Result:
            integration = self._integration_of(document, params)
            response: dict[str, Any] = {"statusCode": status}
            if pattern:
                response["selectionPattern"] = str(pattern)
            for name in ("responseParameters", "responseTemplates"):
                if params.get(name):
                    response[name] = {str(k): str(v) for k, v in params[name].items()}
            if params.get("contentHandling"):
                response["contentHandling"] = params["contentHandling"]
            integration.setdefault("integrationResponses", {})[status] = response
            return dict(response)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetIntegrationResponse")
    def get_integration_response(self, params: Params, ctx: RequestContext) -> Result:
        integration = self._integration_of(self._document(ctx, str(params["restApiId"])), params)
        return dict(
            self._response_of(integration, "integrationResponses", str(params["statusCode"]))
        )

    @operation("DeleteIntegrationResponse")
    def delete_integration_response(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            integration = self._integration_of(document, params)
            status = str(params["statusCode"])
            self._response_of(integration, "integrationResponses", status)
            del integration["integrationResponses"][status]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    # -- deployments and stages --------------------------------------------------------------

    def _add_stage(
        self, document: ApiDocument, name: str, deployment_id: str, params: Params
    ) -> dict[str, Any]:
        if name in document["Stages"]:
            raise _conflict("Stage already exists")
        now = self.env.clock.now()
        stage: dict[str, Any] = {
            "stageName": name,
            "deploymentId": deployment_id,
            "cacheClusterEnabled": False,
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {},
            "tracingEnabled": False,
            "createdDate": now,
            "lastUpdatedDate": now,
            "tags": dict(params.get("tags") or {}),
        }
        stage.update({n: params[n] for n in _STAGE_MEMBERS if params.get(n) is not None})
        document["Stages"][name] = stage
        return stage

    @operation("CreateDeployment")
    def create_deployment(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            if not any(r.get("resourceMethods") for r in document["Resources"].values()):
                # AWS's text for deploying an API without methods
                raise _bad_request("The REST API doesn't contain any methods")
            deployment: dict[str, Any] = {
                "id": new_id(6),
                "createdDate": self.env.clock.now(),
            }
            if params.get("description") is not None:
                deployment["description"] = params["description"]
            document["Deployments"][deployment["id"]] = deployment
            stage_name = params.get("stageName")
            if stage_name:
                stage = document["Stages"].get(stage_name)
                if stage is None:
                    self._add_stage(
                        document,
                        str(stage_name),
                        deployment["id"],
                        {
                            "description": params.get("stageDescription"),
                            "variables": params.get("variables"),
                        },
                    )
                else:
                    stage["deploymentId"] = deployment["id"]
                    stage["lastUpdatedDate"] = deployment["createdDate"]
            return _dates(deployment)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetDeployments")
    def get_deployments(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        return {"items": [_dates(d) for d in document["Deployments"].values()]}

    @operation("GetDeployment")
    def get_deployment(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        found = document["Deployments"].get(str(params["deploymentId"]))
        if found is None:
            raise _not_found("Invalid Deployment identifier specified")
        return _dates(found)

    @operation("DeleteDeployment")
    def delete_deployment(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            deployment_id = str(params["deploymentId"])
            if deployment_id not in document["Deployments"]:
                raise _not_found("Invalid Deployment identifier specified")
            if any(s.get("deploymentId") == deployment_id for s in document["Stages"].values()):
                # AWS keeps a deployment a stage points to
                raise _bad_request(
                    "Active stages pointing to this deployment must be moved or deleted"
                )
            del document["Deployments"][deployment_id]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    def _stage(self, document: ApiDocument, name: str) -> dict[str, Any]:
        found: dict[str, Any] | None = document["Stages"].get(name)
        if found is None:
            raise _not_found("Invalid stage identifier specified")
        return found

    @operation("CreateStage")
    def create_stage(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            deployment_id = str(params["deploymentId"])
            if deployment_id not in document["Deployments"]:
                raise _bad_request("Invalid deployment identifier specified")
            return _dates(
                self._add_stage(document, str(params["stageName"]), deployment_id, params)
            )

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("GetStage")
    def get_stage(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        return _dates(self._stage(document, str(params["stageName"])))

    @operation("GetStages")
    def get_stages(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["restApiId"]))
        wanted = params.get("deploymentId")
        return {
            "item": [
                _dates(s)
                for s in document["Stages"].values()
                if wanted is None or s.get("deploymentId") == wanted
            ]
        }

    @operation("UpdateStage")
    def update_stage(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            stage = self._stage(document, str(params["stageName"]))
            for patch in params.get("patchOperations") or []:
                _patch_stage(stage, patch, document)
            stage["lastUpdatedDate"] = self.env.clock.now()
            return _dates(stage)

        return self._change(ctx, str(params["restApiId"]), change)

    @operation("DeleteStage")
    def delete_stage(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            self._stage(document, str(params["stageName"]))
            del document["Stages"][str(params["stageName"])]
            return {}

        return self._change(ctx, str(params["restApiId"]), change)

    # -- tags --------------------------------------------------------------------------------

    def _tagged(self, arn: str, ctx: RequestContext) -> tuple[str, str | None]:
        found = api_and_stage(arn, f"arn:aws:apigateway:{ctx.region}::/restapis/")
        if found is None:
            raise _not_found("Invalid resource identifier specified")
        return found

    def _tags_of(
        self, document: ApiDocument, ctx: RequestContext, stage: str | None
    ) -> dict[str, str]:
        holder = document["Api"] if stage is None else self._stage(document, stage)
        tags: dict[str, str] = holder.setdefault("tags", {})
        return tags

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self._tag(ctx, str(params["resourceArn"]), params.get("tags") or {})

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self._untag(ctx, str(params["resourceArn"]), params.get("tagKeys") or [])

    @operation("GetTags")
    def get_tags(self, params: Params, ctx: RequestContext) -> Result:
        return {"tags": self._tags(ctx, str(params["resourceArn"]))}


def _ttl(value: Any) -> int:
    try:
        ttl = int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"Invalid authorizer result TTL: {value}") from None
    if not 0 <= ttl <= MAX_AUTHORIZER_TTL:
        raise _bad_request(
            f"Invalid authorizer result TTL: {ttl}. Must be between 0 and {MAX_AUTHORIZER_TTL}"
        )
    return ttl


def _authorizer_record(params: Params, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A checked authorizer (CreateAuthorizer's members; ``existing``: the one it replaces,
    whose id it keeps)."""
    kind = params.get("type")
    if kind not in AUTHORIZER_TYPES:
        raise _bad_request(
            f"Invalid authorizer type specified: {kind}. "
            "Valid values are TOKEN, REQUEST, COGNITO_USER_POOLS"
        )
    if not params.get("name"):
        raise _bad_request("Authorizer name must be non-empty")
    record: dict[str, Any] = {"id": existing["id"] if existing else new_id(6)}
    record.update({n: params[n] for n in _AUTHORIZER_MEMBERS if params.get(n) is not None})
    if kind == "COGNITO_USER_POOLS":
        if not params.get("providerARNs"):
            raise _bad_request("ProviderARNs need to be specified for COGNITO_USER_POOLS")
        return record
    if not params.get("authorizerUri"):
        raise _bad_request("Authorizer URI must be specified for TOKEN and REQUEST authorizers")
    record["authorizerResultTtlInSeconds"] = _ttl(
        params.get("authorizerResultTtlInSeconds", DEFAULT_AUTHORIZER_TTL)
    )
    sources = identity_sources(params.get("identitySource"))
    if kind == "TOKEN" and len(sources) != 1:
        raise _bad_request("Identity source must be a single header for TOKEN authorizers")
    if kind == "REQUEST" and record["authorizerResultTtlInSeconds"] > 0 and not sources:
        # caching keys on the identity sources
        raise _bad_request(
            "Identity source must be specified when authorizer result caching is enabled"
        )
    for source in sources:
        if not valid_source(source) or source.startswith("$"):
            raise _bad_request(f"Invalid identity source specified: {source}")
    if params.get("identityValidationExpression"):
        try:
            re.compile(str(params["identityValidationExpression"]))
        except re.error:
            raise _bad_request("Invalid identity validation expression specified") from None
    return record


#: The stage TestInvokeAuthorizer's method ARN names (AWS's).
TEST_INVOKE_STAGE = "test-invoke-stage"


def _test_request(params: Params, api_id: str, ctx: RequestContext, now: float) -> ProxyRequest:
    """The request TestInvokeAuthorizer's members describe."""
    path, _, query = str(params.get("pathWithQueryString") or "/").partition("?")
    path = "/" + path.lstrip("/")
    headers = {str(k).lower(): str(v) for k, v in (params.get("headers") or {}).items()}
    repeated: dict[str, list[str]] = {}
    for name, values in (params.get("multiValueHeaders") or {}).items():
        if values:
            headers.setdefault(str(name).lower(), str(values[-1]))
            if len(values) > 1 and headers[str(name).lower()] == str(values[-1]):
                repeated[str(name).lower()] = [str(value) for value in values]
    variables = {str(k): str(v) for k, v in (params.get("stageVariables") or {}).items()}
    return ProxyRequest(
        api_id=api_id,
        domain_name=f"{api_id}.execute-api.{ctx.region}.amazonaws.com",
        method="GET",
        path=path,
        query_string=query,
        headers=headers,
        repeated_headers=repeated or None,
        body=str(params.get("body") or "").encode("utf-8", "replace"),
        request_id=new_request_id(),
        time=now,
        account_id=ctx.account,
        stage=TEST_INVOKE_STAGE,
        stage_variables=variables or None,
        resource=path,
        resource_path=path,
    )


def _patched_scopes(scopes: Any, op: str, scope: str) -> list[str]:
    """A method's scopes after an ``add`` (a scope it has is not listed twice) or a
    ``remove`` (of a scope it lacks: no change) of ``scope``. AWS documents neither case;
    these are guesses."""
    found = [str(s) for s in scopes or []]
    if op == "add":
        return found if scope in found else [*found, scope]
    return [s for s in found if s != scope]


def _check_method_authorizer(document: ApiDocument, params: Params) -> None:
    """A CUSTOM (or Cognito) method names an authorizer the API has."""
    kind = params.get("authorizationType")
    if kind not in ("CUSTOM", "COGNITO_USER_POOLS"):
        return
    found = (document.get("Authorizers") or {}).get(params.get("authorizerId"))
    if found is None:
        # AWS's text for it
        raise _bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
            "COGNITO_USER_POOLS requires a valid authorizer."
        )


def _text(body: Any) -> str:
    if isinstance(body, bytes | bytearray):
        return bytes(body).decode("utf-8", "replace")
    read = getattr(body, "read", None)
    if callable(read):
        return _text(read())
    return "" if body is None else str(body)


def _patch_stage(stage: dict[str, Any], patch: dict[str, Any], document: ApiDocument) -> None:
    """One UpdateStage patch operation: ``/description``, ``/deploymentId`` and
    ``/variables/<name>`` (replace, add, remove); any other path is refused."""
    op = patch.get("op")
    path = str(patch.get("path", ""))
    value = patch.get("value")
    if path.startswith("/variables/"):
        name = path[len("/variables/") :]
        variables = stage.setdefault("variables", {})
        if op == "remove":
            variables.pop(name, None)
        elif op in ("replace", "add"):
            variables[name] = str(value)
        else:
            raise _bad_request(
                "Invalid patch operation specified. Must be one of: [replace, add, remove]"
            )
        return
    if op != "replace" or path not in ("/description", "/deploymentId"):
        raise _bad_request(f"Invalid patch path '{path}' specified for op '{op}'")
    if path == "/deploymentId" and value not in document["Deployments"]:
        raise _bad_request("Invalid deployment identifier specified")
    stage[path.lstrip("/")] = value
