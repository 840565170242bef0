"""Accepted asynchronous invocations survive a SIGKILL: a real process answers N Event
invokes of a slow function with 202 and is killed while most have not run; the next process
on the same data directory runs every one of them (at least once), under its own request id.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from headwater import Headwater

pytestmark = pytest.mark.integration

INVOCATIONS = 20

HANDLER = """
import os, time
def handle(event, context):
    time.sleep(0.3)  # slow: most invocations are still queued when the process dies
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{context.aws_request_id} {event['n']}\\n")
"""

#: Accepts the Event invokes, prints their request ids, then waits to be killed. It writes
#: to fd 1 itself: inline handlers running meanwhile hold ``sys.stdout`` (their log).
INVOKER = """
import os, sys, time
from headwater import Headwater
hw = Headwater(data_dir=sys.argv[1], functions="inline", esm_lease_ttl_seconds=2)
for n in range(int(sys.argv[2])):
    accepted = hw.lambda_.invoke(
        FunctionName="slow", InvocationType="Event", Payload=f'{{"n": {n}}}'.encode()
    )
    assert accepted["StatusCode"] == 202
    os.write(1, (accepted["ResponseMetadata"]["RequestId"] + "\\n").encode())
os.write(1, b"accepted\\n")
time.sleep(60)
"""


def ran(out: Path) -> dict[str, str]:
    """Request id -> payload number of every invocation that finished."""
    if not out.exists():
        return {}
    return dict(line.split() for line in out.read_text().splitlines() if line)


def test_accepted_event_invocations_survive_a_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    out = tmp_path / "ran"
    with Headwater(data_dir=data, functions="inline") as hw:
        hw.lambda_.create_function_from_directory(
            "slow", code, "app.handle", environment={"OUT": str(out)}
        )

    process = subprocess.Popen(
        [sys.executable, "-c", INVOKER, str(data), str(INVOCATIONS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    accepted: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for n in range(INVOCATIONS):
            accepted[process.stdout.readline().strip()] = str(n)
        assert process.stdout.readline().strip() == "accepted"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before_restart = ran(out)
    assert len(before_restart) < INVOCATIONS  # the kill came before the queue was done

    with Headwater(data_dir=data, functions="inline").start() as hw:
        # the killed process's running invocations come back when their leases expire (2 s)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not accepted.keys() <= ran(out).keys():
            time.sleep(0.05)
        lambda_service = hw.service("lambda")
        assert lambda_service.wait_for_event_invocations(10)
        finished = ran(out)
        assert {rid: finished.get(rid) for rid in accepted} == accepted
        assert lambda_service._event_queue().pending() == 0
