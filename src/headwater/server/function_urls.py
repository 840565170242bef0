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

from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from headwater.api.http import WireRequest, WireResponse
from headwater.core.proxy_payloads import (
    ProxyRequest,
    ProxyResponse,
    bad_gateway,
    function_response,
    request_event,
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
from headwater.services.lambda_.function_urls import FunctionUrlTarget, url_host_id

if TYPE_CHECKING:
    from headwater.api.sigv4 import Signature
    from headwater.runtime.invocation import InvocationResult

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
    found = host_or_path_address(
        request, host_marker=".lambda-url.", host_id=url_host_id, path_prefix=PATH_PREFIX
    )
    return None if found is None else UrlAddress(*found)


def _message(status: int, message: str | None) -> WireResponse:
    """A function URL's own error answer: AWS's ``{"Message": ...}`` document."""
    return WireResponse(status, orjson.dumps({"Message": message}))


def _forbidden() -> WireResponse:
    return _message(403, "Forbidden")


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


class FunctionUrls(LambdaProxyEndpoint):
    """Answers requests to function URLs (``HeadwaterApp.answer`` asks ``match`` first)."""

    def match(self, request: WireRequest) -> UrlAddress | None:
        """The function URL address of ``request`` (cheap: its Host and path)."""
        return url_address(request)

    def answer(
        self, request: WireRequest, address: UrlAddress, policy: RequestPolicy
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """The answer to a request for ``address``: refusals and preflights at once, an
        invocation as an awaitable."""
        refusal = policy.function_url_refusal(request, own_origin(request, address.region))
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
        url_request = replace(
            self._proxy_request(
                request,
                address.url_id,
                address.domain_name,
                address.path,
                # AWS writes "anonymous" for the caller of an unauthenticated (NONE) URL.
                self._account if iam is not None else "anonymous",
            ),
            iam=iam,
        )
        return self._invoke(target, url_request, origin)

    async def _invoke(
        self, target: FunctionUrlTarget, request: ProxyRequest, origin: str | None
    ) -> WireResponse:
        result = await self._invoke_in_pool(
            target.function_name,
            orjson.dumps(request_event(request)),
            qualifier=target.qualifier,
            region=target.region,
            request_id=request.request_id,
        )
        response = _http_response(result)
        headers = with_cors(response.headers, target.cors, origin)
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
