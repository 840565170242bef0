"""Acknowledged puts survive the process being killed (SQLite, WAL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from headwater import Headwater

WRITER = textwrap.dedent(
    """
    import sys
    from headwater import Headwater

    hw = Headwater(data_dir=sys.argv[1])
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=2)
    for batch in range(20):
        out = k.put_records(
            StreamName="s",
            Records=[{"Data": b"%d-%d" % (batch, i), "PartitionKey": str(i)} for i in range(50)],
        )
        for record in out["Records"]:
            print(record["ShardId"], record["SequenceNumber"], flush=True)
    print("done", flush=True)
    sys.stdin.read()  # wait to be killed, never closing the database
    """
)


def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    acknowledged: list[tuple[str, str]] = []
    for line in process.stdout:
        if line.strip() == "done":
            break
        shard, sequence = line.split()
        acknowledged.append((shard, sequence))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    if process.stdin is not None:
        process.stdin.close()
    assert len(acknowledged) == 1000
    with Headwater(data_dir=data_dir) as hw:
        k = hw.client("kinesis")
        found: list[tuple[str, str]] = []
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            it = k.get_shard_iterator(
                StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
            records = k.get_records(ShardIterator=it["ShardIterator"])["Records"]
            found += [(shard, r["SequenceNumber"]) for r in records]
        assert sorted(found) == sorted(acknowledged)
