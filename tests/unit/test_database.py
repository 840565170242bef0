import sqlite3
import threading
from pathlib import Path

import pytest

from headwater.store.database import MemoryDatabase, SqliteDatabase


def test_sqlite_migrations_run_once_and_survive_reopen(tmp_path: Path) -> None:
    migrations = ["CREATE TABLE t (x INTEGER)", "ALTER TABLE t ADD COLUMN y TEXT"]
    db = SqliteDatabase(tmp_path)
    db.migrate("thing", migrations)
    with db.transaction():
        db.conn.execute("INSERT INTO t VALUES (1, 'a')")
    db.close()
    db = SqliteDatabase(tmp_path)
    db.migrate("thing", migrations)  # already applied: no error, data kept
    assert db.conn.execute("SELECT x, y FROM t").fetchall() == [(1, "a")]
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_sqlite_refuses_newer_schema(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path)
    db.migrate("thing", ["CREATE TABLE t (x)", "CREATE TABLE u (x)"])
    with pytest.raises(RuntimeError, match="newer"):
        db.migrate("thing", ["CREATE TABLE t (x)"])
    db.close()


def test_sqlite_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path, durability="full")
    db.migrate("thing", ["CREATE TABLE t (x INTEGER)"])
    with pytest.raises(ZeroDivisionError), db.transaction():
        db.conn.execute("INSERT INTO t VALUES (1)")
        with db.transaction():  # nested joins the outer transaction
            db.conn.execute("INSERT INTO t VALUES (2)")
        _ = 1 / 0
    assert db.conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db.close()


def _other_thread_can_write(db: SqliteDatabase) -> bool:
    """Whether another thread gets a transaction within 5 s (the lock was released)."""
    done = threading.Event()

    def write() -> None:
        with db.transaction():
            db.conn.execute("INSERT INTO t VALUES (99)")
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(timeout=5)
    return done.is_set()


def test_sqlite_transaction_commits_nested_work_and_always_releases_its_lock(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path)
    db.migrate("thing", ["CREATE TABLE t (x INTEGER)"])
    with db.transaction():
        db.conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(KeyError), db.transaction():  # caught inside the outer one
            db.conn.execute("INSERT INTO t VALUES (2)")
            raise KeyError("inner")
        with db.transaction():
            db.conn.execute("INSERT INTO t VALUES (3)")
    with db.read():
        rows = sorted(r[0] for r in db.conn.execute("SELECT x FROM t"))
    assert rows == [1, 2, 3]  # a nested block joins the outer transaction, as before
    with pytest.raises(ValueError), db.transaction():
        db.conn.execute("INSERT INTO t VALUES (4)")
        raise ValueError("outer")
    assert not db.conn.in_transaction
    assert _other_thread_can_write(db)
    # BEGIN itself failing (another process holds the write lock): the lock is released
    # and the next transaction starts clean.
    other = sqlite3.connect(str(db.path), isolation_level=None, timeout=0.05)
    other.execute("BEGIN IMMEDIATE")
    db.conn.execute("PRAGMA busy_timeout=50")
    with pytest.raises(sqlite3.OperationalError), db.transaction():
        pass
    other.execute("ROLLBACK")
    other.close()
    assert _other_thread_can_write(db)
    with db.transaction():
        db.conn.execute("INSERT INTO t VALUES (5)")
    with db.read():
        rows = sorted(r[0] for r in db.conn.execute("SELECT x FROM t"))
    assert rows == [1, 2, 3, 5, 99, 99]
    db.close()


def test_memory_database_has_a_scratch_dir_removed_on_close() -> None:
    db = MemoryDatabase()
    assert db.data_dir.is_dir()
    with db.transaction():
        pass
    db.close()
    assert not db.data_dir.exists()
