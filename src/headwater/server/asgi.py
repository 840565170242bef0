"""The ASGI application of ``headwater serve``.

A plain ASGI callable rather than a framework: every request goes to the protocol router,
so routing tables, middleware and request objects would only add per-request cost on the
hot SQS path. ``GET /_headwater/health`` answers without touching any service. Every request
passes ``server.request_checks`` first (Host, browser Origin, SigV4 shape or signature).
``headwater serve`` speaks ASGI with it for lifespan and HTTP/2; its HTTP/1.1 protocol
(``server.http1``) calls ``respond`` directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import orjson

from headwater.api.cbor_protocol import CborProtocol
from headwater.api.http import WireRequest, WireResponse
from headwater.api.rest_xml import RestXmlProtocol
from headwater.api.router import Router
from headwater.deploy.custom_responses import RESPONSE_PREFIX, CustomResponses, access_denied
from headwater.server.dashboard import PREFIX as DASHBOARD_PREFIX
from headwater.server.dashboard import Dashboard
from headwater.server.execute_api import ExecuteApi
from headwater.server.function_urls import FunctionUrls
from headwater.server.prometheus import PATH as METRICS_PATH
from headwater.server.prometheus import MetricsEndpoint
from headwater.server.request_checks import Refusal, RequestPolicy, TemporaryKey, is_preflight
from headwater.server.user_pool_keys import UserPoolKeys
from headwater.wiring import SERVICES

if TYPE_CHECKING:
    from headwater.app import Headwater

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: headwater's own paths (health, dashboard) start with the dashboard's ``PREFIX``.
ADMIN_PREFIX = DASHBOARD_PREFIX
HEALTH_PATH = ADMIN_PREFIX + "health"
#: Largest request body accepted (a 50 MB zip, base64-encoded, in CreateFunction JSON).
MAX_BODY = 96 * 1024 * 1024

Hook = Callable[[asyncio.AbstractEventLoop], Awaitable[None]]


class HeadwaterApp:
    """ASGI app: health endpoint, lifespan hooks, everything else through ``Router``."""

    def __init__(
        self,
        router: Router,
        *,
        health: Callable[[], dict[str, Any]] | None = None,
        on_startup: Hook | None = None,
        on_shutdown: Hook | None = None,
        dashboard: Dashboard | None = None,
        metrics: MetricsEndpoint | None = None,
        policy: RequestPolicy | None = None,
        function_urls: FunctionUrls | None = None,
        execute_api: ExecuteApi | None = None,
        user_pool_keys: UserPoolKeys | None = None,
        custom_responses: Callable[[], CustomResponses | None] | None = None,
    ) -> None:
        self.router = router
        self.custom_responses = custom_responses
        self.user_pool_keys = user_pool_keys
        self.function_urls = function_urls
        self.execute_api = execute_api
        self.policy = policy or RequestPolicy()
        self.dashboard = dashboard
        self.metrics = metrics
        self._health = health or (lambda: {})
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def refusing(self, refusal: Refusal) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """An ASGI app answering every request with ``refusal`` (``refuse``): the app of a
        connection refused as a whole (HTTP/2 from another user's process)."""

        async def refuse_all(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                await self._http(scope, receive, send, refusal)

        return refuse_all

    async def _http(
        self, scope: Scope, receive: Receive, send: Send, refusal: Refusal | None = None
    ) -> None:
        message = await receive()
        body: bytes = message.get("body", b"")
        if message.get("more_body"):
            chunks = [body]
            size = len(body)
            while message.get("more_body"):
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    await _send(send, too_large())
                    return
                chunks.append(chunk)
            body = b"".join(chunks)
        raw_path = scope.get("raw_path")
        headers: dict[str, str] = {}
        repeated: dict[str, list[str]] | None = None
        names = KNOWN_HEADER_NAMES
        for raw_name, raw_value in scope["headers"]:
            name = names.get(raw_name)
            if name is None:
                name = raw_name.decode("latin-1")
                if len(names) < MAX_KNOWN_HEADER_NAMES:
                    names[raw_name] = name
            value = raw_value.decode("latin-1")
            if name in headers:  # a repeated header: every value kept apart too
                if repeated is None:
                    repeated = {}
                repeated.setdefault(name, [headers[name]]).append(value)
            headers[name] = value
        request = WireRequest(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1") if raw_path else scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            repeated_headers=repeated,
        )
        await _send(send, await self.respond(request, refusal))

    async def respond(self, request: WireRequest, refusal: Refusal | None = None) -> WireResponse:
        """The response to one request (health check or AWS call); never raises. With a
        ``refusal`` (the connection's), that refusal instead (``refuse``)."""
        answer = self.answer(request) if refusal is None else self.refuse(request, refusal)
        if isinstance(answer, WireResponse):
            return answer
        return await answer

    def answer(self, request: WireRequest) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """``respond``'s response when known without waiting (``Router.answer``), else an
        awaitable of it; raises only for a bug."""
        policy = self.policy
        urls = self.function_urls
        if urls is not None:
            address = urls.match(request)
            if address is not None:  # a function URL's request: never an AWS API call
                return urls.answer(request, address, policy)
        apis = self.execute_api
        if apis is not None:
            api = apis.match(request)
            if api is not None:  # an API Gateway API's request: never an AWS API call
                return apis.answer(request, api, policy)
        if request.method == "OPTIONS" and is_preflight(request):
            return policy.preflight(request)
        keys = self.user_pool_keys
        if keys is not None:
            document = keys.match(request)
            if document is not None:  # public keys: any page or verifier may read them
                return keys.answer(request, *document)
        if request.raw_path.startswith(ADMIN_PREFIX):  # headwater's own paths, never an AWS one
            if not policy.host_allowed(request):
                # DNS rebinding would let a page read the dashboard (message bodies, logs).
                host = request.headers.get("host", "")[:100]
                body = {"message": f"headwater does not answer requests for host '{host}'"}
                return WireResponse(403, orjson.dumps(body))
            if request.raw_path.startswith(RESPONSE_PREFIX):
                return self.custom_resource_response(request)
            if request.raw_path == HEALTH_PATH and request.method in ("GET", "HEAD"):
                return WireResponse(200, orjson.dumps({"status": "ok", **self._health()}))
            if self.dashboard is not None:  # every path under its PREFIX is the dashboard's
                return self.dashboard.handle(request)
        if (
            self.metrics is not None
            and request.method == "GET"
            and request.raw_path == METRICS_PATH
        ):
            return self.metrics.respond()
        refusal = policy.check(request)
        answer = self.router.answer(request, None if refusal is None else refusal.error)
        origin = request.headers.get("origin")
        if origin is None or refusal is not None:
            return answer
        cors = policy.cors_headers(origin)
        if isinstance(answer, WireResponse):
            answer.headers.extend(cors)
            return answer
        return _with_headers(answer, cors)

    def custom_resource_response(self, request: WireRequest) -> WireResponse:
        """A custom resource function's PUT of its answer to a ResponseURL. Unsigned, as a
        presigned S3 PUT is: the token admits it, once; a browser's request never."""
        refused = self.policy.function_url_refusal(request)
        if refused is not None:
            return WireResponse(403, orjson.dumps({"message": refused}))
        responses = self.custom_responses() if self.custom_responses is not None else None
        if request.method != "PUT" or responses is None:
            status, body = 403, access_denied()
        else:
            status, body = responses.answer_put(request.raw_path, request.body)
        return WireResponse(status, body, content_type="application/xml")

    def refuse(
        self, request: WireRequest, refusal: Refusal
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """The answer to a request on a connection refused as a whole (``RequestPolicy.
        connection_refusal``): ``refusal`` in the error shape of the request's protocol, as
        the router renders any refusal; a JSON message on headwater's own paths and to a
        CORS preflight. Nothing runs."""
        if self.function_urls is not None and self.function_urls.match(request) is not None:
            _, status, message = refusal.json
            return WireResponse(status, orjson.dumps({"Message": message}))
        if self.execute_api is not None and self.execute_api.match(request) is not None:
            _, status, message = refusal.json
            return WireResponse(status, orjson.dumps({"message": message}))
        if request.raw_path.startswith(ADMIN_PREFIX) or is_preflight(request):
            _, status, message = refusal.json
            return WireResponse(status, orjson.dumps({"message": message}))
        return self.router.answer(request, refusal.error)

    async def startup(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._on_startup is not None:
            await self._on_startup(loop)

    async def shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._on_shutdown is not None:
            await self._on_shutdown(loop)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup(asyncio.get_running_loop())
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown(asyncio.get_running_loop())
                except Exception:
                    log.exception("shutdown failed")
                await send({"type": "lifespan.shutdown.complete"})
                return


#: Header names as decoded (and lower-cased) before, by their bytes as sent (a client sends
#: the same dozen on every request), up to ``MAX_KNOWN_HEADER_NAMES`` of them: decoding
#: each name per request was a twentieth of the app's time on a DynamoDB GetItem. Shared
#: by the ASGI path and ``server.http1``.
KNOWN_HEADER_NAMES: dict[bytes, str] = {}
MAX_KNOWN_HEADER_NAMES = 512


async def _send(send: Send, response: WireResponse) -> None:
    headers = [(b"content-type", response.content_type.encode("latin-1"))]
    with_length = False
    for name, value in response.headers:
        # A response may state its own length: S3's HEAD object answers the object's size.
        if not with_length and name.lower() == "content-length":
            with_length = True
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    if not with_length:
        headers.insert(1, (b"content-length", str(len(response.body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _with_headers(
    answer: Coroutine[Any, Any, WireResponse], headers: list[tuple[str, str]]
) -> WireResponse:
    response = await answer
    response.headers.extend(headers)
    return response


def too_large() -> WireResponse:
    body = {"__type": "RequestEntityTooLarge", "Type": "User", "message": "Request too large"}
    return WireResponse(
        413, orjson.dumps(body), headers=[("x-amzn-ErrorType", "RequestTooLargeException")]
    )


def create_app(
    hw: Headwater,
    *,
    executor: Executor | None = None,
    on_ready: Callable[[], None] | None = None,
    policy: RequestPolicy | None = None,
) -> HeadwaterApp:
    """The app serving ``hw``; the engine starts on the server's loop at lifespan startup
    and is stopped (in-flight batches settled) at lifespan shutdown. ``policy`` (by
    default, from ``hw``'s options) says which requests are answered."""
    router = Router(
        hw.service,
        executor=executor,
        region=hw.env.region,
        account=hw.env.account,
        service_names=SERVICES,
        # Protocols the router does not know by itself, tried in this order after awsJson
        # and awsQuery: rpc-v2-cbor (CloudWatch), restXml (S3).
        protocols=[CborProtocol(tuple(SERVICES)), RestXmlProtocol()],
    )

    async def startup(loop: asyncio.AbstractEventLoop) -> None:
        start = getattr(hw, "start", None)
        if start is not None:
            start(loop=loop)
        if on_ready is not None:
            on_ready()

    async def shutdown(loop: asyncio.AbstractEventLoop) -> None:
        stop = getattr(hw, "stop", None)
        if stop is not None:
            # stop() waits for in-flight batches, which run on this very loop: wait in a
            # thread so the loop keeps running them to completion.
            await loop.run_in_executor(None, stop)

    def health() -> dict[str, Any]:
        return {"data_dir": str(hw.data_dir), "endpoint": hw.env.endpoint_url}

    return HeadwaterApp(
        router,
        health=health,
        on_startup=startup,
        on_shutdown=shutdown,
        dashboard=Dashboard(hw),
        metrics=MetricsEndpoint(hw),
        policy=policy or policy_of(hw),
        function_urls=FunctionUrls(
            lambda: hw.service("lambda"),
            account=hw.env.account,
            clock=hw.clock,
            executor=executor,
        ),
        execute_api=ExecuteApi(
            lambda: hw.service("apigatewayv2"),  # type: ignore[arg-type,return-value]
            lambda: hw.service("lambda"),
            rest_apis=lambda: hw.service("apigateway"),  # type: ignore[arg-type,return-value]
            user_pools=lambda: hw.service("cognito-idp"),  # type: ignore[arg-type,return-value]
            account=hw.env.account,
            clock=hw.clock,
            executor=executor,
        ),
        user_pool_keys=UserPoolKeys(lambda: hw.service("cognito-idp")),  # type: ignore[arg-type,return-value]
        custom_responses=lambda: _custom_responses(hw),
    )


def _custom_responses(hw: Headwater) -> CustomResponses | None:
    """The CloudFormation service's custom resource answers, if that service runs (no
    answer is awaited before it does)."""
    service = hw.existing_service("cloudformation")
    found: CustomResponses | None = getattr(service, "custom_responses", None)
    return found


def policy_of(hw: Headwater, bound_host: str | None = None) -> RequestPolicy:
    """The request policy ``hw``'s options ask for (``bound_host``: the address served)."""
    options = hw.options
    return RequestPolicy.build(
        cors_origins=options.cors_origins,
        allowed_hosts=options.allowed_hosts,
        bound_host=bound_host,
        verify_signatures=options.verify_signatures,
        allow_other_users=options.allow_other_users,
        access_keys=options.access_keys,
        other_keys=_iam_user_secret(hw) if options.verify_signatures else None,
        sessions=_sts_session(hw) if options.verify_signatures else None,
    )


def _sts_session(hw: Headwater) -> Callable[[str], TemporaryKey | None]:
    """The temporary credentials STS issued with an access key id; they expire by the
    server's clock (the one STS gave their ``Expiration`` by, scaled under --time-scale)."""
    from headwater.store.iam import IamStore

    store = hw.database.store(IamStore)

    def session(access_key: str) -> TemporaryKey | None:
        found = store.session(access_key)
        if found is None or not found.secret:
            return None
        return TemporaryKey(found.secret, found.token, hw.clock.now() >= found.expires)

    return session


def _iam_user_secret(hw: Headwater) -> Callable[[str], str | None]:
    """The secret of an active access key made with IAM ``CreateAccessKey``."""
    from headwater.store.iam import IamStore

    store = hw.database.store(IamStore)

    def secret(access_key: str) -> str | None:
        found = store.access_key(access_key)
        if found is None or found[1].status != "Active":
            return None
        return found[1].secret

    return secret
