"""How a dead environment's last output classifies its death (``limits.says_out_of_memory``)."""

from __future__ import annotations

import pytest

from headwater.runtime.limits import says_out_of_memory

#: Last words of real runtimes refused an allocation by the data limit (captured here).
DIED_OF_MEMORY = [
    "FATAL ERROR: Committing semi space failed. Allocation failed - JavaScript heap out of memory",
    "/var/task/bootstrap: xrealloc: cannot allocate 200933376 bytes",
    "fatal error: runtime: out of memory",
    "terminate called after throwing an instance of 'std::bad_alloc'",
    "memory allocation of 1073741824 bytes failed",
    'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
    "MemoryError",
]


@pytest.mark.parametrize("words", DIED_OF_MEMORY)
def test_allocation_failures_read_as_out_of_memory(words: str) -> None:
    assert says_out_of_memory("START RequestId: 1\nsome output\n" + words + "\n")


@pytest.mark.parametrize(
    "words",
    ["", "exit status 3", "Traceback ... KeyError: 'memory'", "allocated 12 MB for the cache"],
)
def test_other_deaths_do_not(words: str) -> None:
    assert not says_out_of_memory(words)


def test_only_the_tail_counts() -> None:
    old = "JavaScript heap out of memory\n" + "x" * 20_000
    assert not says_out_of_memory(old)
