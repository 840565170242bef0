"""Which services a headwater makes inside a database transaction (a deadlock's recipe).

A service is made holding the application's lock, and making one may write to the
database (its schema). Code that looks a service up for the first time while it holds the
database's write lock could therefore wait forever for a thread that holds the
application's lock and waits for the database: deliveries made inside a write's
transaction (S3 notifications, EventBridge targets, Logs subscriptions) make the services
they use before the transaction opens. ``services_made_in_transactions`` lists the ones
a test's block made inside one anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from headwater import Headwater


@contextmanager
def services_made_in_transactions(hw: Headwater) -> Iterator[list[str]]:
    """The names of the services ``hw`` makes, during the block, with a database
    transaction open (``hw`` on SQLite)."""
    made: list[str] = []
    lookup = hw.env.lookup
    assert lookup is not None
    database: Any = hw.database

    def watched(name: str) -> Any:
        # the database's lock is this thread's and a transaction is open
        if hw.existing_service(name) is None and database._depth and database.lock._is_owned():
            made.append(name)
        return lookup(name)

    hw.env.lookup = watched
    try:
        yield made
    finally:
        hw.env.lookup = lookup
