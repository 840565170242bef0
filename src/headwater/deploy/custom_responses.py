"""Where custom resources' functions send their answers: CloudFormation's ``ResponseURL``.

On AWS the ResponseURL is a presigned S3 URL the function PUTs its JSON answer to (with
``cfnresponse``, ``cfn-response``, or CDK's provider framework). headwater gives each
request a URL of its own under ``/_headwater/cloudformation/responses/<token>``:

- under ``headwater serve``, on the server's endpoint (the request passes the server's
  host and browser checks; it is unsigned, as a presigned PUT carries no header
  signature, so the token alone admits it);
- in an embedded headwater (no server), on a listener of its own on 127.0.0.1 started the
  first time a custom resource needs it, answering that path only.

A token is 32 random bytes (URL-safe), expected by exactly one waiting request and
accepted once: a second PUT, or one to a token nobody waits for, is refused.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

#: The path a response URL's token follows.
RESPONSE_PREFIX = "/_headwater/cloudformation/responses/"
#: Largest answer accepted: AWS refuses responses over 4096 bytes, yet CDK's framework
#: sends more when Data is large; keep a generous bound so a runaway body is not held.
MAX_RESPONSE = 1024 * 1024


@dataclass(slots=True)
class _Expected:
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None


class CustomResponses:
    """Tokens waiting for a function's answer, and the answers that arrived."""

    def __init__(
        self, *, served_url: Callable[[], str | None], closing: Callable[[], bool]
    ) -> None:
        #: The base URL of ``headwater serve`` when one serves this headwater, else None.
        self._served_url = served_url
        #: True once headwater closes: waits end then instead of holding the close.
        self._closing = closing
        self._lock = threading.Lock()
        self._expected: dict[str, _Expected] = {}
        self._listener: ThreadingHTTPServer | None = None

    def expect(self) -> tuple[str, str]:
        """A new (token, response URL) pair; ``wait(token, ...)`` then waits for its answer."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expected[token] = _Expected()
        return token, f"{self._base_url()}{RESPONSE_PREFIX}{token}"

    def wait(self, token: str, timeout: float) -> bytes | None:
        """The body PUT to ``token``'s URL, or None after ``timeout`` seconds (real time) or
        once headwater closes. The token is spent either way."""
        with self._lock:
            expected = self._expected.get(token)
        if expected is None:
            return None
        try:
            remaining = timeout
            while remaining > 0 and not self._closing():
                step = min(remaining, 0.5)
                if expected.done.wait(step):
                    return expected.body
                remaining -= step
            return expected.body if expected.done.is_set() else None
        finally:
            with self._lock:
                self._expected.pop(token, None)

    def deliver(self, token: str, body: bytes) -> bool:
        """Hand ``body`` to the request waiting on ``token``; False if none waits (unknown,
        expired, or already answered: a token is good for one answer)."""
        with self._lock:
            expected = self._expected.get(token)
            if expected is None or expected.done.is_set():
                return False
            expected.body = body
            expected.done.set()
        return True

    def answer_put(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(status, body) for a PUT to ``path`` (a path under ``RESPONSE_PREFIX``): 200 as
        S3 answers a presigned PUT, 403 for a token that is not (or no longer) waited for."""
        token = path[len(RESPONSE_PREFIX) :].split("?", 1)[0]
        if len(body) > MAX_RESPONSE:
            return 400, _error("EntityTooLarge", "Your proposed upload exceeds the maximum size")
        if not token or not self.deliver(token, body):
            return 403, access_denied()
        return 200, b""

    def close(self) -> None:
        """Stop the embedded listener, if one was started."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown()
            listener.server_close()

    def _base_url(self) -> str:
        served = self._served_url()
        if served is not None:
            return served.rstrip("/")
        with self._lock:
            if self._listener is None:
                self._listener = _start_listener(self)
            host, port = self._listener.server_address[:2]
        return f"http://{host!s}:{port}"


def access_denied() -> bytes:
    """S3's AccessDenied error body (what a bad presigned URL gets)."""
    return _error("AccessDenied", "Access Denied")


def _error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()


def _start_listener(responses: CustomResponses) -> ThreadingHTTPServer:
    """A loopback HTTP server answering PUTs under ``RESPONSE_PREFIX`` (embedded headwater)."""

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if not self.path.startswith(RESPONSE_PREFIX) or length > MAX_RESPONSE:
                self._reply(403, access_denied())
                return
            status, body = responses.answer_put(self.path, self.rfile.read(length))
            self._reply(status, body)

        def do_GET(self) -> None:
            self._reply(403, access_denied())

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args  # the server's access log is not wanted on stderr

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="cfn-responses").start()
    return server


def parse_response(body: bytes) -> dict[str, Any] | None:
    """A function's answer as a mapping, or None when it is not a JSON object."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
