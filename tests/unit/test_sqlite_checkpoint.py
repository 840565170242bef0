"""WAL checkpoints on their own thread (``WalCheckpointer``), not in the writer's commit."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from headwater.store import sqlite_checkpoint
from headwater.store.database import SqliteDatabase
from headwater.store.sqlite_checkpoint import BACKSTOP_AUTOCHECKPOINT_PAGES, checkpoint_pass


def wal_writer(tmp_path: Path) -> tuple[str, sqlite3.Connection]:
    """A database in WAL mode with a table ``t``, and its writer, whose own automatic
    checkpoints are off (the passes under test do them)."""
    path = str(tmp_path / "file.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x BLOB)")
    return path, writer


class CountingLock:
    """The writers' lock, counting how often the checkpoint pass took it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.taken = 0

    def acquire(self, timeout: float = -1) -> bool:
        taken = self.lock.acquire(timeout=timeout)
        self.taken += taken
        return taken

    def release(self) -> None:
        self.lock.release()


def test_writer_keeps_only_a_backstop_checkpoint_and_the_thread_stops_on_close(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path)
    thread = db._checkpointer._thread
    assert thread.is_alive()
    autocheckpoint = db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert autocheckpoint == BACKSTOP_AUTOCHECKPOINT_PAGES
    db.migrate("thing", ["CREATE TABLE t (x INTEGER)"])
    with db.transaction():
        db.conn.execute("INSERT INTO t VALUES (1)")
    db.close()
    assert not thread.is_alive()
    # The thread's connection closed first: the writer's close was the last one, which
    # checkpoints everything and removes the WAL, as before.
    assert not (tmp_path / "headwater.sqlite3-wal").exists()
    reopened = SqliteDatabase(tmp_path)
    assert reopened.conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    reopened.close()


def test_a_pass_takes_the_write_lock_only_past_reset_pages_then_the_wal_rewinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoint, "RESET_PAGES", 100)
    path, writer = wal_writer(tmp_path)
    checkpointer = sqlite3.connect(path, isolation_level=None)

    def write(rows: int) -> None:
        for _ in range(rows):  # one commit each, at least one WAL page each
            writer.execute("INSERT INTO t VALUES (randomblob(3000))")

    def wal_pages() -> int:
        return int(writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])

    lock = CountingLock()
    write(20)
    assert not checkpoint_pass(checkpointer, lock)
    assert lock.taken == 0
    write(150)
    assert checkpoint_pass(checkpointer, lock)
    assert lock.taken == 1
    write(1)
    assert wal_pages() <= 3  # started over instead of growing past 170 pages
    assert writer.execute("SELECT count(*) FROM t").fetchone()[0] == 171
    checkpointer.close()
    writer.close()


def test_a_pass_held_off_by_the_write_lock_gives_up_its_locked_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the database while holding the lock joins the thread: its pass must not wait
    for that lock for ever."""
    monkeypatch.setattr(sqlite_checkpoint, "RESET_PAGES", 10)
    monkeypatch.setattr(sqlite_checkpoint, "LOCK_WAIT_SECONDS", 0.05)
    path, writer = wal_writer(tmp_path)
    for _ in range(20):
        writer.execute("INSERT INTO t VALUES (randomblob(3000))")
    checkpointer = sqlite3.connect(path, isolation_level=None)
    lock = CountingLock()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with lock.lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    assert not checkpoint_pass(checkpointer, lock)  # returned instead of waiting
    assert lock.taken == 0
    release.set()
    holder.join()
    checkpointer.close()
    writer.close()
