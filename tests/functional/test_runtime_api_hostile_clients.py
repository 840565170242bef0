"""The Lambda Runtime API listener attacked as a hostile local client would, over real
sockets: request smuggling shapes, a request head that never ends, a body over the limit
that never ends. Each gets a clear status and closes; the handler never sees the request."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from headwater.runtime import api_server
from headwater.runtime.api_server import Exchange, runtime_api_host
from tests.hostile_http import SMUGGLING, read_until_closed, statuses


@pytest.fixture
def runtime_api() -> Iterator[tuple[int, list[bytes]]]:
    """A Runtime API listener whose handler answers 202 and records the bodies it gets."""
    bodies: list[bytes] = []

    def handler(exchange: Exchange) -> None:
        bodies.append(exchange.request.body)
        exchange.respond_json(202, {"status": "OK"})

    host = runtime_api_host()
    listener = host.listen(handler)
    try:
        yield listener.port, bodies
    finally:
        host.close_listener(listener)


def test_the_runtime_api_refuses_a_head_that_never_ends_with_431(
    runtime_api: tuple[int, list[bytes]],
) -> None:
    port, bodies = runtime_api
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ")
        with pytest.raises(OSError):
            for _ in range(100):
                sock.sendall(b"a" * 1_000_000)
        assert statuses(read_until_closed(sock)) == [431]
    assert bodies == []


def test_the_runtime_api_refuses_a_body_over_the_limit_before_it_ends(
    runtime_api: tuple[int, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_server, "MAX_BODY", 100_000)
    port, bodies = runtime_api
    head = b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        with pytest.raises(OSError):
            for _ in range(1000):  # a body that never ends
                sock.sendall(b"2710\r\n" + b"a" * 10_000 + b"\r\n")
        assert statuses(read_until_closed(sock)) == [413]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        answer = read_until_closed(sock)
        assert statuses(answer) == [202]
    assert bodies == [b"{}"]


def test_the_runtime_api_refuses_smuggling_shapes_with_400(
    runtime_api: tuple[int, list[bytes]],
) -> None:
    port, bodies = runtime_api
    head = b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for headers in SMUGGLING.values():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head + headers + b"\r\n\r\n0\r\n\r\n" + head + b"\r\n")
            answer = read_until_closed(sock)
            assert statuses(answer) == [400], headers
    assert bodies == []
