"""Whose process is at the other end of a loopback connection, asked of Linux's netlink
socket diagnostics or read from ``/proc/net/tcp`` and ``/proc/net/tcp6`` (each test runs
both ways) with real sockets: IPv4, IPv6, a dual-stack listener's IPv4-mapped client,
another user's process, a closed peer, a remote one."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from headwater import peer_owner
from headwater.peer_owner import loopback_peer_owner, other_user_of
from tests.other_user_client import (
    NOBODY_UID,
    SYSTEM_PYTHON,
    as_nobody,
    needs_root,
)

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="socket owners are read from Linux's /proc/net/tcp"
)


@pytest.fixture(autouse=True, params=["netlink", "tables"])
def lookup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How owners are found: netlink, or the tables where netlink is refused (sandboxes)."""
    if request.param == "tables":
        monkeypatch.setattr(peer_owner, "_diag_lookup", lambda *address: peer_owner._UNAVAILABLE)
    return str(request.param)


class Accepted:
    """An accepted connection as asyncio shows it to a protocol (``get_extra_info``)."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def get_extra_info(self, name: str) -> Any:
        if name == "sockname":
            return self.connection.getsockname()
        if name == "peername":
            return self.connection.getpeername()
        return None


@contextmanager
def listening(family: socket.AddressFamily, host: str) -> Iterator[socket.socket]:
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind((host, 0))
        listener.listen(4)
        yield listener


@contextmanager
def connected(listener: socket.socket, host: str) -> Iterator[socket.socket]:
    """Our end of a connection made to ``listener`` at ``host`` by this process."""
    port = listener.getsockname()[1]
    with socket.create_connection((host, port), timeout=5):
        accepted, _ = listener.accept()
        with accepted:
            yield accepted


#: (listener family, address it is bound to, address the client connects from): a
#: dual-stack listener sees an IPv4 client as ::ffff:127.0.0.1 (its socket is IPv4); the
#: last is an IPv6 client socket connecting to an IPv4 listener through a mapped address.
ADDRESS_CASES = pytest.mark.parametrize(
    ("family", "bound", "client"),
    [
        (socket.AF_INET, "127.0.0.1", "127.0.0.1"),
        (socket.AF_INET6, "::1", "::1"),
        (socket.AF_INET6, "::", "127.0.0.1"),
        (socket.AF_INET, "127.0.0.1", "::ffff:127.0.0.1"),
    ],
    ids=["ipv4", "ipv6", "ipv4-mapped", "ipv6-client-of-ipv4"],
)


@ADDRESS_CASES
def test_own_connection_is_ours_and_not_another_users(
    family: socket.AddressFamily, bound: str, client: str
) -> None:
    with listening(family, bound) as listener, connected(listener, client) as accepted:
        if client == "127.0.0.1" and family == socket.AF_INET6:
            assert accepted.getpeername()[0] == "::ffff:127.0.0.1"
        owner = loopback_peer_owner(accepted.getsockname(), accepted.getpeername())
        assert owner == os.getuid()
        assert other_user_of(Accepted(accepted)) is None


def test_closed_peer_has_no_owner() -> None:
    """A peer socket gone from the table: nothing left to protect, nothing refused."""
    with listening(socket.AF_INET, "127.0.0.1") as listener:
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        accepted, _ = listener.accept()
        with accepted:
            peer = accepted.getpeername()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # linger 0: a reset, the socket leaves the table at once
            assert loopback_peer_owner(accepted.getsockname(), peer) is None


def test_remote_and_odd_addresses_are_not_looked_up() -> None:
    assert loopback_peer_owner(("10.0.0.5", 4599), ("10.0.0.9", 50000)) is None
    assert loopback_peer_owner(("::", 4599, 0, 0), ("2001:db8::1", 50000, 0, 0)) is None
    assert loopback_peer_owner("/tmp/socket", "") is None  # a Unix socket
    assert loopback_peer_owner(None, None) is None


@needs_root
@ADDRESS_CASES
def test_another_users_process_is_found(
    family: socket.AddressFamily, bound: str, client: str
) -> None:
    with listening(family, bound) as listener:
        port = listener.getsockname()[1]
        # nobody connects and waits for us to close
        process = subprocess.Popen(
            [
                str(SYSTEM_PYTHON),
                "-I",
                "-S",
                "-c",
                "import socket, sys; s = socket.create_connection((sys.argv[1], "
                "int(sys.argv[2])), timeout=20); s.recv(1)",
                client,
                str(port),
            ],
            cwd="/",
            env={"PATH": "/usr/bin:/bin"},
            **as_nobody(),
        )
        try:
            listener.settimeout(20)
            accepted, _ = listener.accept()
            with accepted:
                owner = loopback_peer_owner(accepted.getsockname(), accepted.getpeername())
                assert owner == NOBODY_UID
                assert other_user_of(Accepted(accepted)) == NOBODY_UID
        finally:
            assert process.wait(20) == 0


def test_netlink_finds_the_owner_without_reading_the_tables(
    lookup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables list every socket of the machine: read for each new connection, a
    client holding thousands open made each next one cost milliseconds of the loop."""
    if lookup == "tables":
        pytest.skip("netlink's own test")

    def no_tables(*args: object, **kwargs: object) -> None:
        raise AssertionError("/proc/net/tcp was read")

    monkeypatch.setattr(peer_owner, "open", no_tables, raising=False)
    with (
        listening(socket.AF_INET, "127.0.0.1") as listener,
        connected(listener, "127.0.0.1") as accepted,
    ):
        assert loopback_peer_owner(accepted.getsockname(), accepted.getpeername()) == os.getuid()
