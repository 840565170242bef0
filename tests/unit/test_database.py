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


def test_memory_database_has_a_scratch_dir_removed_on_close() -> None:
    db = MemoryDatabase()
    assert db.data_dir.is_dir()
    with db.transaction():
        pass
    db.close()
    assert not db.data_dir.exists()
