"""Memory limits of execution environments.

Lambda meters an environment's resident memory (RSS: its REPORT line's *Max Memory Used*)
and kills it when that passes ``MemorySize``. headwater enforces it three ways:

1. **A kernel bound** (Linux): every environment process starts with ``RLIMIT_DATA`` =
   ``MemorySize + DATA_HEADROOM_MB``. The data limit counts private writable memory (heap,
   anonymous mappings, thread stacks) but not reserved-only address space, so runtimes
   that reserve gigabytes (V8, glibc arenas) start normally, and an allocation past the
   limit fails at once (Python: ``MemoryError``; Node: a fatal out-of-memory abort).
   **The bound:** an environment's RSS never exceeds ``MemorySize + DATA_HEADROOM_MB``
   plus the file-backed pages of its binaries (about 10 MB for Python, 40 MB for Node),
   however fast it allocates. (The first wave measured 414 MB under ``MemorySize`` 128.)
2. **The exact limit, checked after every invocation** by the Python worker (its peak RSS,
   ``VmHWM``): above ``MemorySize`` it answers out of memory and exits, so the environment
   is replaced, as Lambda does.
3. **While an invocation runs**, the pool's housekeeping thread reads each busy
   environment's RSS every ``RSS_POLL_INTERVAL`` seconds and kills one above
   ``MemorySize``: a handler that grows past the limit (but within the headroom of rule
   1) and keeps running is stopped within one interval.

An environment killed or failed for memory is reported as ``Runtime.OutOfMemory``, with
the highest RSS seen (its own report, or the polls) as REPORT's *Max Memory Used*. One that
dies between two polls (a runtime at the data limit can fail and exit within a few ms) is
known by its last words: on this machine the data limit is the only thing that refuses an
allocation, so a runtime that exits saying it could not allocate hit it
(``says_out_of_memory``).
"""

from __future__ import annotations

import os
import re

MIB = 1024 * 1024

#: Seconds between RSS polls of busy workers.
RSS_POLL_INTERVAL = 0.05

#: Error type and message Lambda reports when an environment runs out of memory.
OUT_OF_MEMORY_ERROR = "Runtime.OutOfMemory"

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


#: Private writable memory an environment may have beyond its memory size (rule 1): room
#: for thread stacks (8 MB of data each) and the runtime's own baseline (Node: ~48 MB).
DATA_HEADROOM_MB = 64


def data_limit_bytes(memory_size_mb: int) -> int:
    """``RLIMIT_DATA`` of an environment with this memory size (rule 1)."""
    return (memory_size_mb + DATA_HEADROOM_MB) * MIB


def current_rss_mb(pid: int) -> float | None:
    """Current resident set size of process ``pid`` in MB, or ``None`` if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            fields = statm.read().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE_SIZE / MIB


def is_over_limit(rss_mb: float | None, memory_size_mb: int) -> bool:
    """Whether an RSS reading breaks the function's memory size."""
    return rss_mb is not None and rss_mb > memory_size_mb


def peak_rss_mb(pid: int) -> int | None:
    """Peak resident set size (``VmHWM``) of a live process in MB, or ``None``."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            data = status.read()
    except OSError:
        return None
    start = data.find(b"VmHWM:")
    if start < 0:
        return None
    return int(data[start + 6 : data.find(b"kB", start)]) // 1024


#: What runtimes print when an allocation fails and they die of it: V8 ("JavaScript heap out
#: of memory", "Allocation failed"), bash ("xmalloc: cannot allocate"), Go ("runtime: out of
#: memory"), C++ (``std::bad_alloc``), Rust ("memory allocation of N bytes failed"), Java
#: (``OutOfMemoryError``), Python (``MemoryError``).
_OUT_OF_MEMORY_WORDS = re.compile(
    r"out of memory|cannot allocate|allocation failed|memory allocation of \d+ bytes failed"
    r"|std::bad_alloc|OutOfMemoryError|MemoryError",
    re.IGNORECASE,
)


def says_out_of_memory(log_text: str) -> bool:
    """Whether a dead environment's last output says an allocation failed."""
    return _OUT_OF_MEMORY_WORDS.search(log_text[-16384:]) is not None
