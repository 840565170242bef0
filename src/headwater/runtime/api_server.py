"""The HTTP side of the Lambda Runtime API: one loopback listener per execution environment.

All environments' listeners are served by one daemon thread running an asyncio loop
(``RuntimeApiHost``). Requests are parsed with httptools (llhttp, the parser uvicorn
uses) by a small protocol class: the API is a handful of fixed routes, and a framework
would cost more per invocation than the whole exchange (the target is 0.5 ms p50).

Who may talk to an environment's API: it listens on 127.0.0.1 only and refuses requests
that a web page could send (any ``Origin`` or ``Sec-Fetch-*`` header, or a ``Host`` that is
not a loopback name: DNS rebinding) and, on Linux, every request on a connection from
another user's process (the peer socket's owner, ``headwater.peer_owner``, looked up once
per connection). Processes of the same user (and root's) can reach it, as they could reach
the function's processes anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools
import orjson

from headwater.peer_owner import other_user_of, user_name

log = logging.getLogger("headwater.lambda")

_REASONS = {
    200: b"OK",
    202: b"Accepted",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Request Entity Too Large",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
}

#: Largest request body the API reads (a response over the 6 MB limit is refused by the
#: route; this only bounds what a misbehaving client can make us buffer).
MAX_BODY = 16 * 1024 * 1024
#: Largest request head (request line and headers) read: a runtime's are a few hundred
#: bytes. Measured in bytes read, as llhttp buffers a header value until it ends.
MAX_HEAD_BYTES = 64 * 1024
#: ``_head_bytes`` while a body is read (bounded by ``MAX_BODY`` instead).
_IN_BODY = -(2**62)


@dataclass(slots=True)
class ApiRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(slots=True)
class Exchange:
    """One request and the connection to answer it on (possibly later: /next waits)."""

    request: ApiRequest
    _protocol: ApiProtocol
    answered: bool = False

    def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if self.answered:
            return
        self.answered = True
        self._protocol.write_response(status, body, headers, content_type)

    def respond_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self.respond(status, orjson.dumps(value), headers)

    @property
    def open(self) -> bool:
        return not self._protocol.closed


Handler = Callable[[Exchange], None]


class ApiProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive server side of one connection, one request at a time."""

    def __init__(
        self, handler: Handler, port: int, connections: set[ApiProtocol] | None = None
    ) -> None:
        self._handler = handler
        self._port = port
        self._connections = connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        # bytes read of the request head being parsed; _IN_BODY once its body is read
        self._head_bytes = 0
        self._keep_alive = True
        self.closed = False
        #: Why every request on this connection is refused (another user's process).
        self._refusal: str | None = None

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._connections is not None:
            self._connections.add(self)
        uid = other_user_of(transport)
        if uid is not None:
            self._refusal = (
                f"The Runtime API answers only processes of the user running headwater; "
                f"this connection is from user '{user_name(uid)}' (uid {uid})"
            )
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._connections is not None:
            self._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, _TooLarge):
                self._refuse(413, "Request too large", "RequestTooLarge")
            else:
                self._refuse(400, "Malformed HTTP request", "InvalidRequest")
            return
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, "Request header fields too large", "RequestTooLarge")

    def _refuse(self, status: int, message: str, error_type: str) -> None:
        """Answer a request that cannot be read with ``status``, and close: what follows
        on the connection cannot be told apart from the rest of it."""
        self._keep_alive = False
        body = orjson.dumps({"errorMessage": message, "errorType": error_type})
        self.write_response(status, body, None)
        self._close()

    # -- httptools callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._head_bytes = _IN_BODY
        self._size += len(body)
        if self._size > MAX_BODY:
            # refused now, not once the body ends: a body that never ends is not read on
            raise _TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._head_bytes = 0
        self._keep_alive = self._parser.should_keep_alive()
        path = self._url.split(b"?", 1)[0].decode("latin-1")
        method = self._parser.get_method().decode("latin-1")
        request = ApiRequest(method, path, self._headers, b"".join(self._body))
        exchange = Exchange(request, self)
        refusal = self._refusal or _browser_refusal(self._headers, self._port)
        if refusal is not None:
            exchange.respond_json(403, {"errorMessage": refusal, "errorType": "Forbidden"})
            return
        try:
            self._handler(exchange)
        except Exception:
            log.exception("Runtime API request %s %s failed", method, path)
            exchange.respond_json(500, {"errorMessage": "Internal error", "errorType": "Internal"})

    # -- output ---------------------------------------------------------------------------

    def write_response(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None,
        content_type: str = "application/json",
    ) -> None:
        transport = self._transport
        if transport is None or self.closed:
            return
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown")),
            b"Content-Type: " + content_type.encode() + b"\r\n",
            b"Content-Length: %d\r\n" % len(body),
        ]
        if headers:
            for name, value in headers.items():
                head.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
        if not self._keep_alive:
            head.append(b"Connection: close\r\n")
        head.append(b"\r\n")
        transport.write(b"".join(head) + body)
        if not self._keep_alive:
            self._close()

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self.closed = True


class _TooLarge(Exception):
    """A request body over ``MAX_BODY``."""


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _browser_refusal(headers: dict[str, str], port: int) -> str | None:
    """Why a request looks like it comes from a web page (None when it does not)."""
    for name in ("origin", "sec-fetch-mode", "sec-fetch-site"):
        if name in headers:
            return f"The Runtime API does not accept browser requests ({name} header)"
    host = headers.get("host")
    if host is not None:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in _LOOPBACK_HOSTS:
            return f"The Runtime API only answers requests for 127.0.0.1:{port}"
    return None


@dataclass(eq=False)
class Listener:
    """One environment's API endpoint."""

    port: int
    server: asyncio.Server
    #: Open connections (API loop only): what a process wrote before it died is read
    #: before its death is reported.
    connections: set[ApiProtocol] = field(default_factory=set)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class RuntimeApiHost:
    """The daemon thread and loop that serve every environment's Runtime API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="headwater-runtime-api", daemon=True
        )
        self._thread.start()

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the API loop soon (from any thread)."""
        self.loop.call_soon_threadsafe(function, *args)

    def listen(self, handler: Handler) -> Listener:
        """A new loopback listener on a free port whose requests go to ``handler``."""

        async def open_listener() -> Listener:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            connections: set[ApiProtocol] = set()
            server = await self.loop.create_server(
                lambda: ApiProtocol(handler, port, connections), sock=sock, backlog=64
            )
            return Listener(port, server, connections)

        return asyncio.run_coroutine_threadsafe(open_listener(), self.loop).result(10.0)

    def close_listener(self, listener: Listener) -> None:
        self.call(listener.server.close)


_HOST: RuntimeApiHost | None = None
_HOST_LOCK = threading.Lock()


def runtime_api_host() -> RuntimeApiHost:
    """The process's Runtime API host (started on first use)."""
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = RuntimeApiHost()
        return _HOST
