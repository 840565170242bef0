"""WAL checkpoints off the writer's thread: ``WalCheckpointer``.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000
pages: that writer copies the pages into the database file and waits for two fsyncs,
with the process's database lock held. Measured on the DynamoDB put benchmark, that
was a quarter of the wall time of a put. Here the main connection's automatic
checkpoint is moved far out of the way (a backstop only) and a daemon thread with its
own connection runs ``PRAGMA wal_checkpoint(PASSIVE)`` when the database has changed.
``sqlite3`` releases the GIL while the checkpoint runs, so it takes the other core and
writers carry on.

A PASSIVE checkpoint never waits for writers, so under a steady stream of commits it
always ends a little behind, and SQLite only starts the WAL over when a writer finds it
fully copied. Once the WAL holds ``RESET_PAGES``, the thread therefore copies the short
tail again with the process's write lock held (after an unlocked pass did the bulk of
it): the next transaction then rewinds the WAL instead of growing it.

Durability is unchanged: a checkpoint copies committed pages and syncs the database file
as the automatic one does (the thread's connection has the same ``synchronous``), and a
commit is durable in the WAL before any checkpoint sees it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: WAL pages after which the thread copies the tail under the write lock so the WAL
#: rewinds (16 MiB with 4 KiB pages; SQLite's own automatic checkpoint is at 1,000).
RESET_PAGES = 4000
#: The main connection's own automatic checkpoint, kept as a backstop should the thread
#: fall behind: far enough out that it never runs while the thread keeps up.
BACKSTOP_AUTOCHECKPOINT_PAGES = 4 * RESET_PAGES
#: Longest wait for the writers' lock before a pass gives up its locked step.
LOCK_WAIT_SECONDS = 1.0
#: Seconds between checks for new commits. Each pass that copies pages waits for two
#: fsyncs and costs their writeback (~0.5 ms of CPU): 20 passes a second was 20 us of
#: CPU per request on a DynamoDB PutItem over the wire, 10 a second is 7 us.
CHECK_INTERVAL_SECONDS = 0.1


class WalCheckpointer:
    """A daemon thread that checkpoints the WAL of the SQLite file at ``path``.

    ``write_lock`` is the lock the process's writers hold around their transactions;
    the thread holds it only for the short final pass that lets the WAL rewind.
    """

    def __init__(self, path: Path, write_lock: Any, synchronous: str) -> None:
        self._path = path
        self._write_lock = write_lock
        self._synchronous = synchronous
        self._stop = threading.Event()
        #: Held for each pass: a checkpoint asked for elsewhere (``pause``) waits for it
        #: instead of finding the WAL busy.
        self._pass_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="headwater-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    @staticmethod
    def configure_writer(conn: sqlite3.Connection) -> None:
        """Move the writer's automatic checkpoint out of the way (the backstop stays)."""
        conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_AUTOCHECKPOINT_PAGES}")

    def pause(self) -> threading.Lock:
        """The lock each pass holds: hold it to keep the thread's checkpoints out."""
        return self._pass_lock

    def close(self) -> None:
        """Stop the thread and close its connection (before the main connection closes,
        so that the last connection to close still checkpoints and removes the WAL)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(
                str(self._path), isolation_level=None, check_same_thread=False, timeout=0
            )
        except sqlite3.Error as exc:  # the writer's backstop checkpoint still runs
            log.warning("WAL checkpoint thread could not open the database: %s", exc)
            return
        try:
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            seen: object = None
            while not self._stop.wait(CHECK_INTERVAL_SECONDS):
                try:
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if version == seen:
                        continue
                    seen = version
                    with self._pass_lock:
                        checkpoint_pass(conn, self._write_lock)
                except sqlite3.Error as exc:  # busy or closing: the next pass tries again
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()


def checkpoint_pass(conn: sqlite3.Connection, write_lock: Any) -> bool:
    """One pass on ``conn`` (not the writers' connection): copy what the WAL holds; past
    ``RESET_PAGES``, copy the tail again with ``write_lock`` held so that the next
    transaction rewinds the WAL. Returns whether it took the lock."""
    if _passive_checkpoint(conn) < RESET_PAGES:
        return False
    # Bounded: a thread that closes the database while it holds the lock (inside a
    # transaction) waits for this one to stop; the next pass tries again.
    if not write_lock.acquire(timeout=LOCK_WAIT_SECONDS):
        return False
    try:
        _passive_checkpoint(conn)
    finally:
        write_lock.release()
    return True


def _passive_checkpoint(conn: sqlite3.Connection) -> int:
    """Run a PASSIVE checkpoint; returns the pages in the WAL (-1 when not in WAL mode)."""
    _busy, wal_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(wal_pages)
