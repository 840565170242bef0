"""The TTL sweeper: deletes expired items as DynamoDB itself (a service deletion).

An item expires when its TTL attribute is a Number of epoch seconds at or before the
clock's time (items more than five years past are left alone, as on AWS). AWS deletes
within a few days; here within one sweep interval of clock time. With a ``ManualClock``
the sweep runs when the test advances time, so tests need no waiting. The sweep also
trims change records past the 24-hour stream retention.
"""

from __future__ import annotations

import logging
import threading

from headwater.core.clock import Clock
from headwater.services.dynamodb.schema import TableSchema
from headwater.services.dynamodb.tables import TTL_HORIZON_SECONDS, ttl_expiry
from headwater.services.dynamodb.writes import DEFINITION_ATTEMPTS, DefinitionsMoved, ItemWriter

log = logging.getLogger(__name__)

#: Expired items deleted per table per transaction.
SWEEP_BATCH = 100
#: Shortest real pause between sweeps, whatever the time scale.
MIN_REAL_PAUSE = 0.2


class TtlSweeper:
    """Runs ``sweep`` when a ManualClock moves, or every ``interval`` of clock time."""

    def __init__(self, writer: ItemWriter, clock: Clock, interval: float) -> None:
        self.writer = writer
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._unsubscribe = clock.subscribe(self._on_clock)

    def _on_clock(self) -> None:
        try:
            self.sweep()
        except Exception:  # pragma: no cover - a failed sweep is retried next time
            log.exception("DynamoDB TTL sweep failed")

    def ensure_running(self) -> None:
        """Start the real-time loop (a no-op for a ManualClock, which drives sweeps)."""
        if self.clock.real_delay(self.interval) is None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="headwater-dynamodb-ttl", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._on_clock()
            delay = self.clock.real_delay(self.interval) or self.interval
            self._stop.wait(max(MIN_REAL_PAUSE, delay))

    def sweep(self) -> int:
        """Delete every expired item now; returns how many were deleted."""
        now = self.clock.now()
        deleted = 0
        for _ in range(DEFINITION_ATTEMPTS):
            swept, finished = self._sweep_tables(now)
            deleted += swept
            if finished:
                break
        self.writer.feed.trim(now)
        return deleted

    def _sweep_tables(self, now: float) -> tuple[int, bool]:
        """``(deleted, finished)``: the expired items of every table deleted, or not
        ``finished`` when a table's definition moved under the sweep (another process
        changed it; that batch rolled back): the tables are then read again."""
        store = self.writer.store
        deleted = 0
        with store.db.read():
            tables = [TableSchema.from_row(row) for row in store.all_tables()]
        for table in tables:
            if table.ttl_attribute is None:
                continue
            while True:
                streams = []
                try:
                    with store.db.transaction():
                        expired = store.expired_items(
                            table.id, now - TTL_HORIZON_SECONDS, now, SWEEP_BATCH
                        )
                        for row in expired:
                            old = self.writer.read(table, row.key)
                            expires = ttl_expiry(old or {}, table.ttl_attribute)
                            if expires is None or expires > now:
                                continue
                            outcome = self.writer.write(
                                table, row.key, lambda _old: None, by_service=True
                            )
                            streams.append(outcome.stream_arn)
                except DefinitionsMoved:
                    return deleted, False
                deleted += len(streams)
                self.writer.feed.notify(streams)
                if len(expired) < SWEEP_BATCH:
                    break
        return deleted, True

    def close(self) -> None:
        self._stop.set()
        self._unsubscribe()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
