"""A real headwater process on a data directory, SIGKILLed mid-processing: the crash half
of the at-least-once tests (SQS and stream mappings)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUNNER = """
import sys, time
from headwater import Headwater
hw = Headwater(data_dir=sys.argv[1]).start()
print("started", flush=True)
while True:
    time.sleep(1)
"""


def journal_lines(journal: Path) -> list[str]:
    """What the test handler wrote so far, one processed item per line."""
    return journal.read_text().split() if journal.exists() else []


def kill_midway(data: Path, journal: Path, at: int, deadline_s: float = 60) -> None:
    """Run headwater with its engine on ``data`` in a child process until ``journal`` has
    ``at`` lines, then SIGKILL its process group (workers die with it).

    Fails the test when the journal does not get there within ``deadline_s``.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(data)],
        stdout=subprocess.PIPE,
        start_new_session=True,  # its own process group: workers die with it
    )
    try:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if len(journal_lines(journal)) >= at:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the mapping never got going")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
