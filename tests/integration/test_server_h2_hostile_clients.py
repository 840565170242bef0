"""``headwater serve``'s HTTP/2 (h2c with prior knowledge, uvicorn's zttp protocol) attacked
as a hostile local client would, over real sockets to a real server: garbage after the
preface, a header block that never ends (CONTINUATION flood), an HPACK bomb, a stream
reset flood, more streams than allowed at once. Each gets a GOAWAY or refused streams, and
the server keeps answering other clients. Frames are written by hand (no HTTP/2 client
library is a dependency): the attacks are malformed on purpose anyway."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conformance.server_process import ServerProcess, headwater_server

pytestmark = pytest.mark.integration

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, CONTINUATION = 0, 1, 3, 4, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4
ENHANCE_YOUR_CALM = 11


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    head = struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream)
    return head + payload


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """An HPACK integer (RFC 7541 §5.1) in a byte whose high bits are ``first``."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name_index: int, value: bytes) -> bytes:
    """A header of a static-table name with a literal value, not indexed."""
    return hpack_int(name_index, 4) + hpack_int(len(value), 7) + value


def literal_new(name: bytes, value: bytes, *, indexed: bool = False) -> bytes:
    """A header with a literal name; ``indexed``: added to the dynamic table."""
    start = hpack_int(0, 6, 0x40) if indexed else hpack_int(0, 4)
    return start + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


#: GET /_headwater/health over http, for 127.0.0.1 (static table: 2 GET, 6 http, 4 :path).
HEALTH_BLOCK = b"\x82\x86" + literal(4, b"/_headwater/health") + literal(1, b"127.0.0.1")


def headers(
    stream: int, block: bytes = HEALTH_BLOCK, flags: int = END_STREAM | END_HEADERS
) -> bytes:
    return frame(HEADERS, flags, stream, block)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0, b""))
    return sock


#: Frames read: (type, flags, stream, payload).
Frames = list[tuple[int, int, int, bytes]]


def read_frames(
    sock: socket.socket, until: Callable[[Frames], bool] | None = None, deadline_s: float = 5.0
) -> Frames:
    """The frames the server sends until a GOAWAY, ``until`` them,
    the connection's end, or ``deadline_s`` of quiet."""
    received = bytearray()
    sock.settimeout(deadline_s)
    try:
        while chunk := sock.recv(1 << 20):
            received += chunk
            frames = _parse(bytes(received))
            if goaway_code(frames) is not None or (until is not None and until(frames)):
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return _parse(bytes(received))


def _parse(data: bytes) -> Frames:
    frames: Frames = []
    at = 0
    while at + 9 <= len(data):
        length = int.from_bytes(data[at : at + 3], "big")
        stream = int.from_bytes(data[at + 5 : at + 9], "big") & 0x7FFFFFFF
        frames.append((data[at + 3], data[at + 4], stream, data[at + 9 : at + 9 + length]))
        at += 9 + length
    return frames


def goaway_code(frames: Frames) -> int | None:
    codes = [int.from_bytes(body[4:8], "big") for kind, _, _, body in frames if kind == GOAWAY]
    return codes[0] if codes else None


def answers_health(port: int) -> bool:
    """Whether a new HTTP/2 connection gets its health request answered."""
    with connect(port) as sock:
        sock.sendall(headers(1))
        frames = read_frames(sock, until=_answered_on_stream_1)
    return _answered_on_stream_1(frames)


def _ended(frames: Frames) -> set[int]:
    """Streams refused, or answered to their end."""
    return {
        stream
        for kind, flags, stream, _ in frames
        if kind == RST_STREAM or (kind in (HEADERS, DATA) and flags & END_STREAM)
    }


def _answered_on_stream_1(frames: Frames) -> bool:
    return 1 in _ended(frames)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("h2")
    with headwater_server(tmp) as running:
        yield running


def port_of(server: ServerProcess) -> int:
    return int(server.endpoint.rsplit(":", 1)[1])


def test_an_h2c_health_request_is_answered(server: ServerProcess) -> None:
    assert answers_health(port_of(server))


def test_garbage_after_the_preface_gets_a_goaway(server: ServerProcess) -> None:
    port = port_of(server)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(PREFACE + b"GARBAGE" * 100)
        assert goaway_code(read_frames(sock)) is not None
    assert answers_health(port)


def test_a_header_block_that_never_ends_gets_enhance_your_calm(server: ServerProcess) -> None:
    port = port_of(server)
    with connect(port) as sock:
        sock.sendall(headers(1, flags=END_STREAM))  # no END_HEADERS: CONTINUATION follows
        sent = 0
        with pytest.raises(OSError):
            for number in range(20_000):  # 80 MB of headers
                pad = literal_new(b"x-pad-%d" % number, b"a" * 4000)
                sock.sendall(frame(CONTINUATION, 0, 1, pad))
                sent += 1
        assert sent < 5000
    assert answers_health(port)


def test_an_hpack_bomb_gets_enhance_your_calm(server: ServerProcess) -> None:
    port = port_of(server)
    with connect(port) as sock:
        # one 4 KB header in the dynamic table (index 62), then 12,000 one-byte references
        # to it: 12 KB on the wire, 48 MB of headers decoded
        bomb = literal_new(b"x-bomb", b"a" * 4000, indexed=True) + b"\xbe" * 12_000
        sock.sendall(headers(1, HEALTH_BLOCK + bomb))
        assert goaway_code(read_frames(sock)) == ENHANCE_YOUR_CALM
    assert answers_health(port)


def test_a_stream_reset_flood_gets_enhance_your_calm(server: ServerProcess) -> None:
    port = port_of(server)
    with connect(port) as sock:
        cancel = struct.pack(">I", 8)
        with pytest.raises(OSError):
            for number in range(20_000):
                stream = 2 * number + 1
                sock.sendall(headers(stream) + frame(RST_STREAM, 0, stream, cancel))
        assert goaway_code(read_frames(sock)) == ENHANCE_YOUR_CALM
    assert answers_health(port)


def test_streams_past_the_concurrency_limit_are_refused_and_the_rest_answered(
    server: ServerProcess,
) -> None:
    port = port_of(server)
    with connect(port) as sock:
        sock.sendall(b"".join(headers(2 * number + 1) for number in range(2000)))
        frames = read_frames(sock, until=lambda frames: len(_ended(frames)) == 2000)
    answered = {stream for kind, _, stream, _ in frames if kind == HEADERS}
    refused = {stream for kind, _, stream, _ in frames if kind == RST_STREAM}
    assert answered and not answered & refused
    assert _ended(frames) == answered | refused
    assert len(answered | refused) == 2000
    assert answers_health(port)
