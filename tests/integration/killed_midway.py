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


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_midway(data: Path, journal: Path, at: int, deadline_s: float = 60) -> None:
    """Run headwater with its engine on ``data`` in a child process until ``journal`` has
    ``at`` lines, then SIGKILL that process alone, and check that its function workers
    died with it at once (they live in sessions of their own: only the kernel's
    parent-death signal reaches them).

    Fails the test when the journal does not get there within ``deadline_s``.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(data)], stdout=subprocess.PIPE, start_new_session=True
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if len(journal_lines(journal)) >= at:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the mapping never got going")
        workers = descendants(process.pid)
        assert workers, "no worker process to outlive the server"
    finally:
        process.kill()
        process.wait(timeout=10)
    gone_by = time.monotonic() + 0.3
    while [pid for pid in workers if alive(pid)] and time.monotonic() < gone_by:
        time.sleep(0.005)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:  # don't leak them when the assertion fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"processes of the server alive after its SIGKILL: {survivors}"
