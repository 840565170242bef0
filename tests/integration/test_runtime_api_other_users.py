"""An execution environment's Runtime API listener on a machine shared with other users: a
process of another user (``nobody``) connecting to it has every request refused with why,
and its requests never reach the environment; this user's processes are answered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from headwater.runtime.api_server import Exchange, Listener, runtime_api_host
from tests.other_user_client import NOBODY_UID, needs_root, responses, send_as

pytestmark = [pytest.mark.integration, needs_root]

NEXT = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"


@pytest.fixture
def listener() -> Iterator[tuple[Listener, list[str]]]:
    """A Runtime API listener on 127.0.0.1 whose handler notes each request it is given."""
    reached: list[str] = []

    def handler(exchange: Exchange) -> None:
        reached.append(exchange.request.path)
        exchange.respond_json(200, {"answered": exchange.request.path})

    host = runtime_api_host()
    opened = host.listen(handler)
    try:
        yield opened, reached
    finally:
        host.close_listener(opened)


def test_another_users_process_is_refused(listener: tuple[Listener, list[str]]) -> None:
    opened, reached = listener
    request = NEXT.format(port=opened.port)
    received = send_as(
        NOBODY_UID,
        "127.0.0.1",
        opened.port,
        (request + "\r\n" + request + "Connection: close\r\n\r\n").encode(),
    )
    answers = responses(received)
    assert [status for status, _, _ in answers] == [403, 403]
    refusal = json.loads(answers[0][2])
    assert refusal["errorType"] == "Forbidden"
    assert "user 'nobody' (uid 65534)" in refusal["errorMessage"]
    assert reached == []


def test_this_users_process_is_answered(listener: tuple[Listener, list[str]]) -> None:
    opened, reached = listener
    request = NEXT.format(port=opened.port) + "Connection: close\r\n\r\n"
    answers = responses(send_as(None, "127.0.0.1", opened.port, request.encode()))
    assert [status for status, _, _ in answers] == [200]
    assert reached == ["/2018-06-01/runtime/invocation/next"]
