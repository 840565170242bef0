"""Memory limits of execution environments.

Choice: **resident set size (RSS)**, measured three ways, plus an address-space backstop.

1. After every invocation the worker reads its peak RSS (``VmHWM`` in
   ``/proc/self/status``, one ``pread``) and reports it as *Max Memory Used*; above the
   function's ``MemorySize`` the worker answers with an out-of-memory result and exits, so
   the environment is replaced, as Lambda does. This check is deterministic.
2. While an invocation runs, the pool's housekeeping thread polls the worker's current
   RSS (``/proc/<pid>/statm``) every ``RSS_POLL_INTERVAL`` seconds and kills a worker
   that is above its limit (a handler that grows and keeps running).
3. ``RLIMIT_AS`` is set in the worker to ``address_space_limit(memory)``: far above the
   memory size (virtual memory counts thread stacks and malloc arenas, so an RSS-sized
   address-space limit would fail legitimate code), it only stops runaway allocations
   from taking the machine down before the poll sees them. A ``MemoryError`` raised by it
   is reported as out of memory too.

RSS is what Lambda meters (its REPORT line's *Max Memory Used*), which is why it is the
limit here rather than the address space.
"""

from __future__ import annotations

import os

MIB = 1024 * 1024

#: Seconds between RSS polls of busy workers.
RSS_POLL_INTERVAL = 0.05

#: Error type and message Lambda reports when an environment runs out of memory.
OUT_OF_MEMORY_ERROR = "Runtime.OutOfMemory"

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def address_space_limit(memory_size_mb: int) -> int:
    """Bytes of virtual address space a worker may map (the backstop of rule 3)."""
    return max(2 * memory_size_mb, memory_size_mb + 4096) * MIB


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
