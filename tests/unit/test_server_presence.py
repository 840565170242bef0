"""``headwater serve`` tells when another server runs on the same data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from headwater.server.presence import Presence, RunningServer

HOLD = """
import sys, time
from pathlib import Path
from headwater.server.presence import Presence
mark = Presence(Path(sys.argv[1]), "http://127.0.0.1:1")
print("marked", flush=True)
time.sleep(60)
"""


def test_a_second_server_sees_the_first_until_it_stops(tmp_path: Path) -> None:
    first = Presence(tmp_path, "http://127.0.0.1:4599")
    assert first.others == []
    second = Presence(tmp_path, "http://127.0.0.1:4600")
    # one process here, so both carry this pid; the endpoint tells them apart
    assert [s.endpoint for s in second.others] == ["http://127.0.0.1:4599"]
    second.close()
    first.close()
    assert Presence(tmp_path, "http://127.0.0.1:4601").others == []


def test_a_killed_server_no_longer_counts(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "marked"
        running = Presence(tmp_path, "http://127.0.0.1:2")
        assert running.others == [RunningServer(process.pid, "http://127.0.0.1:1")]
        running.close()
    finally:
        process.kill()
        process.wait(timeout=10)
    assert Presence(tmp_path, "http://127.0.0.1:3").others == []
