"""``headwater serve`` SIGKILLed while a handler sits in a long C call: no process of the
server survives it (the first wave saw a worker run on 20 s after the server died)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import boto_client, headwater_server, zip_of
from tests.integration.killed_midway import alive, descendants

pytestmark = pytest.mark.integration

STUCK = """
import time

def handler(event, context):
    time.sleep(120)  # one long C call: no Python code runs to notice the server is gone
"""


def test_sigkill_of_the_server_leaves_no_process_alive(tmp_path: Path) -> None:
    with headwater_server(tmp_path) as server:
        lambda_ = boto_client(server.endpoint, "lambda")
        lambda_.create_function(
            FunctionName="stuck",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="app.handler",
            Code={"ZipFile": zip_of(STUCK)},
            Timeout=300,
        )
        slow = boto_client(server.endpoint, "lambda")
        caller = threading.Thread(
            target=_invoke_until_killed,
            args=(slow,),
            daemon=True,
        )
        caller.start()
        deadline = time.monotonic() + 30
        processes: set[int] = set()
        while time.monotonic() < deadline and not processes:
            processes = descendants(server.process.pid)
            time.sleep(0.05)
        assert processes, "no worker process started"
        time.sleep(0.5)  # the handler is now inside time.sleep(120)
        processes = descendants(server.process.pid)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        gone_by = time.monotonic() + 0.5
        while [pid for pid in processes if alive(pid)] and time.monotonic() < gone_by:
            time.sleep(0.005)
        survivors = [pid for pid in processes if alive(pid)]
        for pid in survivors:  # don't leak them when the assertion fails
            os.kill(pid, signal.SIGKILL)
        assert not survivors, f"processes of the server alive after its SIGKILL: {survivors}"


def _invoke_until_killed(client: Any) -> None:
    with contextlib.suppress(Exception):  # the server is killed under this call
        client.invoke(FunctionName="stuck")
