"""What the hostile-client tests of both HTTP servers share: raw-socket reads and the
request-smuggling header shapes."""

from __future__ import annotations

import re
import socket

#: Headers that make a request's body length ambiguous (a proxy and the server could
#: disagree where the next request starts).
SMUGGLING = {
    "content-length and transfer-encoding": b"Content-Length: 5\r\nTransfer-Encoding: chunked",
    "two content-lengths that differ": b"Content-Length: 0\r\nContent-Length: 5",
    "chunked, identity": b"Transfer-Encoding: chunked, identity",
    "chunked then identity": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    "space before the colon": b"Transfer-Encoding : chunked",
    "obs-fold continuation": b"X-Pad: a\r\n Transfer-Encoding: chunked",
}


def read_until_closed(sock: socket.socket, deadline_s: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = bytearray()
    sock.settimeout(deadline_s)
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return bytes(received)


def statuses(answer: bytes) -> list[int]:
    """The statuses of the answers in ``answer`` (whose bodies hold no status lines)."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
