"""API Gateway HTTP APIs (``apigatewayv2``, protocol type HTTP): APIs, routes, Lambda proxy
integrations, stages, deployments and tags, created one by one, by quick create
(``Target``) or imported from OpenAPI, persisted in the headwater database.

``server.execute_api`` serves them: ``execution_target`` finds the route a request
matches and the function its integration invokes. An API serves its current routes on
every stage that exists (no deployment snapshot: a change is live at once, as with
``AutoDeploy``). Lambda (REQUEST) authorizers
(``services.apigateway.lambda_authorizers``) and JWT authorizers
(``services.apigateway.jwt_authorizers``) run before their routes.
WebSocket APIs, models, domain names and VPC links are not served (their operations
answer headwater's unsupported-operation error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.localhost_urls import localhost_url
from headwater.services.apigateway.jwt_authorizers import JwtAuthorizer
from headwater.services.apigateway.lambda_authorizers import (
    LambdaAuthorizer,
    identity_sources,
    valid_source,
)
from headwater.services.apigatewayv2.openapi import ImportedApi, function_arn_of, read_definition
from headwater.services.apigatewayv2.route_keys import (
    DEFAULT_ROUTE,
    match_route,
    parse_route_key,
)
from headwater.services.apigatewayv2.stored_apis import (
    StoredApiService,
    api_and_stage,
    new_id,
    with_datetimes,
)
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.store.api_documents import ApiDocument, HttpApiStore

DEFAULT_STAGE = "$default"
PAYLOAD_VERSIONS = ("1.0", "2.0")
#: The integration timeout HTTP APIs default to (and their maximum), in milliseconds.
DEFAULT_TIMEOUT_MILLIS = 30000
#: An API's settings a caller sets (CreateApi, UpdateApi; a stack's AWS::ApiGatewayV2::Api).
API_SETTINGS = (
    "Name",
    "Description",
    "Version",
    "CorsConfiguration",
    "DisableExecuteApiEndpoint",
    "RouteSelectionExpression",
    "ApiKeySelectionExpression",
)
_ROUTE_MEMBERS = (
    "RouteKey",
    "Target",
    "AuthorizationType",
    "ApiKeyRequired",
    "OperationName",
    "AuthorizationScopes",
    "AuthorizerId",
    "RequestParameters",
)
_INTEGRATION_MEMBERS = (
    "IntegrationType",
    "IntegrationUri",
    "IntegrationMethod",
    "PayloadFormatVersion",
    "TimeoutInMillis",
    "Description",
    "ConnectionType",
    "CredentialsArn",
    "RequestParameters",
)
_STAGE_MEMBERS = (
    "AutoDeploy",
    "Description",
    "DeploymentId",
    "StageVariables",
    "DefaultRouteSettings",
    "RouteSettings",
    "AccessLogSettings",
)


def api_endpoint(api_id: str, region: str, endpoint: str | None) -> str:
    """An API's ``ApiEndpoint`` for a caller of ``endpoint`` (``http://127.0.0.1:4599``):
    the ``*.localhost`` host on the server's port, AWS's own form without a server."""
    if not endpoint:
        return f"https://{api_id}.execute-api.{region}.amazonaws.com"
    return localhost_url(f"{api_id}.execute-api.{region}", endpoint)


def api_arn(api_id: str, region: str) -> str:
    return f"arn:aws:apigateway:{region}::/apis/{api_id}"


def _bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


#: The range the model gives a CORS configuration's MaxAge (-1: no caching).
CORS_MAX_AGE_RANGE = (-1, 86400)


def _check_cors(cors: Any) -> None:
    """Refuse a CORS configuration whose MaxAge is outside the model's range (it was stored
    as given, and a number past 64 bits failed the write with a 500)."""
    if not isinstance(cors, dict) or cors.get("MaxAge") is None:
        return
    low, high = CORS_MAX_AGE_RANGE
    age = cors["MaxAge"]
    if isinstance(age, bool) or not isinstance(age, int) or not low <= age <= high:
        # AWS's words for it are not documented: a guess in its style
        raise _bad_request(f"Invalid CORS configuration: MaxAge must be between {low} and {high}")


_AUTHORIZER_MEMBERS = (
    "Name",
    "AuthorizerType",
    "AuthorizerUri",
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
)
#: The most seconds an authorizer's answer may be cached.
MAX_AUTHORIZER_TTL = 3600


def _http_authorizer_record(
    params: Params, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A checked HTTP API authorizer (CreateAuthorizer's members; ``existing``: the one it
    replaces, whose id it keeps). The texts are headwater's."""
    kind = params.get("AuthorizerType")
    if kind not in ("REQUEST", "JWT"):
        raise _bad_request(f"Invalid AuthorizerType {kind}: HTTP APIs take REQUEST or JWT")
    if not params.get("Name"):
        raise _bad_request("Name is required")
    record: dict[str, Any] = {"AuthorizerId": existing["AuthorizerId"] if existing else new_id(6)}
    record.update({n: params[n] for n in _AUTHORIZER_MEMBERS if params.get(n) is not None})
    sources = params.get("IdentitySource") or []
    if not isinstance(sources, list) or any(
        not isinstance(s, str) or not valid_source(s) or not s.startswith("$") for s in sources
    ):
        raise _bad_request(f"Invalid IdentitySource: {sources}")
    ttl = params.get("AuthorizerResultTtlInSeconds", 0)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_AUTHORIZER_TTL:
        raise _bad_request(
            f"AuthorizerResultTtlInSeconds must be between 0 and {MAX_AUTHORIZER_TTL}"
        )
    if kind == "JWT":
        jwt = params.get("JwtConfiguration")
        if not isinstance(jwt, dict) or not jwt.get("Issuer") or not sources:
            raise _bad_request("A JWT authorizer needs JwtConfiguration.Issuer and IdentitySource")
        return record
    if not params.get("AuthorizerUri"):
        raise _bad_request("AuthorizerUri is required for REQUEST authorizers")
    version = params.get("AuthorizerPayloadFormatVersion")
    if version not in PAYLOAD_VERSIONS:
        raise _bad_request(
            "AuthorizerPayloadFormatVersion (1.0 or 2.0) is required for REQUEST authorizers"
        )
    if not isinstance(params.get("EnableSimpleResponses", False), bool):
        raise _bad_request("EnableSimpleResponses must be a boolean")
    if params.get("EnableSimpleResponses") is True and version != "2.0":
        raise _bad_request("EnableSimpleResponses is only supported for payload format 2.0")
    if ttl > 0 and not sources:
        raise _bad_request("IdentitySource is required when authorizer caching is enabled")
    return record


def _check_route_authorizer(document: ApiDocument, params: Params) -> None:
    """A CUSTOM route names a REQUEST authorizer of the API, a JWT route a JWT one."""
    kind = params.get("AuthorizationType")
    if kind not in ("CUSTOM", "JWT"):
        return
    found = (document.get("Authorizers") or {}).get(params.get("AuthorizerId"))
    wanted = "REQUEST" if kind == "CUSTOM" else "JWT"
    if found is None or found.get("AuthorizerType") != wanted:
        raise _bad_request(
            f"AuthorizationType {kind} needs the AuthorizerId of a {wanted} authorizer"
        )


def _not_found(kind: str, ctx: RequestContext, identifier: str) -> AwsError:
    """AWS's 404 for a missing API ("Invalid API identifier specified ACCOUNT:ID", as AWS
    answers it); routes, integrations, stages and deployments the same way (their texts
    are AWS-like guesses)."""
    return AwsError(
        "NotFoundException",
        f"Invalid {kind} identifier specified {ctx.account}:{identifier}",
        status=404,
        fields={"resourceType": kind},
    )


def _dates(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as answered: epoch-second dates as datetimes."""
    return with_datetimes(item, ("CreatedDate", "LastUpdatedDate"))


def _check_unique_key(document: ApiDocument, key: str) -> None:
    """An API's route keys are unique: a second one is a 409 (text AWS-like, a guess)."""
    if any(r["RouteKey"] == key for r in document["Routes"].values()):
        raise AwsError(
            "ConflictException", f"Unable to create route {key}: route already exists", status=409
        )


@dataclass(frozen=True, slots=True)
class ExecutionTarget:
    """What a request to an API's stage invokes (``server.execute_api``)."""

    api_id: str
    region: str
    stage: str
    #: The route matched (``GET /items/{id}``, ``$default``).
    route_key: str
    path_parameters: dict[str, str]
    stage_variables: dict[str, str]
    #: The function's ARN (or name) the integration names.
    function: str
    payload_version: str
    cors: dict[str, Any] | None
    #: The path below the stage (the route ARN's).
    route_path: str = "/"
    #: The route's Lambda or JWT authorizer (``None``: none).
    authorizer: LambdaAuthorizer | JwtAuthorizer | None = None


def lambda_authorizer(api_id: str, record: dict[str, Any]) -> LambdaAuthorizer:
    """A stored REQUEST authorizer as serving runs it."""
    return LambdaAuthorizer(
        api_id=api_id,
        authorizer_id=str(record["AuthorizerId"]),
        function=function_arn_of(str(record.get("AuthorizerUri", ""))),
        kind="REQUEST",
        sources=tuple(identity_sources(record.get("IdentitySource"))),
        ttl=int(record.get("AuthorizerResultTtlInSeconds", 0)),
        http_payload_version=str(record.get("AuthorizerPayloadFormatVersion", "2.0")),
        simple_responses=record.get("EnableSimpleResponses") is True,
    )


def jwt_authorizer(api_id: str, record: dict[str, Any], route: dict[str, Any]) -> JwtAuthorizer:
    """A stored JWT authorizer as serving runs it for ``route`` (its
    ``AuthorizationScopes``)."""
    configuration = record.get("JwtConfiguration") or {}
    return JwtAuthorizer(
        api_id=api_id,
        authorizer_id=str(record["AuthorizerId"]),
        kind="JWT",
        sources=tuple(identity_sources(record.get("IdentitySource"))),
        issuer=str(configuration.get("Issuer") or ""),
        audience=tuple(str(a) for a in configuration.get("Audience") or []),
        scopes=tuple(str(s) for s in route.get("AuthorizationScopes") or []),
    )


class ApiGatewayV2Service(StoredApiService):
    service_name = "apigatewayv2"
    store_class = HttpApiStore

    # -- serving -----------------------------------------------------------------------------

    def cors_of(self, api_id: str) -> dict[str, Any] | None:
        found = self._store.find(api_id)
        if found is None:
            return None
        cors: dict[str, Any] | None = found[1]["Api"].get("CorsConfiguration")
        return cors

    def execution_target(self, api_id: str, method: str, path: str) -> ExecutionTarget | str | None:
        """What a request to ``api_id`` for ``method`` ``path`` (the path after the host,
        a named stage's segment first) invokes: an ``ExecutionTarget``, or ``"stage"`` (no
        such stage), ``"route"`` (no route matches), ``"disabled"`` (the API turned its
        execute-api endpoint off), ``"authorizer"`` (the route names an authorizer the API
        does not have), ``None`` (no such API)."""
        found = self._store.find(api_id)
        if found is None:
            return None
        region, document = found
        if document["Api"].get("DisableExecuteApiEndpoint") is True:
            return "disabled"
        stages: dict[str, Any] = document["Stages"]
        first, _, rest = path.lstrip("/").partition("/")
        if first and first != DEFAULT_STAGE and first in stages:
            stage, route_path = first, "/" + rest
        elif DEFAULT_STAGE in stages:
            stage, route_path = DEFAULT_STAGE, path
        else:
            return "stage"
        routes: dict[str, Any] = document["Routes"]
        by_key = {route["RouteKey"]: route for route in routes.values()}
        matched = match_route(list(by_key), method, route_path)
        if matched is None:
            return "route"
        route_key, parameters = matched
        route = by_key[route_key]
        target = str(route.get("Target") or "")
        integration = document["Integrations"].get(target.removeprefix("integrations/"))
        if integration is None:
            return "route"
        authorizer: LambdaAuthorizer | JwtAuthorizer | None = None
        authorization = route.get("AuthorizationType")
        if authorization in ("CUSTOM", "JWT"):
            record = (document.get("Authorizers") or {}).get(route.get("AuthorizerId"))
            wanted = "REQUEST" if authorization == "CUSTOM" else "JWT"
            if record is None or record.get("AuthorizerType") != wanted:
                return "authorizer"
            if wanted == "REQUEST":
                authorizer = lambda_authorizer(api_id, record)
            else:
                authorizer = jwt_authorizer(api_id, record, route)
        return ExecutionTarget(
            api_id=api_id,
            region=region,
            stage=stage,
            route_key=route_key,
            path_parameters=parameters,
            stage_variables=dict(stages[stage].get("StageVariables") or {}),
            function=function_arn_of(str(integration.get("IntegrationUri", ""))),
            payload_version=str(integration.get("PayloadFormatVersion", "2.0")),
            cors=document["Api"].get("CorsConfiguration"),
            route_path=route_path,
            authorizer=authorizer,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _no_such_api(self, ctx: RequestContext, api_id: str) -> AwsError:
        return _not_found("API", ctx, api_id)

    def _api_result(self, document: ApiDocument, ctx: RequestContext) -> Result:
        api = _dates(document["Api"])
        api["ApiEndpoint"] = api_endpoint(api["ApiId"], ctx.region, ctx.endpoint)
        return api

    def _new_document(self, ctx: RequestContext, params: Params) -> ApiDocument:
        now = self.env.clock.now()
        api_id = new_id(10)
        api: dict[str, Any] = {
            "ApiId": api_id,
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "CreatedDate": now,
            "DisableExecuteApiEndpoint": False,
            "Name": params.get("Name"),
            "ProtocolType": "HTTP",
            "RouteSelectionExpression": "$request.method $request.path",
            "Tags": dict(params.get("Tags") or {}),
        }
        _check_cors(params.get("CorsConfiguration"))
        for name in ("Description", "Version", "CorsConfiguration", "DisableExecuteApiEndpoint"):
            if params.get(name) is not None:
                api[name] = params[name]
        return {
            "Api": api,
            "Routes": {},
            "Integrations": {},
            "Stages": {},
            "Deployments": {},
        }

    def _add_integration(self, document: ApiDocument, params: Params) -> dict[str, Any]:
        kind = params.get("IntegrationType")
        if kind != "AWS_PROXY":
            raise _bad_request(
                f"headwater's HTTP APIs support only AWS_PROXY (Lambda) integrations, not {kind}"
            )
        version = params.get("PayloadFormatVersion")
        if version is None:
            # AWS requires it for an HTTP API's AWS_PROXY integration (text AWS-like).
            raise _bad_request("PayloadFormatVersion is required for AWS_PROXY integrations")
        if version not in PAYLOAD_VERSIONS:
            raise _bad_request(f"Invalid payload format version: {version}")
        if not params.get("IntegrationUri"):
            raise _bad_request("IntegrationUri is required for AWS_PROXY integrations")
        integration: dict[str, Any] = {
            "IntegrationId": new_id(7),
            "ConnectionType": "INTERNET",
            "IntegrationMethod": "POST",
            "TimeoutInMillis": DEFAULT_TIMEOUT_MILLIS,
        }
        integration.update({n: params[n] for n in _INTEGRATION_MEMBERS if n in params})
        integration["IntegrationResponseSelectionExpression"] = "${integration.response.statuscode}"
        document["Integrations"][integration["IntegrationId"]] = integration
        return integration

    def _add_route(self, document: ApiDocument, params: Params) -> dict[str, Any]:
        key = str(params.get("RouteKey", ""))
        parse_route_key(key)
        _check_unique_key(document, key)
        self._check_target(document, params.get("Target"))
        _check_route_authorizer(document, params)
        route: dict[str, Any] = {
            "RouteId": new_id(7),
            "ApiKeyRequired": False,
            "AuthorizationType": "NONE",
        }
        route.update({n: params[n] for n in _ROUTE_MEMBERS if n in params})
        document["Routes"][route["RouteId"]] = route
        return route

    @staticmethod
    def _check_target(document: ApiDocument, target: Any) -> None:
        if target is None:
            return
        integration_id = str(target).removeprefix("integrations/")
        if not str(target).startswith("integrations/") or (
            integration_id not in document["Integrations"]
        ):
            raise _bad_request(f"Invalid target: {target}")

    def _add_stage(self, document: ApiDocument, params: Params) -> dict[str, Any]:
        name = str(params.get("StageName", ""))
        if name in document["Stages"]:
            raise AwsError("ConflictException", f"Stage already exists: {name}", status=409)
        now = self.env.clock.now()
        stage: dict[str, Any] = {
            "StageName": name,
            "AutoDeploy": False,
            "CreatedDate": now,
            "LastUpdatedDate": now,
            "DefaultRouteSettings": {
                "DetailedMetricsEnabled": False,
            },
            "RouteSettings": {},
            "StageVariables": {},
            "Tags": dict(params.get("Tags") or {}),
        }
        stage.update({n: params[n] for n in _STAGE_MEMBERS if n in params})
        document["Stages"][name] = stage
        return stage

    def _apply_import(self, document: ApiDocument, imported: ImportedApi) -> None:
        _check_cors(imported.cors)
        api = document["Api"]
        api["Name"] = imported.name
        for name, value in (
            ("Description", imported.description),
            ("Version", imported.version),
            ("CorsConfiguration", imported.cors),
        ):
            if value is not None:
                api[name] = value
            else:
                api.pop(name, None)
        api.setdefault("Tags", {}).update(imported.tags)
        document["Routes"] = {}
        document["Integrations"] = {}
        authorizers = self._import_authorizers(document, imported)
        for route in imported.routes:
            params: dict[str, Any] = {"RouteKey": route.route_key}
            if route.integration is not None:
                integration = self._add_integration(document, route.integration)
                params["Target"] = f"integrations/{integration['IntegrationId']}"
            security = route.operation.get("security", imported.security)
            for requirement in security if isinstance(security, list) else ():
                names = list(requirement) if isinstance(requirement, dict) else []
                if names and names[0] in authorizers:
                    record = authorizers[names[0]]
                    params["AuthorizerId"] = record["AuthorizerId"]
                    params["AuthorizationType"] = (
                        "JWT" if record["AuthorizerType"] == "JWT" else "CUSTOM"
                    )
                    scopes = requirement[names[0]]
                    if record["AuthorizerType"] == "JWT" and scopes:
                        params["AuthorizationScopes"] = list(scopes)
                    break
            self._add_route(document, params)

    def _import_authorizers(
        self, document: ApiDocument, imported: ImportedApi
    ) -> dict[str, dict[str, Any]]:
        """The definition's ``x-amazon-apigateway-authorizer`` schemes as the API's
        authorizers, replacing its others (one of the same name keeps its id); by name."""
        old = {str(a["Name"]): a for a in (document.get("Authorizers") or {}).values()}
        document["Authorizers"] = {}
        found: dict[str, dict[str, Any]] = {}
        for name, scheme in imported.security_schemes.items():
            extension = scheme["x-amazon-apigateway-authorizer"]
            kind = str(extension.get("type", "")).upper()
            params: dict[str, Any] = {
                "Name": name,
                "AuthorizerType": kind,
                "AuthorizerUri": extension.get("authorizerUri"),
                "IdentitySource": extension.get("identitySource"),
                "AuthorizerPayloadFormatVersion": extension.get("authorizerPayloadFormatVersion"),
                "EnableSimpleResponses": extension.get("enableSimpleResponses"),
                "AuthorizerResultTtlInSeconds": extension.get("authorizerResultTtlInSeconds"),
                "AuthorizerCredentialsArn": extension.get("authorizerCredentials"),
            }
            jwt = extension.get("jwtConfiguration")
            if isinstance(jwt, dict):
                audience = jwt.get("audience") or []
                params["JwtConfiguration"] = {
                    "Issuer": jwt.get("issuer"),
                    "Audience": [audience] if isinstance(audience, str) else list(audience),
                }
            if isinstance(params["IdentitySource"], str):
                params["IdentitySource"] = identity_sources(params["IdentitySource"])
            version = params["AuthorizerPayloadFormatVersion"]
            if isinstance(version, int | float):
                # YAML reads an unquoted 2.0 as a number
                params["AuthorizerPayloadFormatVersion"] = f"{float(version):.1f}"
            record = _http_authorizer_record(
                {k: v for k, v in params.items() if v is not None}, old.get(name)
            )
            document["Authorizers"][record["AuthorizerId"]] = record
            found[name] = record
        return found

    # -- APIs --------------------------------------------------------------------------------

    @operation("CreateApi")
    def create_api(self, params: Params, ctx: RequestContext) -> Result:
        if params.get("ProtocolType") != "HTTP":
            raise _bad_request(
                f"headwater supports HTTP APIs only, not {params.get('ProtocolType')}"
            )
        document = self._new_document(ctx, params)
        target = params.get("Target")
        if target is not None:
            # quick create: a Lambda proxy integration, its route and an auto-deployed
            # $default stage, as API Gateway makes them
            integration = self._add_integration(
                document,
                {
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": target,
                    "PayloadFormatVersion": "2.0",
                },
            )
            integration["ApiGatewayManaged"] = True
            route = self._add_route(
                document,
                {
                    "RouteKey": params.get("RouteKey") or DEFAULT_ROUTE,
                    "Target": f"integrations/{integration['IntegrationId']}",
                },
            )
            route["ApiGatewayManaged"] = True
            stage = self._add_stage(document, {"StageName": DEFAULT_STAGE, "AutoDeploy": True})
            stage["ApiGatewayManaged"] = True
        elif params.get("RouteKey") is not None:
            raise _bad_request("RouteKey is supported only with Target (quick create)")
        self._add_document(ctx, document["Api"]["ApiId"], document)
        return self._api_result(document, ctx)

    @operation("ImportApi")
    def import_api(self, params: Params, ctx: RequestContext) -> Result:
        imported = read_definition(str(params.get("Body", "")))
        document = self._new_document(ctx, {"Name": imported.name})
        self._apply_import(document, imported)
        self._add_document(ctx, document["Api"]["ApiId"], document)
        return self._api_result(document, ctx)

    @operation("ReimportApi")
    def reimport_api(self, params: Params, ctx: RequestContext) -> Result:
        imported = read_definition(str(params.get("Body", "")))

        def change(document: ApiDocument) -> Result:
            self._apply_import(document, imported)
            return self._api_result(document, ctx)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("GetApi")
    def get_api(self, params: Params, ctx: RequestContext) -> Result:
        return self._api_result(self._document(ctx, str(params["ApiId"])), ctx)

    @operation("GetApis")
    def get_apis(self, params: Params, ctx: RequestContext) -> Result:
        items = [self._api_result(d, ctx) for d in self._store.all(ctx.account, ctx.region)]
        return {"Items": items}

    @operation("UpdateApi")
    def update_api(self, params: Params, ctx: RequestContext) -> Result:
        _check_cors(params.get("CorsConfiguration"))

        def change(document: ApiDocument) -> Result:
            api = document["Api"]
            for name in API_SETTINGS:
                if params.get(name) is not None:
                    api[name] = params[name]
            return self._api_result(document, ctx)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("DeleteApi")
    def delete_api(self, params: Params, ctx: RequestContext) -> Result:
        self._delete_document(ctx, str(params["ApiId"]))
        return {}

    @operation("DeleteCorsConfiguration")
    def delete_cors_configuration(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            document["Api"].pop("CorsConfiguration", None)
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    # -- routes ------------------------------------------------------------------------------

    @operation("CreateRoute")
    def create_route(self, params: Params, ctx: RequestContext) -> Result:
        return self._change(ctx, str(params["ApiId"]), lambda d: dict(self._add_route(d, params)))

    def _route(self, document: ApiDocument, ctx: RequestContext, route_id: str) -> dict[str, Any]:
        found: dict[str, Any] | None = document["Routes"].get(route_id)
        if found is None:
            raise _not_found("Route", ctx, route_id)
        return found

    @operation("GetRoute")
    def get_route(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return dict(self._route(document, ctx, str(params["RouteId"])))

    @operation("GetRoutes")
    def get_routes(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return {"Items": [dict(r) for r in document["Routes"].values()]}

    @operation("UpdateRoute")
    def update_route(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            route = self._route(document, ctx, str(params["RouteId"]))
            if params.get("RouteKey") is not None and params["RouteKey"] != route["RouteKey"]:
                parse_route_key(str(params["RouteKey"]))
                _check_unique_key(document, str(params["RouteKey"]))
            self._check_target(document, params.get("Target"))
            _check_route_authorizer(document, {**route, **params})
            route.update({n: params[n] for n in _ROUTE_MEMBERS if params.get(n) is not None})
            return dict(route)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("DeleteRoute")
    def delete_route(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            self._route(document, ctx, str(params["RouteId"]))
            del document["Routes"][str(params["RouteId"])]
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    # -- authorizers -------------------------------------------------------------------------

    def _authorizer(
        self, document: ApiDocument, ctx: RequestContext, authorizer_id: str
    ) -> dict[str, Any]:
        found: dict[str, Any] | None = (document.get("Authorizers") or {}).get(authorizer_id)
        if found is None:
            raise _not_found("Authorizer", ctx, authorizer_id)
        return found

    @operation("CreateAuthorizer")
    def create_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        record = _http_authorizer_record(params)

        def change(document: ApiDocument) -> Result:
            document.setdefault("Authorizers", {})[record["AuthorizerId"]] = record
            return dict(record)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("GetAuthorizer")
    def get_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return dict(self._authorizer(document, ctx, str(params["AuthorizerId"])))

    @operation("GetAuthorizers")
    def get_authorizers(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return {"Items": [dict(a) for a in (document.get("Authorizers") or {}).values()]}

    @operation("UpdateAuthorizer")
    def update_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            record = self._authorizer(document, ctx, str(params["AuthorizerId"]))
            changed = {**record, **{n: params[n] for n in _AUTHORIZER_MEMBERS if n in params}}
            checked = _http_authorizer_record(changed, record)
            record.clear()
            record.update(checked)
            return dict(record)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("DeleteAuthorizer")
    def delete_authorizer(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            authorizer_id = str(params["AuthorizerId"])
            self._authorizer(document, ctx, authorizer_id)
            for route in document["Routes"].values():
                if route.get("AuthorizerId") == authorizer_id:
                    # a route's authorizer stays (text AWS-like, a guess)
                    raise _bad_request(
                        f"Cannot delete authorizer {authorizer_id}: route "
                        f"{route['RouteKey']} uses it"
                    )
            del document["Authorizers"][authorizer_id]
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    # -- integrations ------------------------------------------------------------------------

    @operation("CreateIntegration")
    def create_integration(self, params: Params, ctx: RequestContext) -> Result:
        return self._change(
            ctx, str(params["ApiId"]), lambda d: dict(self._add_integration(d, params))
        )

    def _integration(
        self, document: ApiDocument, ctx: RequestContext, integration_id: str
    ) -> dict[str, Any]:
        found: dict[str, Any] | None = document["Integrations"].get(integration_id)
        if found is None:
            raise _not_found("Integration", ctx, integration_id)
        return found

    @operation("GetIntegration")
    def get_integration(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return dict(self._integration(document, ctx, str(params["IntegrationId"])))

    @operation("GetIntegrations")
    def get_integrations(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return {"Items": [dict(i) for i in document["Integrations"].values()]}

    @operation("UpdateIntegration")
    def update_integration(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            integration = self._integration(document, ctx, str(params["IntegrationId"]))
            version = params.get("PayloadFormatVersion")
            if version is not None and version not in PAYLOAD_VERSIONS:
                raise _bad_request(f"Invalid payload format version: {version}")
            kind = params.get("IntegrationType")
            if kind is not None and kind != "AWS_PROXY":
                raise _bad_request(
                    "headwater's HTTP APIs support only AWS_PROXY (Lambda) integrations, "
                    f"not {kind}"
                )
            integration.update(
                {n: params[n] for n in _INTEGRATION_MEMBERS if params.get(n) is not None}
            )
            return dict(integration)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("DeleteIntegration")
    def delete_integration(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            integration_id = str(params["IntegrationId"])
            self._integration(document, ctx, integration_id)
            target = f"integrations/{integration_id}"
            if any(r.get("Target") == target for r in document["Routes"].values()):
                # AWS keeps an integration a route still targets (text AWS-like, a guess).
                raise _bad_request(
                    f"Cannot delete integration {integration_id}: a route targets it"
                )
            del document["Integrations"][integration_id]
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    # -- stages and deployments --------------------------------------------------------------

    @operation("CreateStage")
    def create_stage(self, params: Params, ctx: RequestContext) -> Result:
        return self._change(ctx, str(params["ApiId"]), lambda d: _dates(self._add_stage(d, params)))

    def _stage(self, document: ApiDocument, ctx: RequestContext, name: str) -> dict[str, Any]:
        found: dict[str, Any] | None = document["Stages"].get(name)
        if found is None:
            raise _not_found("stage", ctx, name)
        return found

    @operation("GetStage")
    def get_stage(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return _dates(self._stage(document, ctx, str(params["StageName"])))

    @operation("GetStages")
    def get_stages(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return {"Items": [_dates(s) for s in document["Stages"].values()]}

    @operation("UpdateStage")
    def update_stage(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            stage = self._stage(document, ctx, str(params["StageName"]))
            if params.get("DeploymentId") is not None and (
                params["DeploymentId"] not in document["Deployments"]
            ):
                raise _not_found("Deployment", ctx, str(params["DeploymentId"]))
            stage.update({n: params[n] for n in _STAGE_MEMBERS if params.get(n) is not None})
            stage["LastUpdatedDate"] = self.env.clock.now()
            return _dates(stage)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("DeleteStage")
    def delete_stage(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            self._stage(document, ctx, str(params["StageName"]))
            del document["Stages"][str(params["StageName"])]
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("CreateDeployment")
    def create_deployment(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            stage_name = params.get("StageName")
            stage = None if stage_name is None else self._stage(document, ctx, str(stage_name))
            deployment: dict[str, Any] = {
                "DeploymentId": new_id(6),
                "AutoDeployed": False,
                "CreatedDate": self.env.clock.now(),
                "DeploymentStatus": "DEPLOYED",
            }
            if params.get("Description") is not None:
                deployment["Description"] = params["Description"]
            document["Deployments"][deployment["DeploymentId"]] = deployment
            if stage is not None:
                stage["DeploymentId"] = deployment["DeploymentId"]
                stage["LastUpdatedDate"] = deployment["CreatedDate"]
            return _dates(deployment)

        return self._change(ctx, str(params["ApiId"]), change)

    @operation("GetDeployment")
    def get_deployment(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        found = document["Deployments"].get(str(params["DeploymentId"]))
        if found is None:
            raise _not_found("Deployment", ctx, str(params["DeploymentId"]))
        return _dates(found)

    @operation("GetDeployments")
    def get_deployments(self, params: Params, ctx: RequestContext) -> Result:
        document = self._document(ctx, str(params["ApiId"]))
        return {"Items": [_dates(d) for d in document["Deployments"].values()]}

    @operation("DeleteDeployment")
    def delete_deployment(self, params: Params, ctx: RequestContext) -> Result:
        def change(document: ApiDocument) -> Result:
            deployment_id = str(params["DeploymentId"])
            if document["Deployments"].pop(deployment_id, None) is None:
                raise _not_found("Deployment", ctx, deployment_id)
            return {}

        return self._change(ctx, str(params["ApiId"]), change)

    # -- tags --------------------------------------------------------------------------------

    def _tagged(self, arn: str, ctx: RequestContext) -> tuple[str, str | None]:
        """The API id and stage name (``None``: the API itself) an ARN names."""
        found = api_and_stage(arn, f"arn:aws:apigateway:{ctx.region}::/apis/")
        if found is None:
            raise _not_found("resource", ctx, arn)
        return found

    def _tags_of(
        self, document: ApiDocument, ctx: RequestContext, stage: str | None
    ) -> dict[str, str]:
        holder = document["Api"] if stage is None else self._stage(document, ctx, stage)
        tags: dict[str, str] = holder.setdefault("Tags", {})
        return tags

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self._tag(ctx, str(params["ResourceArn"]), params.get("Tags") or {})

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self._untag(ctx, str(params["ResourceArn"]), params.get("TagKeys") or [])

    @operation("GetTags")
    def get_tags(self, params: Params, ctx: RequestContext) -> Result:
        return {"Tags": self._tags(ctx, str(params["ResourceArn"]))}
