"""Serving Lambda function URLs on ``headwater serve``.

A function URL is reached two ways, both answered before AWS API dispatch:

- by host, ``http://<url-id>.lambda-url.<region>.localhost:<port>/<path>`` (the URL
  CreateFunctionUrlConfig answers; ``*.localhost`` resolves to loopback on most systems);
- by path, ``http://127.0.0.1:<port>/_headwater/function-url/<url-id>/<path>``, for clients
  that cannot resolve ``*.localhost``.

Every request passes the server's browser checks first (``RequestPolicy.
function_url_refusal``): a web page reaches a function only from an origin the user allowed
with ``--cors-origin``, and then the URL's own ``Cors`` config writes the CORS answer and
the preflight, as on AWS. An ``AWS_IAM`` URL also needs a SigV4 signature for service
``lambda`` (verified with ``--verify-signatures``). The request becomes a payload format
2.0 event, invoked synchronously through the Lambda service's invoke path (concurrency,
logs, metrics) in the server's thread pool, so the event loop never waits on a function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from headwater.api.http import WireRequest, WireResponse
from headwater.core.ids import request_id as new_request_id
from headwater.core.proxy_payloads import (
    ProxyRequest,
    ProxyResponse,
    bad_gateway,
    function_response,
    request_event,
)
from headwater.server.dashboard import PREFIX as ADMIN_PREFIX
from headwater.server.request_checks import RequestPolicy, host_name, is_preflight
from headwater.services.lambda_.function_urls import FunctionUrlTarget, url_host_id

if TYPE_CHECKING:
    from headwater.api.sigv4 import Signature
    from headwater.core.clock import Clock
    from headwater.runtime.invocation import InvocationResult
    from headwater.services.lambda_ import LambdaService

#: The path form's prefix: ``/_headwater/function-url/<url-id>/...``.
PATH_PREFIX = ADMIN_PREFIX + "function-url/"


@dataclass(frozen=True, slots=True)
class UrlAddress:
    """Which function URL a request is for, and the path its function sees."""

    url_id: str
    #: The region the host names (``None`` in the path form).
    region: str | None
    path: str
    domain_name: str


def url_address(request: WireRequest) -> UrlAddress | None:
    """The function URL ``request`` is addressed to (``None``: not a function URL's)."""
    host = request.headers.get("host")
    if host is not None and ".lambda-url." in host:
        name = host_name(host)
        found = url_host_id(name)
        if found is not None:
            return UrlAddress(found[0], found[1], request.raw_path or "/", name)
    if request.raw_path.startswith(PATH_PREFIX):
        rest = request.raw_path[len(PATH_PREFIX) :]
        url_id, slash, path = rest.partition("/")
        if url_id:
            domain = host_name(host) if host else "localhost"
            return UrlAddress(url_id, None, slash + path if slash else "/", domain)
    return None


def _message(status: int, message: str | None) -> WireResponse:
    """A function URL's own error answer: AWS's ``{"Message": ...}`` document."""
    return WireResponse(status, orjson.dumps({"Message": message}))


def _forbidden() -> WireResponse:
    return _message(403, "Forbidden")


def origin_matches(cors: dict[str, Any], origin: str) -> bool:
    """Whether a ``Cors`` config (a function URL's, an HTTP API's) allows ``origin``."""
    origins = cors.get("AllowOrigins") or []
    return "*" in origins or origin.lower() in (o.lower() for o in origins)


def cors_headers(cors: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    """The CORS headers a URL's ``Cors`` config adds for an origin it allows."""
    credentials = cors.get("AllowCredentials") is True
    wildcard = "*" in (cors.get("AllowOrigins") or []) and not credentials
    headers = [("Access-Control-Allow-Origin", "*" if wildcard else origin)]
    if cors.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(cors["ExposeHeaders"])))
    if credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Vary", "Origin"))
    return headers


def preflight(cors: dict[str, Any] | None, request: WireRequest) -> WireResponse:
    """A URL's answer to a CORS preflight from an origin headwater allows: a grant when the
    URL's ``Cors`` allows the origin and method, else a 200 that grants nothing (the
    browser then refuses the request). The function does not run."""
    origin = request.headers.get("origin", "")
    method = request.headers.get("access-control-request-method", "").upper()
    if cors is None or not origin_matches(cors, origin):
        return WireResponse(200, b"", "text/plain", [("Vary", "Origin")])
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if "*" not in methods and method not in methods:
        return WireResponse(200, b"", "text/plain", [("Vary", "Origin")])
    headers = cors_headers(cors, origin)
    headers.append(("Access-Control-Allow-Methods", ", ".join(methods)))
    if cors.get("AllowHeaders"):
        headers.append(("Access-Control-Allow-Headers", ", ".join(cors["AllowHeaders"])))
    if cors.get("MaxAge"):
        headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    return WireResponse(200, b"", "text/plain", headers)


def _iam_context(sig: Signature, account: str) -> dict[str, Any]:
    """``requestContext.authorizer.iam`` for a signed caller (headwater has one account, and
    no user behind a key: the account root's ARN stands for it)."""
    return {
        "accessKey": sig.access_key,
        "accountId": account,
        "callerId": sig.access_key,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{account}:root",
        "userId": account,
    }


class FunctionUrls:
    """Answers requests to function URLs (``HeadwaterApp.answer`` asks ``match`` first)."""

    def __init__(
        self,
        lambda_service: Callable[[], LambdaService],
        *,
        account: str,
        clock: Clock,
        executor: Executor | None = None,
    ) -> None:
        self._lambda = lambda_service
        self._account = account
        self._clock = clock
        self._executor = executor

    def match(self, request: WireRequest) -> UrlAddress | None:
        """The function URL address of ``request`` (cheap: its Host and path)."""
        return url_address(request)

    def answer(
        self, request: WireRequest, address: UrlAddress, policy: RequestPolicy
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """The answer to a request for ``address``: refusals and preflights at once, an
        invocation as an awaitable."""
        # The host form's own origin (a page the function served posting back to it); never
        # the path form's, which is headwater's own origin (the dashboard's).
        own_origin = f"http://{request.host}" if address.region is not None else None
        refusal = policy.function_url_refusal(request, own_origin)
        if refusal is not None:
            return _message(403, refusal)
        target = self._lambda().function_url_target(address.url_id)
        if target is None or address.region not in (None, target.region):
            # AWS answers a URL id it does not know with a bare 403 (a guess: its text is
            # not documented).
            return _forbidden()
        origin = request.headers.get("origin")
        if is_preflight(request):
            return preflight(target.cors, request)
        iam = None
        if target.auth_type == "AWS_IAM":
            sig = policy.signed_caller(request, "lambda")
            if sig is None:
                return _forbidden()
            iam = _iam_context(sig, self._account)
        url_request = ProxyRequest(
            api_id=address.url_id,
            domain_name=address.domain_name,
            method=request.method,
            path=address.path,
            query_string=request.query_string,
            headers=request.headers,
            body=request.body,
            request_id=new_request_id(),
            time=self._clock.now(),
            # AWS writes "anonymous" for the caller of an unauthenticated (NONE) URL.
            account_id=self._account if iam is not None else "anonymous",
            iam=iam,
        )
        return self._invoke(target, url_request, origin)

    async def _invoke(
        self, target: FunctionUrlTarget, request: ProxyRequest, origin: str | None
    ) -> WireResponse:
        payload = orjson.dumps(request_event(request))
        service = self._lambda()
        loop = asyncio.get_running_loop()
        # As the Invoke API runs: in the thread pool (an inline handler may call back into
        # this server, whose loop must stay free to answer it).
        result: InvocationResult = await loop.run_in_executor(
            self._executor,
            lambda: service.invoke_function(
                target.function_name,
                payload,
                qualifier=target.qualifier,
                region=target.region,
                request_id=request.request_id,
            ),
        )
        response = _http_response(result)
        headers = response.headers
        cors = target.cors
        if cors is not None:
            # The URL's Cors config decides: the function's own CORS headers are dropped.
            headers = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
            if origin is not None and origin_matches(cors, origin):
                headers.extend(cors_headers(cors, origin))
        headers.append(("x-amzn-RequestId", result.request_id))
        return WireResponse(response.status, response.body, response.content_type, headers)


def _http_response(result: InvocationResult) -> ProxyResponse:
    """The HTTP response of an invocation's result."""
    if result.status == "ok":
        return function_response(result.payload)
    if result.status == "throttled":
        body = orjson.dumps({"Message": result.error_message or "Rate Exceeded."})
        return ProxyResponse(429, body, "application/json")
    if result.error_code == "RequestTooLargeException":
        return ProxyResponse(
            413, orjson.dumps({"Message": result.error_message}), "application/json"
        )
    return bad_gateway()
