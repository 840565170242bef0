"""``headwater serve``'s HTTP/1.1 protocol attacked as a hostile local client would, over
real sockets: request smuggling shapes, endless and huge request heads, a slowloris client,
bodies over the limit, pipelined requests whose answers are never read. Each time the
server must answer or close with a clear status, run no request twice and no smuggled one,
hold bounded memory and keep answering other clients."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvloop
from uvicorn.server import ServerState

from headwater import Headwater
from headwater.server import http1
from headwater.server.asgi import create_app
from headwater.server.http1 import Http1Protocol
from tests.hostile_http import SMUGGLING, read_until_closed, statuses

HEALTH = b"GET /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#: The deadline for a request head in these tests: long enough for a loaded machine to
#: send a head in one write, short enough to wait for.
HEAD_DEADLINE_S = 0.5


@dataclass
class Server:
    port: int
    loop: asyncio.AbstractEventLoop
    state: ServerState
    hw: Headwater

    def connect(self, **options: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        for option, value in options.items():
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, option), value)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", self.port))
        return sock

    def write_buffered(self) -> int:
        """Bytes of answers the server holds for its connections' clients."""
        sizes: list[int] = []
        done = threading.Event()

        def measure() -> None:
            for connection in list(self.state.connections):
                transport = connection.transport  # type: ignore[attr-defined]
                if transport is not None and not transport.is_closing():
                    sizes.append(transport.get_write_buffer_size())
            done.set()

        self.loop.call_soon_threadsafe(measure)
        assert done.wait(5)
        return sum(sizes)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """headwater's app behind ``Http1Protocol`` on uvloop, as ``headwater serve`` runs it."""
    hw = Headwater(tmp_path / "data")
    app = create_app(hw)
    loop = uvloop.new_event_loop()
    state = ServerState()
    holder: dict[str, asyncio.AbstractServer] = {}

    async def start() -> None:
        holder["server"] = await loop.create_server(
            lambda: Http1Protocol(
                app, state, keep_alive_s=75.0, loop=loop, head_deadline_s=HEAD_DEADLINE_S
            ),
            "127.0.0.1",
            0,
        )

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield Server(port, loop, state, hw)
    finally:

        async def stop() -> None:
            holder["server"].close()
            for connection in list(state.connections):
                connection.transport.close()  # type: ignore[attr-defined]

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        hw.close()


def exchange(sock: socket.socket, data: bytes, deadline_s: float = 5.0) -> bytes:
    """What the server answers to ``data`` until it closes the connection."""
    sock.sendall(data)
    return read_until_closed(sock, deadline_s)


def still_answers(port: int) -> bool:
    """Whether another client is answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as other:
        other.sendall(HEALTH)
        return other.recv(12) == b"HTTP/1.1 200"


def create_queue(name: str) -> bytes:
    """An SQS CreateQueue request: what a smuggled request would run."""
    body = b'{"QueueName": "%s"}' % name.encode()
    return (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: AmazonSQS.CreateQueue\r\nContent-Length: %d\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261206/us-east-1/sqs/"
        b"aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\n"
        b"X-Amz-Date: 20261206T000000Z\r\n\r\n%s" % (len(body), b"0" * 64, body)
    )


def queue_names(hw: Headwater) -> list[str]:
    urls = hw.client("sqs").list_queues().get("QueueUrls", [])
    return sorted(url.rsplit("/", 1)[1] for url in urls)


# ---- request smuggling ----


@pytest.mark.parametrize("headers", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_an_ambiguous_body_length_gets_400_and_the_request_behind_it_never_runs(
    server: Server, headers: bytes
) -> None:
    smuggled = create_queue("smuggled")
    head = b"POST /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n" % headers
    with server.connect() as sock:
        answer = exchange(sock, head + b"0\r\n\r\n" + smuggled)
    assert statuses(answer) == [400]
    assert queue_names(server.hw) == []


@pytest.mark.parametrize(
    "size", [b"FFFFFFFFFFFFFFFFFFFFF", b"-5", b"0x5", b"5 5"], ids=["huge", "neg", "0x", "2 sizes"]
)
def test_a_malformed_chunk_size_gets_400(server: Server, size: bytes) -> None:
    head = b"POST /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked"
    with server.connect() as sock:
        answer = exchange(sock, head + b"\r\n\r\n" + size + b"\r\nhello\r\n0\r\n\r\n")
    assert statuses(answer) == [400]


def test_bytes_past_a_content_length_are_the_next_request_and_run_once(server: Server) -> None:
    first = create_queue("first")
    extra = b"GET /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with server.connect() as sock:
        answer = exchange(sock, first + extra)
    assert statuses(answer) == [200, 200]
    assert queue_names(server.hw) == ["first"]


# ---- request heads ----


def test_a_head_that_never_ends_gets_431_and_others_are_still_answered(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sent = 0
        with pytest.raises(OSError):  # the server closes: a reset or a broken pipe
            for number in range(10_000):  # 10 MB of headers, never a blank line
                sock.sendall(b"X-Pad-%d: %s\r\n" % (number, b"a" * 1000))
                sent += 1
        assert sent < 5000  # what the kernel buffers before the reset arrives
    assert still_answers(server.port)


def test_one_header_value_that_never_ends_gets_431(server: Server) -> None:
    # llhttp buffers a value until its end: with no limit this copies the value on every
    # read (the loop stalls for seconds) and holds all of it
    with server.connect() as sock:
        sock.sendall(b"GET /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        started = time.monotonic()
        with pytest.raises(OSError):
            for _ in range(100):
                sock.sendall(b"a" * 1_000_000)
        assert time.monotonic() - started < 5
    assert still_answers(server.port)


def test_a_head_just_under_the_limit_is_answered(server: Server) -> None:
    padding = b"X-Pad: %s\r\n" % (b"a" * (http1.MAX_HEAD_BYTES - 200))
    with server.connect() as sock:
        sock.sendall(HEALTH[:-2] + padding + b"\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"


def test_a_slowloris_head_gets_408_after_the_head_deadline(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /_headwater/health HTTP/1.1\r\n")
        started = time.monotonic()
        sock.settimeout(0.1)
        answer = b""
        deadline = started + 10
        while not answer and time.monotonic() < deadline:
            try:
                sock.sendall(b"X")  # a byte at a time: each read is activity
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started >= HEAD_DEADLINE_S * 0.9


def test_a_keep_alive_connection_between_requests_is_not_given_the_head_deadline(
    server: Server,
) -> None:
    with server.connect() as sock:
        sock.sendall(HEALTH)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.settimeout(HEAD_DEADLINE_S * 3)
        with pytest.raises(TimeoutError):  # idle, not closed
            sock.recv(1)
        sock.sendall(HEALTH)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


# ---- bodies ----


def test_a_chunked_body_over_the_limit_gets_413_before_it_ends(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http1, "MAX_BODY", 100_000)
    head = create_queue("big").split(b"Content-Length")[0] + b"Transfer-Encoding: chunked\r\n\r\n"
    with server.connect() as sock:
        sock.sendall(head)
        with pytest.raises(OSError):
            for _ in range(1000):  # a body that never ends
                sock.sendall(b"2710\r\n" + b"a" * 10_000 + b"\r\n")
        answer = read_until_closed(sock)
    assert statuses(answer) == [413]
    assert queue_names(server.hw) == []


# ---- pipelining ----


def test_pipelined_requests_whose_answers_are_not_read_stop_being_read(server: Server) -> None:
    requests = 60_000
    with server.connect(SO_RCVBUF=16_384) as sock:
        sender = threading.Thread(target=sock.sendall, args=(HEALTH * requests,), daemon=True)
        sender.start()
        # the server's kernel buffers fill, then its transport's: it stops reading
        largest = 0
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            largest = max(largest, server.write_buffered())
            time.sleep(0.05)  # polling with a deadline
        assert largest < 1_000_000
        assert still_answers(server.port)
        # every request is answered once, in order, when the client reads
        received = bytearray()
        sock.settimeout(30)
        while received.count(b"HTTP/1.1 200") < requests:
            chunk = sock.recv(1 << 20)
            assert chunk, "closed before every request was answered"
            received += chunk
        sender.join(5)
        assert received.count(b"HTTP/1.1 ") == requests
