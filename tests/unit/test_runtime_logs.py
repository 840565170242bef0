"""START/END/REPORT lines, log tails and the log store's retention."""

from __future__ import annotations

from pathlib import Path

from headwater.runtime import logs


def test_report_line() -> None:
    line = logs.report_line(
        "rid", duration_ms=12.344, memory_size=128, max_memory_used=40, init_duration_ms=101.5
    )
    assert line == (
        "REPORT RequestId: rid\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 40 MB\tInit Duration: 101.50 ms\t\n"
    )
    timeout = logs.report_line(
        "r", duration_ms=1000.2, memory_size=128, max_memory_used=1, status="timeout"
    )
    assert timeout.endswith(
        "Billed Duration: 1001 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\tStatus: timeout\t\n"
    )
    assert logs.billed_duration_ms(0.01) == 1
    # under a millisecond bills 1 ms; an out-of-memory end names its status and error type
    oom = logs.report_line(
        "r",
        duration_ms=0.05,
        memory_size=128,
        max_memory_used=129,
        status="error",
        error_type="Runtime.OutOfMemory",
    )
    assert oom == (
        "REPORT RequestId: r\tDuration: 0.05 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 129 MB\tStatus: error\tError Type: Runtime.OutOfMemory\t\n"
    )
    assert "Billed Duration: 1 ms" in logs.report_line(
        "r", duration_ms=1.0, memory_size=128, max_memory_used=1
    )
    assert "Billed Duration: 2 ms" in logs.report_line(
        "r", duration_ms=1.001, memory_size=128, max_memory_used=1
    )
    assert logs.start_line("r", "$LATEST") == "START RequestId: r Version: $LATEST\n"
    assert logs.end_line("r") == "END RequestId: r\n"


def test_tail_keeps_last_4kb_on_a_character_boundary() -> None:
    text = "a" * 5000 + "é" * 3000
    tail = logs.tail(text)
    assert len(tail.encode()) <= 4096
    assert text.endswith(tail)
    assert logs.tail("short") == "short"


def test_log_store_retention(tmp_path: Path) -> None:
    store = logs.LogStore(tmp_path, retention_bytes=4096)
    for i in range(100):
        store.append("fn", f"line {i:03d} " + "x" * 90 + "\n")
    text = store.read("fn")
    assert len(text.encode()) <= 4096
    assert text.endswith("line 099 " + "x" * 90 + "\n")
    assert "line 000" not in text
    assert logs.read_logs(tmp_path, "fn") == text
    store.delete("fn")
    assert store.read("fn") == ""
    store.close()
