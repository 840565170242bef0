"""Identifiers: UUIDs, request ids."""

from __future__ import annotations

import itertools
import os
import random

# Message ids, request ids and mapping UUIDs must be unique, not secret. A generator seeded
# from the OS once per process avoids one getrandom() syscall per id, which was ~8% of the
# server's CPU on SendMessageBatch (10 ids per call). getrandbits() runs under the GIL, so
# it is safe from any thread; workers are started with exec (never forked), so no two
# processes share a seed.
_random = random.Random(os.urandom(32))
_VERSION_4 = (0x4 << 76) | (0x2 << 62)
_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)


def new_uuid() -> str:
    """A random UUID4 string (message ids, mapping UUIDs, request ids)."""
    h = f"{(_random.getrandbits(128) & _CLEAR) | _VERSION_4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: Request ids: this process's random UUID4 prefix and a counter in the last group, unique
#: in the process (2**48 ids) and, by the prefix, across processes. Every API call makes
#: one, and a counter costs a third of a fresh UUID.
_REQUEST_PREFIX = new_uuid()[:24]
_request_counter = itertools.count(_random.getrandbits(47))


def request_id() -> str:
    """An AWS-style request id (a UUID4 string, unique but not random)."""
    return f"{_REQUEST_PREFIX}{next(_request_counter) & 0xFFFF_FFFF_FFFF:012x}"
