"""A lean HTTP/1.1 server for the headwater app: asyncio protocol + httptools parser.

Why not only uvicorn: on the SQS benchmark (benchmarks/wire_sqs.py --uvicorn, 20,000
messages) uvicorn cost 0.02-0.04 ms more server CPU per request (0.31 vs 0.29 ms per
SendMessageBatch, 0.26 vs 0.22 ms per receive/delete) and ~9% send throughput, mostly
because it builds an ASGI scope per request and writes status line + headers and the body
in two socket writes (two syscalls, two TCP segments). This server parses with the same httptools
(llhttp) parser uvicorn uses, answers each request with one write, keeps connections
alive, answers ``Expect: 100-continue``, handles pipelined requests in order and applies
read/write back-pressure. It calls the app's ``respond(WireRequest)`` directly, without
building ASGI scopes; ``headwater serve --http uvicorn`` runs the same app under uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import httptools

from headwater.api.http import WireRequest, WireResponse
from headwater.server.asgi import MAX_BODY, HeadwaterApp, too_large

log = logging.getLogger(__name__)

#: Pipelined requests queued per connection before reading pauses.
MAX_QUEUED = 16
_STATUS_LINES = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode("latin-1")
    for status in HTTPStatus
}


def _status_line(status: int) -> bytes:
    return _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Status\r\n".encode("latin-1")


_date_second = 0
_date_header = b""


def _date() -> bytes:
    """``Date: <HTTP-date>\r\n``, formatted once per second."""
    global _date_second, _date_header
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_header = f"Date: {formatdate(now, usegmt=True)}\r\n".encode("latin-1")
    return _date_header


def encode_response(response: WireResponse, *, keep_alive: bool, head: bool = False) -> bytes:
    """Status line, headers and body as one buffer."""
    parts = [
        _status_line(response.status),
        _date(),
        b"Content-Type: ",
        response.content_type.encode("latin-1"),
        b"\r\nContent-Length: ",
        str(len(response.body)).encode("latin-1"),
        b"\r\n",
    ]
    for name, value in response.headers:
        parts.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    if not head and response.status not in (204, 304):
        parts.append(response.body)
    return b"".join(parts)


class HttpConnection(asyncio.Protocol):
    """One client connection: parse requests, answer them in order."""

    def __init__(self, server: LeanServer) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.queue: deque[tuple[WireRequest | None, bool]] = deque()
        self.worker: asyncio.Task[None] | None = None
        self.closing = False
        self.reading_paused = False
        self.write_ready: asyncio.Future[None] | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        # request being parsed
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.body_size = 0
        self.too_large = False

    # ---- connection ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.server.connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        self._cancel_idle_timer()
        if self.write_ready is not None and not self.write_ready.done():
            self.write_ready.set_result(None)
        if self.worker is not None and not self.worker.done():
            self.worker.cancel()

    def pause_writing(self) -> None:
        self.write_ready = self.loop.create_future()

    def resume_writing(self) -> None:
        if self.write_ready is not None and not self.write_ready.done():
            self.write_ready.set_result(None)
        self.write_ready = None

    def data_received(self, data: bytes) -> None:
        self._cancel_idle_timer()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(400, b"Upgrade not supported")
        except httptools.HttpParserError:
            self._reject(400, b"Malformed HTTP request")

    def shutdown(self) -> None:
        """Close now if idle, else after the responses in progress."""
        self.closing = True
        if self.worker is None or self.worker.done():
            self.transport.close()

    # ---- httptools callbacks ----

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.body_size = 0
        self.too_large = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        previous = self.headers.get(key)
        self.headers[key] = text if previous is None else f"{previous}, {text}"

    def on_headers_complete(self) -> None:
        if self.headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > MAX_BODY:
            self.too_large = True
            self.body = []
        elif not self.too_large:
            self.body.append(body)

    def on_message_complete(self) -> None:
        path, _, query = self.url.decode("latin-1").partition("?")
        request = WireRequest(
            method=self.parser.get_method().decode("latin-1"),
            raw_path=path or "/",
            query_string=query,
            headers=self.headers,
            body=b"".join(self.body) if len(self.body) != 1 else self.body[0],
        )
        keep_alive = self.parser.should_keep_alive() and not self.too_large
        # None: the body was too large and was dropped; answered with 413
        self.queue.append((None if self.too_large else request, keep_alive))
        if len(self.queue) >= MAX_QUEUED and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        if self.worker is None or self.worker.done():
            self.worker = self.loop.create_task(self._work())

    # ---- answering ----

    async def _work(self) -> None:
        while self.queue:
            request, keep_alive = self.queue.popleft()
            if self.reading_paused and len(self.queue) < MAX_QUEUED // 2:
                self.reading_paused = False
                self.transport.resume_reading()
            if request is None:
                response = too_large()
            else:
                try:
                    response = await self.server.app.respond(request)
                except Exception:
                    log.exception("unhandled error answering %s", request.raw_path)
                    response = WireResponse(500, b'{"message":"internal error"}')
            keep_alive = keep_alive and not self.closing
            if self.transport.is_closing():
                return
            self.transport.write(
                encode_response(
                    response,
                    keep_alive=keep_alive,
                    head=request is not None and request.method == "HEAD",
                )
            )
            if self.write_ready is not None:
                await self.write_ready
            if not keep_alive:
                self.transport.close()
                return
        if self.closing:
            self.transport.close()
        else:
            self._arm_idle_timer()

    def _reject(self, status: int, message: bytes) -> None:
        response = WireResponse(status, message, "text/plain")
        self.transport.write(encode_response(response, keep_alive=False))
        self.transport.close()

    def _arm_idle_timer(self) -> None:
        self._cancel_idle_timer()
        self.idle_timer = self.loop.call_later(self.server.keep_alive_seconds, self._idle)

    def _cancel_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def _idle(self) -> None:
        if not self.queue and (self.worker is None or self.worker.done()):
            self.transport.close()


class LeanServer:
    """Listens, tracks connections, and shuts down gracefully."""

    def __init__(
        self,
        app: HeadwaterApp,
        loop: asyncio.AbstractEventLoop,
        *,
        keep_alive_seconds: float = 75.0,
    ) -> None:
        self.app = app
        self.loop = loop
        self.keep_alive_seconds = keep_alive_seconds
        self.connections: set[HttpConnection] = set()
        self._server: asyncio.Server | None = None

    async def listen(self, host: str, port: int) -> None:
        self._server = await self.loop.create_server(
            lambda: HttpConnection(self), host, port, backlog=1024, reuse_address=True
        )

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop accepting, finish requests in progress (up to ``grace_seconds``), close."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.shutdown()
        deadline = self.loop.time() + grace_seconds
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.transport.abort()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1.0)


async def serve_forever(
    app: HeadwaterApp,
    host: str,
    port: int,
    *,
    stop: asyncio.Event,
    on_listening: Callable[[], None] | None = None,
    keep_alive_seconds: float = 75.0,
    grace_seconds: float = 5.0,
) -> None:
    """Run ``app``: startup hook, listen, wait for ``stop``, close, shutdown hook."""
    loop = asyncio.get_running_loop()
    server = LeanServer(app, loop, keep_alive_seconds=keep_alive_seconds)
    await app.startup(loop)
    try:
        await server.listen(host, port)
        if on_listening is not None:
            on_listening()
        await stop.wait()
        await server.close(grace_seconds)
    finally:
        await app.shutdown(loop)
