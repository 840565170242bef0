"""Serving API Gateway HTTP APIs and REST APIs on ``headwater serve`` (an API's
"execute-api" endpoint).

An API is reached two ways, both answered before AWS API dispatch, like function URLs:

- by host, ``http://<api-id>.execute-api.<region>.localhost:<port>/<path>`` (the
  ``ApiEndpoint`` CreateApi answers), or ``<api-id>.execute-api.<region>.amazonaws.com``
  (AWS's own name, for a hosts file or proxy pointing it here);
- by path, ``http://127.0.0.1:<port>/_headwater/execute-api/<api-id>/<path>``.

The ``$default`` stage answers at the root, any other stage under its name
(``/<stage>/...``). The request is matched to a route as API Gateway matches (most specific
first, ``$default`` last; no match: 404 ``{"message":"Not Found"}``), and the route's Lambda
proxy integration invoked synchronously through the Lambda service in the server's thread
pool with a payload format 2.0 or 1.0 event. The server's browser checks apply as to
function URLs (``RequestPolicy.function_url_refusal``); the API's ``CorsConfiguration``
answers preflights and writes CORS headers.

A REST API (an id that is no HTTP API's) is served at ``/<stage>/<path>`` with the 1.0
event of its matching resource and method (a MOCK method answers from its integration
response, ``services.apigateway.mock_integrations``); no match is its 403
``{"message":"Missing Authentication Token"}``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from headwater.api.http import WireRequest, WireResponse
from headwater.core.ids import request_id as new_request_id
from headwater.core.proxy_payloads import (
    ProxyRequest,
    ProxyResponse,
    api_internal_error,
    function_response,
    request_event,
    rest_function_response,
    rest_internal_error,
    rest_request_event,
)
from headwater.server.dashboard import PREFIX as ADMIN_PREFIX
from headwater.server.lambda_proxy import (
    LambdaProxyEndpoint,
    host_or_path_address,
    own_origin,
    preflight,
    with_cors,
)
from headwater.server.request_checks import RequestPolicy, is_preflight
from headwater.services.apigateway.jwt_authorizers import (
    IssuerKeys,
    JwtAuthorizer,
    JwtGrant,
    JwtRefusal,
    authorizer_context,
    check_token,
)
from headwater.services.apigateway.lambda_authorizers import (
    AuthorizerAnswer,
    AuthorizerCache,
    LambdaAuthorizer,
    authorizer_event,
    decision,
    execute_api_arn,
    identity_of,
    invocation_outcome,
)
from headwater.services.apigateway.mock_integrations import mock_answer

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.runtime.invocation import InvocationResult
    from headwater.services.apigateway import ApiGatewayService
    from headwater.services.apigateway.service import RestExecutionTarget
    from headwater.services.apigatewayv2 import ApiGatewayV2Service
    from headwater.services.apigatewayv2.service import ExecutionTarget
    from headwater.services.cognitoidp import CognitoIdpService
    from headwater.services.lambda_ import LambdaService

#: The path form's prefix: ``/_headwater/execute-api/<api-id>/...``.
PATH_PREFIX = ADMIN_PREFIX + "execute-api/"
#: ``<api-id>.execute-api.<region>.localhost`` (or ``.amazonaws.com``).
_API_HOST = re.compile(
    r"([a-z0-9]{10})\.execute-api\.([a-z0-9-]{1,32})\.(?:localhost|amazonaws\.com)"
)


@dataclass(frozen=True, slots=True)
class ApiAddress:
    """Which API a request is for, and the path after the host (stage segment included)."""

    api_id: str
    #: The region the host names (``None`` in the path form).
    region: str | None
    path: str
    domain_name: str


def api_host_id(name: str) -> tuple[str, str] | None:
    """(api id, region) of an execute-api host name (no port), else ``None``."""
    found = _API_HOST.fullmatch(name)
    return None if found is None else (found.group(1), found.group(2))


def api_address(request: WireRequest) -> ApiAddress | None:
    """The API ``request`` is addressed to (``None``: not an execute-api request)."""
    found = host_or_path_address(
        request, host_marker=".execute-api.", host_id=api_host_id, path_prefix=PATH_PREFIX
    )
    return None if found is None else ApiAddress(*found)


def _message(status: int, message: str | None) -> WireResponse:
    """API Gateway's own answer: ``{"message": ...}``."""
    return WireResponse(status, orjson.dumps({"message": message}))


#: A Lambda authorizer's refusal: status, body and ``x-amzn-ErrorType`` (``None``: none).
Refusal = tuple[int, dict[str, Any], str | None]
#: What a refusal answers, per kind of API: a REST API's (AWS's texts and error types; an
#: authorizer error is its 500 ``{"message": null}``) and an HTTP API's.
_REST_REFUSALS: dict[str, Refusal] = {
    "unauthorized": (401, {"message": "Unauthorized"}, "UnauthorizedException"),
    "explicitDeny": (
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
        "AccessDeniedException",
    ),
    "implicitDeny": (
        403,
        {"Message": "User is not authorized to access this resource"},
        "AccessDeniedException",
    ),
    "error": (500, {"message": None}, "AuthorizerConfigurationException"),
}
_HTTP_REFUSALS: dict[str, Refusal] = {
    "unauthorized": (401, {"message": "Unauthorized"}, None),
    "explicitDeny": (403, {"message": "Forbidden"}, None),
    "implicitDeny": (403, {"message": "Forbidden"}, None),
    "error": (500, {"message": "Internal Server Error"}, None),
}


class ExecuteApi(LambdaProxyEndpoint):
    """Answers requests to HTTP APIs and REST APIs (``HeadwaterApp.answer`` asks ``match``
    first)."""

    def __init__(
        self,
        apis: Callable[[], ApiGatewayV2Service],
        lambda_service: Callable[[], LambdaService],
        *,
        rest_apis: Callable[[], ApiGatewayService] | None = None,
        user_pools: Callable[[], CognitoIdpService] | None = None,
        account: str,
        clock: Clock,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(lambda_service, account=account, clock=clock, executor=executor)
        self._apis = apis
        self._rest_apis = rest_apis
        self._user_pools = user_pools
        self._authorizer_answers: AuthorizerCache[AuthorizerAnswer] = AuthorizerCache(clock)
        self._token_grants: AuthorizerCache[JwtGrant] = AuthorizerCache(clock)
        self._issuer_keys = IssuerKeys(clock)

    def match(self, request: WireRequest) -> ApiAddress | None:
        """The API address of ``request`` (cheap: its Host and path)."""
        return api_address(request)

    def answer(
        self, request: WireRequest, address: ApiAddress, policy: RequestPolicy
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """The answer to a request for ``address``: refusals, preflights and misses at once,
        an invocation as an awaitable."""
        refusal = policy.function_url_refusal(request, own_origin(request, address.region))
        if refusal is not None:
            return _message(403, refusal)
        apis = self._apis()
        region = apis.api_region(address.api_id)
        if region is None and self._rest_apis is not None:
            rest = self._rest_apis()
            rest_region = rest.api_region(address.api_id)
            if rest_region is not None and address.region in (None, rest_region):
                return self._answer_rest(rest, request, address)
        if region is None or address.region not in (None, region):
            # an API id the endpoint does not know: API Gateway's 404 (its answer for an
            # unknown host is not documented; "Not Found" as for an unmatched route)
            return _message(404, "Not Found")
        origin = request.headers.get("origin")
        if is_preflight(request):
            cors = apis.cors_of(address.api_id)
            if cors is not None:
                return preflight(cors, request)
        found = apis.execution_target(address.api_id, request.method, address.path)
        if found == "disabled":
            # DisableExecuteApiEndpoint: AWS answers the default endpoint with 403 Forbidden
            return _message(403, "Forbidden")
        if found == "authorizer":
            # a route naming an authorizer the API lacks: a configuration error
            return _message(500, "Internal Server Error")
        if found is None or isinstance(found, str):
            return _message(404, "Not Found")
        proxy = replace(
            self._proxy_request(
                request, address.api_id, address.domain_name, address.path, self._account
            ),
            route_key=found.route_key,
            stage=found.stage,
            path_parameters=found.path_parameters or None,
            stage_variables=found.stage_variables or None,
            resource=_resource(found.route_key),
        )
        if found.authorizer is not None:
            return self._invoke_authorized(found, proxy, origin)
        return self._invoke(found, proxy, origin)

    async def _invoke_authorized(
        self, target: ExecutionTarget, request: ProxyRequest, origin: str | None
    ) -> WireResponse:
        assert target.authorizer is not None
        if isinstance(target.authorizer, JwtAuthorizer):
            granted = await self._authorize_token(target.authorizer, request)
            if isinstance(granted, WireResponse):
                return granted
            claims = authorizer_context(granted, rest=False, payload_version=target.payload_version)
            return await self._invoke(target, replace(request, authorizer=claims), origin)
        authorized = await self._authorize(
            target.authorizer,
            request,
            _HTTP_REFUSALS,
            region=target.region,
            path=target.route_path,
        )
        if isinstance(authorized, WireResponse):
            return authorized
        if target.payload_version == "2.0":
            context: dict[str, Any] = {"lambda": authorized.context}
        else:
            context = _flat_context(authorized)
        return await self._invoke(target, replace(request, authorizer=context), origin)

    def _answer_rest(
        self, rest: ApiGatewayService, request: WireRequest, address: ApiAddress
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        found = rest.execution_target(address.api_id, request.method, address.path)
        if found == "stage" or found is None:
            # a stage the API does not have (AWS's answer is not documented: a guess)
            return _message(403, "Forbidden")
        if found == "authorizer":
            # a method naming an authorizer the API lacks, or an authorization type
            # headwater does not run: API Gateway's configuration error
            return _message(500, None)
        if isinstance(found, str):
            # REST APIs answer a path and method no resource has like this (AWS's text)
            return _message(403, "Missing Authentication Token")
        if found.mock is not None and found.authorizer is None:
            return _mock_response(found.mock, request)
        proxy = replace(
            self._proxy_request(
                request, address.api_id, address.domain_name, address.path, self._account
            ),
            route_key=f"{request.method} {found.resource_path}",
            stage=found.stage,
            path_parameters=found.path_parameters or None,
            stage_variables=found.stage_variables or None,
            resource=found.resource_path,
            resource_path=found.path,
            resource_id=found.resource_id,
        )
        return self._invoke_rest(found, proxy, request)

    async def _authorize(
        self,
        authorizer: LambdaAuthorizer,
        request: ProxyRequest,
        refusals: dict[str, Refusal],
        *,
        region: str,
        path: str,
    ) -> AuthorizerAnswer | WireResponse:
        """The authorizer's answer letting ``request`` (for ``path`` below its stage) in,
        or the refusal to send: the identity sources missing (401, the function not
        called), the function failing with ``Unauthorized`` (401) or otherwise, or
        answering what API Gateway does not accept (500), or a policy that does not allow
        the request's method ARN (403)."""
        arn = execute_api_arn(
            region,
            self._account,
            request.api_id,
            stage=request.stage,
            method=request.method,
            path=path,
        )

        def refusal(kind: str) -> WireResponse:
            return _refusal(refusals[kind])

        identity = identity_of(authorizer, request)
        if identity is None:
            return refusal("unauthorized")
        answer = self._authorizer_answers.get(authorizer, identity)
        if answer is None:
            event = authorizer_event(authorizer, request, identity, arn)
            result = await self._invoke_in_pool(
                authorizer.function,
                orjson.dumps(event),
                region=region,
                request_id=new_request_id(),
            )
            outcome = invocation_outcome(authorizer, result)
            if isinstance(outcome, str):
                return refusal(outcome)
            answer = outcome
            self._authorizer_answers.put(authorizer, identity, answer)
        verdict = decision(answer, arn)
        if verdict != "allowed":
            return refusal(verdict)
        return answer

    async def _authorize_token(
        self, authorizer: JwtAuthorizer, request: ProxyRequest
    ) -> JwtGrant | WireResponse:
        """The grant of a Cognito (REST) or JWT (HTTP) authorizer letting ``request`` in,
        or the refusal to send. The token is checked in the thread pool: an issuer's keys
        may be fetched over HTTP, from this very server too."""
        rest = authorizer.kind == "COGNITO_USER_POOLS"
        identity = identity_of(authorizer, request)
        if identity is None:
            return _refusal(
                _REST_REFUSALS["unauthorized"] if rest else _HTTP_REFUSALS["unauthorized"]
            )
        grant = self._token_grants.get(authorizer, identity)
        if grant is not None:
            return grant
        pools = None if self._user_pools is None else self._user_pools()
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self._executor,
            lambda: check_token(
                authorizer,
                identity[0],
                user_pools=pools,
                keys=self._issuer_keys,
                now=self._clock.now(),
            ),
        )
        if isinstance(outcome, JwtRefusal):
            return _token_refusal(authorizer, outcome)
        self._token_grants.put(authorizer, identity, outcome)
        return outcome

    async def _invoke_rest(
        self, target: RestExecutionTarget, request: ProxyRequest, wire: WireRequest
    ) -> WireResponse:
        if isinstance(target.authorizer, JwtAuthorizer):
            granted = await self._authorize_token(target.authorizer, request)
            if isinstance(granted, WireResponse):
                return granted
            if target.mock is not None:
                return _mock_response(target.mock, wire)
            context = authorizer_context(granted, rest=True, payload_version="1.0")
            request = replace(request, authorizer=context)
        elif target.authorizer is not None:
            authorized = await self._authorize(
                target.authorizer,
                request,
                _REST_REFUSALS,
                region=target.region,
                path=target.path,
            )
            if isinstance(authorized, WireResponse):
                return authorized
            if target.mock is not None:
                return _mock_response(target.mock, wire)
            request = replace(request, authorizer=_flat_context(authorized))
        result = await self._invoke_in_pool(
            target.function,
            orjson.dumps(rest_request_event(request)),
            region=target.region,
            request_id=request.request_id,
        )
        response = _http_response(result, v1=True)
        headers = [*response.headers, ("x-amzn-RequestId", request.request_id)]
        return WireResponse(response.status, response.body, response.content_type, headers)

    async def _invoke(
        self, target: ExecutionTarget, request: ProxyRequest, origin: str | None
    ) -> WireResponse:
        v1 = target.payload_version == "1.0"
        event = rest_request_event(request) if v1 else request_event(request)
        result = await self._invoke_in_pool(
            target.function,
            orjson.dumps(event),
            region=target.region,
            request_id=request.request_id,
        )
        response = _http_response(result, v1)
        # The API's CorsConfiguration decides: the function's own CORS headers go.
        headers = with_cors(response.headers, target.cors, origin)
        headers.append(("apigw-requestid", request.request_id))
        return WireResponse(response.status, response.body, response.content_type, headers)


def _refusal(refusal: Refusal, headers: list[tuple[str, str]] | None = None) -> WireResponse:
    """An authorizer's refusal (``headers``: more to send)."""
    status, body, error_type = refusal
    sent = [] if error_type is None else [("x-amzn-ErrorType", error_type)]
    return WireResponse(status, orjson.dumps(body), headers=[*sent, *(headers or [])])


def _token_refusal(authorizer: JwtAuthorizer, refusal: JwtRefusal) -> WireResponse:
    """A REST API's 401 for a token its Cognito authorizer refuses; an HTTP API's 401
    (or 403, scopes not met) with the ``www-authenticate`` challenge it sends."""
    if authorizer.kind == "COGNITO_USER_POOLS":
        return _refusal(_REST_REFUSALS["unauthorized"])
    description = refusal.description.replace('"', "'")
    if refusal.kind == "forbidden":
        challenge = (
            f'Bearer scope="{" ".join(authorizer.scopes)}" error="insufficient_scope" '
            f'error_description="{description}"'
        )
        return _refusal(_HTTP_REFUSALS["implicitDeny"], [("www-authenticate", challenge)])
    challenge = f'Bearer scope="" error="invalid_token" error_description="{description}"'
    return _refusal(_HTTP_REFUSALS["unauthorized"], [("www-authenticate", challenge)])


def _flat_context(answer: AuthorizerAnswer) -> dict[str, Any]:
    """A REST API's (and payload 1.0's) ``requestContext.authorizer``: the authorizer's
    ``principalId`` and its ``context`` members."""
    context: dict[str, Any] = dict(answer.context)
    if answer.principal_id is not None:
        context["principalId"] = answer.principal_id
    context["integrationLatency"] = 0
    return context


def _mock_response(integration: dict[str, Any], request: WireRequest) -> WireResponse:
    """A MOCK method's answer; no integration response for its status is API Gateway's
    configuration error, a 500 ``Internal server error``."""
    answer = mock_answer(integration, request.headers.get("content-type", ""))
    if answer is None:
        return _message(500, "Internal server error")
    headers = [*answer.headers, ("x-amzn-RequestId", new_request_id())]
    return WireResponse(answer.status, answer.body, answer.content_type, headers)


def _resource(route_key: str) -> str:
    """1.0's ``resource``: the route's path template (``$default``: itself)."""
    _, space, path = route_key.partition(" ")
    return path if space else route_key


def _http_response(result: InvocationResult, v1: bool) -> ProxyResponse:
    """The HTTP response of an invocation's result: a function error or an answer that is
    no response is API Gateway's internal error; a throttle or a missing function (Lambda
    refusing the invocation) a 500 (AWS Lambda guide, "Handling Lambda errors with an API
    Gateway API")."""
    if result.status == "ok":
        if v1:
            return rest_function_response(result.payload)
        response = function_response(result.payload)
        if response.status == 502 and response.body == b"Internal Server Error":
            return api_internal_error()
        return response
    if v1:
        failed = rest_internal_error()
        if result.status != "function_error":
            failed.status = 500
        return failed
    return api_internal_error()
