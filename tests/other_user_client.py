"""Send raw HTTP from a process of another user (``nobody``), as another user of a shared
machine would: for the tests of who may call ``headwater serve`` and the Runtime API.

The tests run as root (here and in CI); only root can start a process as another user, so
the tests using this skip otherwise (``needs_root``). The client runs the system's
``/usr/bin/python3`` in isolated mode with ``-c``: nobody may not read the project's files,
the virtualenv or a pyenv interpreter under ``/root``. It sends the bytes it is given (the
test signs them, where it needs to, with botocore) and writes back all it receives until
the server closes the connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: The interpreter nobody can run (others under /root are not reachable).
SYSTEM_PYTHON = Path("/usr/bin/python3")
NOBODY_UID = 65534
NOBODY_GID = 65534

needs_root = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
    reason="needs root on Linux and /usr/bin/python3: the test connects from a process "
    "of another user (nobody), which only root can start, and the owner of a socket is "
    "read from Linux's /proc/net/tcp",
)

_CLIENT = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
request = sys.stdin.buffer.read()
with socket.create_connection((host, port), timeout=20) as connection:
    connection.sendall(request)
    received = []
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received.append(chunk)
sys.stdout.buffer.write(b"".join(received))
"""


def as_nobody() -> dict[str, Any]:
    """``subprocess`` arguments that start the child as ``nobody``, with no other group."""
    return {"user": NOBODY_UID, "group": NOBODY_GID, "extra_groups": []}


def run_as(uid: int | None, command: list[str], stdin: bytes = b"") -> bytes:
    """The output of ``command`` run by ``nobody`` (``uid`` ``NOBODY_UID``) or by this
    process's user (``None``), in ``/`` with a bare environment; it must succeed."""
    assert uid in (None, NOBODY_UID)
    completed = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        **as_nobody() if uid is not None else {},
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    output: bytes = completed.stdout
    return output


def send_as(uid: int | None, host: str, port: int, request: bytes) -> bytes:
    """What ``host:port`` answers to ``request`` (raw HTTP whose last request says
    ``Connection: close``) sent from a process of ``nobody`` (``uid`` ``NOBODY_UID``) or of
    this process's user (``None``)."""
    return run_as(uid, [str(SYSTEM_PYTHON), "-I", "-S", "-c", _CLIENT, host, str(port)], request)


def responses(received: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP/1.1 responses in ``received`` (each with a Content-Length): status,
    headers (lower-case names), body."""
    answers = []
    rest = received
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        answers.append((int(lines[0].split(" ")[1]), headers, rest[:length]))
        rest = rest[length:]
    return answers
