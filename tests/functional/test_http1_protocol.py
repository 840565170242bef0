"""``headwater serve``'s HTTP/1.1 protocol over real sockets: keep-alive, pipelining,
``Expect: 100-continue``, HTTP/1.0, refusals of malformed and oversized requests, HEAD,
idle timeout and graceful shutdown, with the headwater app behind it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from uvicorn.server import ServerState

from headwater import Headwater
from headwater.api.http import WireRequest, WireResponse
from headwater.server import http1
from headwater.server.asgi import create_app
from headwater.server.http1 import Http1Protocol

SQS_JSON = "application/x-amz-json-1.0"
#: A SigV4 Authorization header's shape (signatures are not verified by default).
AUTHORIZATION = (
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261206/us-east-1/sqs/aws4_request,"
    " SignedHeaders=host;x-amz-date, Signature=" + "0" * 64 + "\r\nX-Amz-Date: 20261206T000000Z\r\n"
)


@dataclass
class Server:
    port: int
    loop: asyncio.AbstractEventLoop
    state: ServerState
    hw: Headwater
    #: the idle timeout of connections made from now on
    keep_alive: dict[str, float]

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock

    def on_loop(self, call: object) -> None:
        done = threading.Event()

        def run() -> None:
            call()  # type: ignore[operator]
            done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    hw = Headwater(tmp_path / "data")
    app = create_app(hw)
    loop = asyncio.new_event_loop()
    state = ServerState()
    keep_alive = {"s": 75.0}
    started = threading.Event()
    holder: dict[str, asyncio.AbstractServer] = {}

    async def start() -> None:
        holder["server"] = await loop.create_server(
            lambda: Http1Protocol(app, state, keep_alive_s=keep_alive["s"], loop=loop),
            "127.0.0.1",
            0,
        )
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    assert started.wait(5)
    port = holder["server"].sockets[0].getsockname()[1]
    server = Server(port, loop, state, hw, keep_alive)
    try:
        yield server
    finally:

        async def stop() -> None:  # on the loop's thread: asyncio servers are not thread-safe
            holder["server"].close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        hw.close()


def sqs_request(operation: str, body: dict[str, object], *, extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {SQS_JSON}\r\n"
        f"X-Amz-Target: AmazonSQS.{operation}\r\nContent-Length: {len(data)}\r\n"
        f"{AUTHORIZATION}{extra}\r\n"
    ).encode() + data


def health(extra: str = "", version: str = "1.1", method: str = "GET") -> bytes:
    return f"{method} /_headwater/health HTTP/{version}\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def read_response(
    sock: socket.socket, buffer: bytearray, *, to_head: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """One response from ``sock`` (``buffer`` keeps bytes read past it); ``to_head``: the
    response to a HEAD request, which has no body whatever its length says."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {bytes(buffer)!r}")
        buffer.extend(chunk)
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[: len(head) + 4]
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if status in (100, 204, 304) or to_head:
        length = 0
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        buffer.extend(chunk)
    body = bytes(buffer[:length])
    del buffer[:length]
    return status, headers, body


def closed_by_server(sock: socket.socket, deadline_s: float = 5.0) -> bool:
    sock.settimeout(deadline_s)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, ConnectionResetError):
        return False


def test_keep_alive_answers_several_requests_on_one_connection(server: Server) -> None:
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(sqs_request("CreateQueue", {"QueueName": "q"}))
        status, headers, body = read_response(sock, buffer)
        assert status == 200 and "QueueUrl" in json.loads(body)
        assert headers["content-type"] == SQS_JSON
        assert int(headers["content-length"]) == len(body)
        assert "connection" not in headers
        for _ in range(3):
            sock.sendall(health())
            status, _, body = read_response(sock, buffer)
            assert status == 200 and json.loads(body)["status"] == "ok"


def test_pipelined_requests_are_answered_in_order_behind_one_that_waits(
    server: Server,
) -> None:
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(sqs_request("CreateQueue", {"QueueName": "q"}))
        url = json.loads(read_response(sock, buffer)[2])["QueueUrl"]
        # A long poll (answered from a thread after 1 s), then a send, in one write: the
        # send must not overtake the poll, whose answer is therefore empty.
        started = time.monotonic()
        sock.sendall(
            sqs_request("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 1})
            + sqs_request("SendMessage", {"QueueUrl": url, "MessageBody": "after"})
            + health()
        )
        status, _, first = read_response(sock, buffer)
        assert status == 200 and json.loads(first).get("Messages", []) == []
        assert time.monotonic() - started >= 0.9
        status, _, second = read_response(sock, buffer)
        assert status == 200 and "MessageId" in json.loads(second)
        status, _, third = read_response(sock, buffer)
        assert status == 200 and json.loads(third)["status"] == "ok"
        sock.sendall(sqs_request("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 0}))
        messages = json.loads(read_response(sock, buffer)[2])["Messages"]
        assert [m["Body"] for m in messages] == ["after"]


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: Server) -> None:
    data = json.dumps({"QueueName": "continued"}).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {SQS_JSON}\r\n"
        f"X-Amz-Target: AmazonSQS.CreateQueue\r\nContent-Length: {len(data)}\r\n"
        f"{AUTHORIZATION}Expect: 100-continue\r\n\r\n"
    ).encode()
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(head)
        status, _, _ = read_response(sock, buffer)
        assert status == 100
        sock.sendall(data)
        status, _, body = read_response(sock, buffer)
        assert status == 200 and json.loads(body)["QueueUrl"].endswith("/continued")


def test_http_1_0_and_connection_close_get_one_answer_then_the_connection_closes(
    server: Server,
) -> None:
    for request in (health(version="1.0"), health("Connection: close\r\n")):
        with server.connect() as sock:
            buffer = bytearray()
            sock.sendall(request)
            status, headers, _ = read_response(sock, buffer)
            assert status == 200
            assert headers["connection"] == "close"
            assert closed_by_server(sock)


def test_a_malformed_request_gets_400_and_the_connection_closes(server: Server) -> None:
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
        status, headers, body = read_response(sock, buffer)
        assert status == 400 and body == b"Invalid HTTP request received."
        assert headers["connection"] == "close"
        assert closed_by_server(sock)


def test_a_body_over_the_limit_gets_413_and_nothing_runs(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http1, "MAX_BODY", 1000)
    with server.connect() as sock:
        buffer = bytearray()
        body = json.dumps({"QueueName": "big", "Attributes": {"Policy": "x" * 2000}})
        sock.sendall(sqs_request("CreateQueue", json.loads(body)))
        status, _, reply = read_response(sock, buffer)
        assert status == 413
        assert json.loads(reply)["__type"] == "RequestEntityTooLarge"
        assert closed_by_server(sock)
    assert server.hw.client("sqs").list_queues().get("QueueUrls", []) == []


def test_head_answers_the_length_without_a_body(server: Server) -> None:
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(health(method="HEAD") + health())
        status, headers, body = read_response(sock, buffer, to_head=True)
        assert status == 200 and body == b""
        assert int(headers["content-length"]) > 0
        # the next bytes are the second response, not the first one's body
        status, _, body = read_response(sock, buffer)
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert int(headers["content-length"]) == len(body)


def test_a_response_header_with_a_line_break_becomes_a_500(server: Server) -> None:
    class Transport:
        def __init__(self) -> None:
            self.written = b""
            self.closed = False

        def write(self, data: bytes) -> None:
            self.written += data

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

    protocol = Http1Protocol(create_app(server.hw), server.state, keep_alive_s=75, loop=server.loop)
    transport = Transport()
    protocol.transport = transport  # type: ignore[assignment]
    request = WireRequest("GET", "/", "", {}, b"")
    injected = WireResponse(200, b"", headers=[("x-amz-meta-a", "1\r\nset-cookie: x=1")])
    protocol._write(request, injected, keep_alive=True)
    assert transport.written.startswith(b"HTTP/1.1 500 ")
    assert b"set-cookie" not in transport.written
    assert b'"__type":"InternalFailure"' in transport.written
    assert transport.closed


def test_a_repeated_header_keeps_its_last_value_and_every_value_apart(server: Server) -> None:
    # the AWS protocols read one value; a function URL's or API's event carries them all
    protocol = Http1Protocol(create_app(server.hw), server.state, keep_alive_s=75, loop=server.loop)
    protocol.parser.feed_data(
        b"GET /p HTTP/1.1\r\nHost: h\r\nX-Many: a\r\nCookie: c1=1\r\nx-many: b\r\n"
        b"Cookie: c2=2\r\nX-Many: c\r\n\r\n"
        b"GET /q HTTP/1.1\r\nHost: h\r\nX-One: 1\r\n\r\n"
    )
    first, second = (request for request, _ in protocol._pending)
    assert first.headers["x-many"] == "c" and first.headers["cookie"] == "c2=2"
    assert first.repeated_headers == {"x-many": ["a", "b", "c"], "cookie": ["c1=1", "c2=2"]}
    assert second.repeated_headers is None


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(server: Server) -> None:
    server.keep_alive["s"] = 0.3
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(health())
        assert read_response(sock, buffer)[0] == 200
        started = time.monotonic()
        assert closed_by_server(sock, deadline_s=5)
        assert time.monotonic() - started >= 0.2


def test_graceful_shutdown_closes_idle_connections_and_finishes_busy_ones(
    server: Server,
) -> None:
    with server.connect() as idle, server.connect() as busy:
        buffer = bytearray()
        busy.sendall(sqs_request("CreateQueue", {"QueueName": "q"}))
        url = json.loads(read_response(busy, buffer)[2])["QueueUrl"]
        idle.sendall(health())
        assert read_response(idle, bytearray())[0] == 200
        busy.sendall(sqs_request("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 1}))
        deadline = time.monotonic() + 5
        while not server.state.tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.state.tasks, "the long poll runs in a task"

        def shutdown() -> None:
            for connection in list(server.state.connections):
                connection.shutdown()  # type: ignore[union-attr]

        server.on_loop(shutdown)
        assert closed_by_server(idle, deadline_s=2)
        status, headers, _ = read_response(busy, buffer)
        assert status == 200 and headers["connection"] == "close"
        assert closed_by_server(busy)


def test_a_request_in_absolute_form_is_routed_by_its_path(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"GET http://127.0.0.1/_headwater/health?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        status, _, body = read_response(sock, bytearray())
        assert status == 200 and json.loads(body)["status"] == "ok"
