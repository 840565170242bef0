"""HTTP/1.1 for ``headwater serve``: the httptools parser feeding ``HeadwaterApp.respond``.

uvicorn's HTTP/1.1 protocol turns each request into an ASGI scope, a task and two send
messages, which the app then turns back into a ``WireRequest``: about a third of the
server's CPU per DynamoDB call over the wire. This protocol builds the ``WireRequest``
straight from the parser's callbacks and asks the app for its answer: a call the app
answers without waiting (``HeadwaterApp.answer``: every awsJson call of a service that
never waits, a DynamoDB call) is answered inside ``data_received`` with one write and no
coroutine; the app's coroutine for any other call is run by hand, and one that waits (a
long poll, a synchronous Invoke) finishes in a task. uvicorn still runs the server (sockets,
signals, lifespan, graceful shutdown, the Date header), HTTP/2 and the Runtime API.

Kept from uvicorn's protocol: keep-alive with an idle timeout, HTTP/1.0 and
``Connection: close``, ``Expect: 100-continue``, pipelined requests answered in order,
``400`` for a malformed request, response headers checked for line breaks, and flow
control: a client that does not read its answers stops being read.

Limits a hostile local client meets (uvicorn's h11 protocol has the same two; llhttp has
neither): a request head (request line and headers) over ``MAX_HEAD_BYTES`` gets ``431``,
and one not finished ``HEAD_DEADLINE_S`` after it started (a slowloris client) gets ``408``;
both then close the connection. The head is measured by the bytes read, not by callbacks:
llhttp buffers a header value until its end, so a value that never ends would otherwise
grow (and be copied on every read) without a callback ever being called.
"""

from __future__ import annotations

import asyncio
import functools
import http
import types
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, cast

import httptools

from headwater.api.errors import json_error, server_fault
from headwater.api.http import WireRequest, WireResponse
from headwater.core.ids import request_id
from headwater.server.asgi import (
    KNOWN_HEADER_NAMES,
    MAX_BODY,
    MAX_KNOWN_HEADER_NAMES,
    HeadwaterApp,
    too_large,
)
from headwater.server.request_checks import Refusal

if TYPE_CHECKING:
    from uvicorn.server import ServerState


#: Pipelined requests held while one is answered before the connection stops reading.
MAX_PIPELINED = 16
#: Largest request head (request line and headers) read: AWS SDK requests use a few KiB
#: (S3's user metadata is at most 2 KiB).
MAX_HEAD_BYTES = 64 * 1024
#: How long a request head may take from its first byte to its end.
HEAD_DEADLINE_S = 30.0
#: ``_head_bytes`` while a body is read: a body is bounded by ``MAX_BODY``, not the head's limit.
_IN_BODY = -(2**62)

_STATUS_LINES = {
    status: f"HTTP/1.1 {status} {phrase}\r\n"
    for status, phrase in ((s.value, s.phrase) for s in http.HTTPStatus)
}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: Request methods as text, by the parser's bytes: one decode less per request.
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")}


class Http1Protocol(asyncio.Protocol):
    """One HTTP/1.1 connection answered by ``app``; with a ``refusal`` (the connection's,
    found once when it was made: ``RequestPolicy.connection_refusal``), every request on it
    is answered with that refusal instead (``HeadwaterApp.refuse``)."""

    def __init__(
        self,
        app: HeadwaterApp,
        server_state: ServerState,
        *,
        keep_alive_s: float,
        loop: asyncio.AbstractEventLoop,
        refusal: Refusal | None = None,
        head_deadline_s: float = HEAD_DEADLINE_S,
    ) -> None:
        self.app = app
        # chosen once: a request costs the same lookup either way
        self._answer: Callable[[WireRequest], WireResponse | Coroutine[Any, Any, WireResponse]]
        self._answer = (
            app.answer if refusal is None else functools.partial(app.refuse, refusal=refusal)
        )
        self.server_state = server_state
        self.keep_alive_s = keep_alive_s
        self.head_deadline_s = head_deadline_s
        self.loop = loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        # the request being parsed
        self._url = b""
        self._headers: dict[str, str] = {}
        self._repeated: dict[str, list[str]] | None = None
        self._body: list[bytes] = []
        self._size = 0
        # bytes read of the request head being parsed (from the first read holding part of
        # it; _IN_BODY once its body is read) and when its first byte was read
        self._head_bytes = 0
        self._head_started = 0.0
        # requests parsed and not yet answered, with whether to keep the connection
        self._pending: deque[tuple[WireRequest, bool]] = deque()
        self._busy = False  # a response is being worked out in a task
        self._closing = False  # close once the pending requests are answered
        self._paused = False  # reading paused: too many pipelined requests pending
        self._write_paused = False  # the transport's buffer is full: the client is not reading
        self._last_active = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # ---- connection ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike
        self.transport = cast(asyncio.Transport, transport)
        self.server_state.connections.add(self)  # type: ignore[arg-type]
        self._last_active = self.loop.time()
        self._timer = self.loop.call_later(
            min(self.keep_alive_s, self.head_deadline_s), self._check_idle
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()

    def eof_received(self) -> bool | None:
        return None

    def data_received(self, data: bytes) -> None:
        now = self._last_active = self.loop.time()
        if self._head_bytes == 0:
            self._head_started = now
        self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades here (no WebSocket, h2c only with prior knowledge): answer the
            # request as plain HTTP, then close, as the parser stops at the upgrade.
            self._closing = True
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, _TooLarge):
                self._refuse(too_large())
            else:
                self._bad_request()
            return
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(_text_response(431, "Request header fields too large."))
            return
        if self._pending and not self._busy:
            self._answer_pending()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close now if idle, else after the response."""
        self._closing = True
        if not self._busy and not self._pending and self.transport is not None:
            self.transport.close()

    def pause_writing(self) -> None:
        """The transport's buffer is full (the client does not read its answers): stop
        answering and reading until it drains, so pipelined requests cannot pile answers
        up in memory."""
        self._write_paused = True
        if self.transport is not None and not self._paused:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.transport is not None and not self._paused:
            self.transport.resume_reading()
        if self._pending and not self._busy:
            self._answer_pending()

    def _check_idle(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        now = self.loop.time()
        in_head = self._head_bytes > 0 and not self._busy
        if in_head and now - self._head_started >= self.head_deadline_s:
            self._refuse(_text_response(408, "Request header timeout."))
            return
        idle = now - self._last_active
        if not self._busy and idle >= self.keep_alive_s:
            transport.close()
            return
        wait = self.keep_alive_s - idle if not self._busy else self.keep_alive_s
        # a head may start (or has started) before then: its deadline is checked on time
        if in_head:
            wait = min(wait, self._head_started + self.head_deadline_s - now)
        else:
            wait = min(wait, self.head_deadline_s)
        self._timer = self.loop.call_later(max(wait, 0.05), self._check_idle)

    # ---- parser callbacks ----

    # No on_message_begin or on_headers_complete: every callback the parser finds costs a
    # call per request. on_message_complete leaves the state ready for the next message.

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, raw_name: bytes, raw_value: bytes) -> None:
        name = KNOWN_HEADER_NAMES.get(raw_name)
        if name is None:
            name = raw_name.decode("latin-1").lower()
            if len(KNOWN_HEADER_NAMES) < MAX_KNOWN_HEADER_NAMES:
                KNOWN_HEADER_NAMES[raw_name] = name
        # llhttp keeps trailing whitespace, which is not part of a field value (RFC 9110)
        value = raw_value.rstrip(b" \t").decode("latin-1")
        if name == "expect" and value.lower() == "100-continue" and self.transport:
            # headers come before the body: the client waits for this to send it
            self.transport.write(_CONTINUE)
        headers = self._headers
        if name in headers:  # a repeated header: every value kept apart too
            if self._repeated is None:
                self._repeated = {}
            self._repeated.setdefault(name, [headers[name]]).append(value)
        headers[name] = value

    def on_body(self, body: bytes) -> None:
        self._head_bytes = _IN_BODY
        self._size += len(body)
        if self._size > MAX_BODY:
            raise _TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        url = self._url
        if url[:1] == b"/" and url.find(b"#") == -1:  # find: ``in`` raises inside
            path, _, query = url.partition(b"?")
        else:  # absolute form (through a proxy) or a fragment: let the parser split it
            parsed = httptools.parse_url(url)
            path, query = parsed.path or b"/", parsed.query or b""
        body = self._body
        raw_method = self.parser.get_method()
        request = WireRequest(
            _METHODS.get(raw_method) or raw_method.decode("ascii"),
            path.decode("latin-1"),
            query.decode("latin-1"),
            self._headers,
            body[0] if len(body) == 1 else b"".join(body),
            self._repeated,
        )
        self._url, self._headers, self._body, self._size = b"", {}, [], 0
        self._repeated = None
        self._head_bytes = 0
        self._pending.append((request, self.parser.should_keep_alive()))
        if len(self._pending) > MAX_PIPELINED and not self._paused and self.transport:
            self._paused = True
            if not self._write_paused:  # else already stopped until the client reads
                self.transport.pause_reading()

    # ---- answering ----

    def _answer_pending(self) -> None:
        """Answer queued requests in order until one has to wait."""
        pending = self._pending
        while pending and not self._busy and not self._write_paused:
            transport = self.transport
            if transport is None or transport.is_closing():
                pending.clear()
                return
            request, keep_alive = pending.popleft()
            try:
                answer = self._answer(request)
            except Exception as error:  # the app never raises: a bug
                self._write(request, _server_error(error, request), keep_alive=False)
                return
            if isinstance(answer, WireResponse):  # answered without waiting
                self._write(request, answer, keep_alive)
                continue
            coroutine = answer
            try:
                waiting_on = coroutine.send(None)
            except StopIteration as done:
                self._write(request, done.value, keep_alive)
                continue
            except Exception as error:  # the app never raises: a bug
                self._write(request, _server_error(error, request), keep_alive=False)
                return
            self._busy = True
            task = self.loop.create_task(_resume(coroutine, waiting_on))
            tasks = self.server_state.tasks
            tasks.add(task)  # type: ignore[arg-type]  # graceful shutdown waits for it
            task.add_done_callback(tasks.discard)
            task.add_done_callback(functools.partial(self._finished, request, keep_alive))
        if self._paused and self.transport is not None and not pending:
            self._paused = False
            if not self._write_paused:
                self.transport.resume_reading()

    def _finished(
        self, request: WireRequest, keep_alive: bool, task: asyncio.Task[WireResponse]
    ) -> None:
        self._busy = False
        self._last_active = self.loop.time()
        if task.cancelled():
            if self.transport is not None:
                self.transport.close()
            return
        error = task.exception()
        if error is not None:
            self._write(request, _server_error(error, request), keep_alive=False)
            return
        self._write(request, task.result(), keep_alive)
        if self._pending:
            self._answer_pending()

    def _write(self, request: WireRequest, response: WireResponse, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        try:
            head = _head(response, keep_alive and not self._closing, self.server_state)
        except (ValueError, UnicodeEncodeError) as error:
            response, keep_alive = _server_error(error, request), False
            head = _head(response, False, self.server_state)
        if request.method == "HEAD":
            transport.write(head)
        else:
            transport.write(head + response.body)
        if not keep_alive or self._closing:
            self._pending.clear()
            transport.close()

    def _bad_request(self) -> None:
        self._refuse(_text_response(400, "Invalid HTTP request received."))

    def _refuse(self, response: WireResponse) -> None:
        """Answer ``response`` to a request that could not be read, and close."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(_head(response, False, self.server_state) + response.body)
            transport.close()


def _text_response(status: int, text: str) -> WireResponse:
    """A plain-text answer to a request that could not be read."""
    return WireResponse(status, text.encode(), content_type="text/plain; charset=utf-8")


class _TooLarge(Exception):
    """A request body over ``MAX_BODY``."""


def _head(response: WireResponse, keep_alive: bool, server_state: ServerState) -> bytes:
    """The status line and headers of ``response``; ``ValueError`` for a line break."""
    lines = [f"content-type: {response.content_type}"]
    with_length = False
    for name, value in response.headers:
        # A response may state its own length: S3's HEAD object answers the object's size.
        if not with_length and len(name) == 14 and name.lower() == "content-length":
            with_length = True
        lines.append(f"{name}: {value}")
    # A header value holding a line break would let a stored value inject headers. Looked
    # for before the lines are joined with breaks: ``in`` finds a character with memchr,
    # where counting the breaks of the joined head went through every character twice.
    fields = "".join(lines)
    if "\n" in fields or "\r" in fields:
        raise ValueError("a response header holds a line break")
    if not with_length:
        lines.append(f"content-length: {len(response.body)}")
    status = _STATUS_LINES.get(response.status) or f"HTTP/1.1 {response.status} \r\n"
    defaults = _default_headers(server_state.default_headers)
    close = "" if keep_alive else "connection: close\r\n"
    head = "\r\n".join(lines)
    return f"{status}{head}\r\n{defaults}{close}\r\n".encode("latin-1")


_rendered_defaults: tuple[object, str] = (None, "")


def _default_headers(headers: list[tuple[bytes, bytes]]) -> str:
    """uvicorn's default headers (the Date, replaced every second) as header lines."""
    global _rendered_defaults
    source, text = _rendered_defaults
    if source is not headers:
        text = "".join(f"{n.decode('latin-1')}: {v.decode('latin-1')}\r\n" for n, v in headers)
        _rendered_defaults = (headers, text)
    return text


def _server_error(error: BaseException, request: WireRequest) -> WireResponse:
    """The answer to a request the app failed on, logged as ``server_fault`` logs it: the
    code in the body (awsJson) and in ``x-amzn-ErrorType`` (restJson), as no protocol is
    known once the app has failed."""
    fault = server_fault(error, f"{request.method} {request.raw_path}")
    response = json_error(
        fault, namespace=None, content_type="application/json", request_id=request_id()
    )
    response.headers.append(("x-amzn-ErrorType", fault.code))
    return response


@types.coroutine
def _resume(
    coroutine: Coroutine[Any, Any, WireResponse], waiting_on: Any
) -> Generator[Any, Any, WireResponse]:
    """The rest of ``coroutine``, which has run up to awaiting ``waiting_on``: a task
    drives this as it would have driven ``coroutine`` from its start."""
    while True:
        try:
            try:
                sent = yield waiting_on
            except BaseException as error:  # cancelled, or the awaited future failed
                waiting_on = coroutine.throw(error)
            else:
                waiting_on = coroutine.send(sent)
        except StopIteration as done:
            result: WireResponse = done.value
            return result
