"""The lean HTTP/1.1 server on real sockets: keep-alive, pipelining, 100-continue, chunked
bodies, HEAD, malformed requests, oversized bodies, graceful close."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from headwater.api.http import WireRequest, WireResponse
from headwater.server import asgi
from headwater.server.asgi import HeadwaterApp
from headwater.server.http import serve_forever

pytestmark = pytest.mark.integration


class EchoRouter:
    """Stands in for the protocol router: echoes what the server parsed."""

    def __init__(self) -> None:
        self.requests: list[WireRequest] = []

    async def handle(self, request: WireRequest) -> WireResponse:
        self.requests.append(request)
        if request.raw_path == "/slow":
            await asyncio.sleep(0.2)
        body = f"{request.method} {request.raw_path}?{request.query_string} {len(request.body)}"
        return WireResponse(200, body.encode(), "text/plain", [("x-test", "1")])


@pytest.fixture
def server() -> Iterator[tuple[int, EchoRouter]]:
    router = EchoRouter()
    app = HeadwaterApp(router)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listening = threading.Event()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(
            serve_forever(
                app, "127.0.0.1", port, stop=stop, on_listening=listening.set, grace_seconds=2
            ),
        ),
    )
    thread.start()
    assert listening.wait(5)
    try:
        yield port, router
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[bytes, dict[str, str], bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    buffer[:] = rest[length:]
    return lines[0].encode(), headers, rest[:length]


def test_keep_alive_and_pipelining_in_order(server: tuple[int, EchoRouter]) -> None:
    port, _ = server
    with _connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"
            b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        buffer = bytearray()
        bodies = [_read_response(sock, buffer)[2] for _ in range(3)]
        assert bodies == [b"GET /slow? 0", b"POST /a?x=1 3", b"GET /b? 0"]
        status, headers, _ = _read_response_after(
            sock, buffer, b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        assert status == b"HTTP/1.1 200 OK"
        assert headers["x-test"] == "1"
        assert headers["content-type"] == "text/plain"


def _read_response_after(
    sock: socket.socket, buffer: bytearray, request: bytes
) -> tuple[bytes, dict[str, str], bytes]:
    sock.sendall(request)
    return _read_response(sock, buffer)


def test_expect_continue_and_chunked_body(server: tuple[int, EchoRouter]) -> None:
    port, router = server
    with _connect(port) as sock:
        sock.sendall(
            b"PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        buffer = bytearray()
        assert _read_response(sock, buffer)[2] == b"PUT /up? 5"
        sock.sendall(
            b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
        )
        assert _read_response(sock, buffer)[2] == b"POST /c? 7"
        assert router.requests[-1].body == b"abcdefg"


def test_head_has_length_but_no_body(server: tuple[int, EchoRouter]) -> None:
    port, _ = server
    with _connect(port) as sock:
        sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"GET /y? 0"):
            data += sock.recv(4096)
        first, _, second = data.partition(b"\r\n\r\n")
        assert b"Content-Length: 10" in first
        assert second.startswith(b"HTTP/1.1 200 OK")


def test_malformed_request_gets_400_and_close(server: tuple[int, EchoRouter]) -> None:
    port, _ = server
    with _connect(port) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        data = sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 400")
        assert sock.recv(4096) == b""  # closed


def test_http10_and_connection_close(server: tuple[int, EchoRouter]) -> None:
    port, _ = server
    with _connect(port) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        assert b"Connection: close" in data
        assert data.endswith(b"GET /old? 0")


def test_oversized_body_is_413(
    server: tuple[int, EchoRouter], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, router = server
    monkeypatch.setattr("headwater.server.http.MAX_BODY", 10)
    with _connect(port) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)
        status, _, _ = _read_response(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 413")
    assert all(r.raw_path != "/big" for r in router.requests)
    assert asgi.MAX_BODY > 10  # only the server's copy was lowered


def test_graceful_close_finishes_request_in_progress() -> None:
    router = EchoRouter()
    app = HeadwaterApp(router)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listening = threading.Event()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(serve_forever(app, "127.0.0.1", port, stop=stop, on_listening=listening.set),),
    )
    thread.start()
    assert listening.wait(5)
    try:
        with _connect(port) as sock, _connect(port) as idle:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
            while not router.requests:
                threading.Event().wait(0.01)
            loop.call_soon_threadsafe(stop.set)
            _, headers, body = _read_response(sock, bytearray())
            assert body == b"GET /slow? 0"
            assert headers["connection"] == "close"
            assert idle.recv(10) == b""  # idle connections are closed at once
    finally:
        thread.join(10)
        loop.close()
