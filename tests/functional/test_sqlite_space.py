"""The SQLite file gives space back: incremental auto-vacuum, on new and existing files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from headwater import Headwater, ManualClock
from headwater.store import sqlite_space
from headwater.store.database import DATABASE_FILE, SqliteDatabase

BODY = "x" * 4000


def auto_vacuum(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])


def test_a_new_file_is_incremental(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path).close()
    assert auto_vacuum(tmp_path / DATABASE_FILE) == sqlite_space.INCREMENTAL


def test_an_existing_file_is_converted_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE kept (v TEXT)")
        conn.executemany("INSERT INTO kept VALUES (?)", [(str(i),) for i in range(1000)])
    conn.close()
    assert auto_vacuum(path) == 0
    db = SqliteDatabase(tmp_path)
    try:
        with db.read():
            assert db.conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 1000
    finally:
        db.close()
    assert auto_vacuum(path) == sqlite_space.INCREMENTAL


def test_the_file_shrinks_after_a_queue_is_drained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_space, "RECLAIM_INTERVAL_SECONDS", 0.0)
    path = tmp_path / DATABASE_FILE
    with Headwater(data_dir=tmp_path, clock=ManualClock()) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for _ in range(500):  # 5,000 messages of 4 kB: about 20 MB
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": BODY} for i in range(10)],
            )
        hw.database.checkpoint()
        full = path.stat().st_size
        assert full > 20_000_000
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        sqs.send_message(QueueUrl=url, MessageBody="one more commit")
        hw.database.checkpoint()
        drained = path.stat().st_size
        free = hw.database.conn.execute("PRAGMA freelist_count").fetchone()[0]
    # Periodic steps gave the pages back as the queue drained, not only at the end.
    assert drained < full / 4, (full, drained)
    assert free < sqlite_space.RECLAIM_THRESHOLD_PAGES + sqlite_space.RECLAIM_STEP_PAGES
