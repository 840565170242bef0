"""boto3 calls answered by an embedded headwater, through its ASGI app, with no socket.

An embedded headwater has no endpoint to connect to, yet a handler run inline
(``functions="inline"``) that calls ``boto3.client("dynamodb")`` must reach it, as it
would reach the server under ``headwater serve``. ``boto3_in_process(hw)`` registers a
botocore ``before-send`` hook on boto3's default session: a request to ``hw``'s endpoint
URL (``Headwater(endpoint_url=...)``, which functions get as ``AWS_ENDPOINT_URL``) is
handed to ``hw``'s ASGI app on a private event loop instead of a socket, so botocore signs,
serializes and parses exactly as against a server. Requests to any other URL are left alone.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from headwater.app import Headwater
    from headwater.server.asgi import HeadwaterApp

#: Request headers: a mapping, or (name, value) pairs (a name sent more than once).
HeaderFields = Mapping[str, str] | Sequence[tuple[str, str]]
#: Requests handled at once by the app's executor (calls block in service code).
CALL_THREADS = 8


class _Body(io.BytesIO):
    """A response body botocore can both ``stream()`` and ``read()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class InProcessTransport:
    """Runs HTTP exchanges through ``app`` on an event loop in a background thread.

    Callable as a botocore ``before-send`` handler: it answers the prepared request.
    """

    def __init__(self, app: HeadwaterApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(
            ThreadPoolExecutor(CALL_THREADS, thread_name_prefix="in-process-call")
        )
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the loop thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def send(
        self, method: str, url: str, headers: HeaderFields, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One raw HTTP exchange: (status, headers, body); ``headers`` as a mapping, or as
        (name, value) pairs to send a name more than once."""
        future = asyncio.run_coroutine_threadsafe(
            self._exchange(method, url, headers, body), self.loop
        )
        return future.result(timeout=120)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        from botocore.awsrequest import AWSResponse

        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, bytes | bytearray):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body.read()
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else str(v)
            for k, v in request.headers.items()
        }
        status, response_headers, payload = self.send(request.method, request.url, headers, data)
        return AWSResponse(request.url, status, dict(response_headers), _Body(payload))

    async def _exchange(
        self, method: str, url: str, headers: HeaderFields, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(url)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        header_list = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
        if not any(k == b"host" for k, _ in header_list):
            header_list.append((b"host", parts.netloc.encode("latin-1")))
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "headers": header_list,
            "client": ("127.0.0.1", 50000),
            "server": (parts.hostname or "127.0.0.1", parts.port or 80),
            "scheme": parts.scheme or "http",
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        out_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out_headers, b"".join(chunks)


@contextmanager
def boto3_in_process(hw: Headwater) -> Iterator[InProcessTransport]:
    """While open, boto3 clients made in this process for ``hw``'s endpoint reach ``hw``.

    ``hw`` needs an ``endpoint_url`` (any URL: nothing connects to it); clients must be
    made from boto3's default session (``boto3.client(...)``) after this is entered.
    """
    import boto3

    from headwater.server.asgi import create_app

    endpoint = hw.env.endpoint_url
    if endpoint is None:
        raise ValueError("boto3_in_process needs Headwater(endpoint_url=...)")
    prefix = endpoint.rstrip("/")
    transport = InProcessTransport(create_app(hw))

    def route(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        url = request.url
        if url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?"):
            return transport(request, **kwargs)
        return None  # another endpoint: botocore sends it as usual

    events = boto3._get_default_session().events
    events.register("before-send", route, unique_id=f"headwater-in-process-{id(transport)}")
    try:
        yield transport
    finally:
        events.unregister("before-send", unique_id=f"headwater-in-process-{id(transport)}")
        transport.close()
