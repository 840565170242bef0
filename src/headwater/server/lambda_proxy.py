"""The serving steps function URLs (``server.function_urls``) and API Gateway's execute-api
endpoint (``server.execute_api``) share: both put a Lambda function behind an HTTP address.

- addressing: a request names its URL or API by host (``<id>.<marker>.<region>...``) or by
  the path form (``/_headwater/<kind>/<id>/...``, for clients that cannot resolve
  ``*.localhost``);
- the request as the event needs it (``ProxyRequest``), with what differs added by the
  endpoint (route, stage, caller identity), and invoking the function in the server's
  thread pool, as the Invoke API runs (``LambdaProxyEndpoint``);
- CORS by the resource's own config (a URL's ``Cors``, an HTTP API's
  ``CorsConfiguration``, the same members): preflights, and the headers that replace the
  function's own.

What differs (the error documents, which status a failed invocation answers, the request
id header) stays with each endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from headwater.api.http import WireRequest, WireResponse
from headwater.core.ids import request_id as new_request_id
from headwater.core.proxy_payloads import ProxyRequest
from headwater.server.request_checks import host_name

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.runtime.invocation import InvocationResult
    from headwater.services.lambda_ import LambdaService


def host_or_path_address(
    request: WireRequest,
    *,
    host_marker: str,
    host_id: Callable[[str], tuple[str, str] | None],
    path_prefix: str,
) -> tuple[str, str | None, str, str] | None:
    """(id, region, path, domain name) of the URL or API ``request`` is addressed to, by
    host (``host_marker`` in the Host, ``host_id`` reading id and region from the host
    name) or by the path form (``path_prefix`` then the id; region ``None``); ``None``:
    neither."""
    host = request.headers.get("host")
    if host is not None and host_marker in host:
        name = host_name(host)
        found = host_id(name)
        if found is not None:
            return found[0], found[1], request.raw_path or "/", name
    if request.raw_path.startswith(path_prefix):
        rest = request.raw_path[len(path_prefix) :]
        target_id, slash, path = rest.partition("/")
        if target_id:
            domain = host_name(host) if host else "localhost"
            return target_id, None, slash + path if slash else "/", domain
    return None


def own_origin(request: WireRequest, region: str | None) -> str | None:
    """The origin of a page the URL or API served itself, posting back to it: the host
    form's (``region`` read from the host); never the path form's, which is headwater's own
    origin (the dashboard's)."""
    return f"http://{request.host}" if region is not None else None


class LambdaProxyEndpoint:
    """An HTTP endpoint whose requests invoke functions through the Lambda service (a
    function URL's, an API's): what it needs to turn a request into an invocation."""

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

    def _proxy_request(
        self, request: WireRequest, api_id: str, domain_name: str, path: str, account_id: str
    ) -> ProxyRequest:
        """``request`` as its event needs it, with a new request id; a function URL's own
        (``$default`` route and stage). An API adds its route and stage
        (``dataclasses.replace``)."""
        return ProxyRequest(
            api_id=api_id,
            domain_name=domain_name,
            method=request.method,
            path=path,
            query_string=request.query_string,
            headers=request.headers,
            repeated_headers=request.repeated_headers,
            body=request.body,
            request_id=new_request_id(),
            time=self._clock.now(),
            account_id=account_id,
        )

    async def _invoke_in_pool(
        self,
        function: str,
        payload: bytes,
        *,
        region: str,
        request_id: str,
        qualifier: str | None = None,
    ) -> InvocationResult:
        """Invoke ``function`` synchronously in the thread pool, as the Invoke API runs: an
        inline handler may call back into this server, whose loop must stay free to answer
        it."""
        service = self._lambda()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            lambda: service.invoke_function(
                function, payload, qualifier=qualifier, region=region, request_id=request_id
            ),
        )


def origin_matches(cors: dict[str, Any], origin: str) -> bool:
    """Whether a ``Cors`` config (a function URL's, an HTTP API's) allows ``origin``."""
    origins = cors.get("AllowOrigins") or []
    return "*" in origins or origin.lower() in (o.lower() for o in origins)


def cors_headers(cors: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    """The CORS headers a ``Cors`` config adds for an origin it allows."""
    credentials = cors.get("AllowCredentials") is True
    wildcard = "*" in (cors.get("AllowOrigins") or []) and not credentials
    headers = [("Access-Control-Allow-Origin", "*" if wildcard else origin)]
    if cors.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(cors["ExposeHeaders"])))
    if credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Vary", "Origin"))
    return headers


def with_cors(
    headers: list[tuple[str, str]], cors: dict[str, Any] | None, origin: str | None
) -> list[tuple[str, str]]:
    """A function's response headers as its URL or API answers them: a ``Cors`` config
    decides, so the function's own CORS headers go and the config's come (for an origin it
    allows); without a config the function's stay."""
    if cors is None:
        return headers
    kept = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
    if origin is not None and origin_matches(cors, origin):
        kept.extend(cors_headers(cors, origin))
    return kept


def preflight(cors: dict[str, Any] | None, request: WireRequest) -> WireResponse:
    """The answer to a CORS preflight from an origin headwater allows: a grant when the
    ``Cors`` config allows the origin and method, else a 200 that grants nothing (the
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
