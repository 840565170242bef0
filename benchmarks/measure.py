"""What every benchmark measures with: CPU time from /proc, percentiles, ports, a no-op handler.

Imported by the benchmark scripts, which run as ``python benchmarks/<name>.py`` (so this
directory is on ``sys.path``).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

CLOCK_TICK = os.sysconf("SC_CLK_TCK")

#: A handler that does nothing; ``{"warm": seconds}`` holds its worker so others start.
NOOP_HANDLER = """
import time

def handler(event, context):
    if "warm" in event:  # benchmark set-up only: hold the worker so others start
        time.sleep(event["warm"])
    return None
"""


def _stat_fields(pid: int | str) -> list[str]:
    # Fields after "pid (comm)": [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime of ``pid`` (plus its waited-for children's when asked), from /proc."""
    fields = _stat_fields(pid)
    last = 15 if reaped_children else 13
    return sum(int(v) for v in fields[11:last]) / CLOCK_TICK


def tree_cpu_seconds() -> float:
    """CPU seconds of this process and its live children (e.g. function workers)."""
    total = time.process_time()
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
        except OSError:
            continue
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return total


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
