"""PutRecords throughput through the Python API (``hw.client("kinesis")``) and the service.

Prints records/s and CPU time per 1,000 records for 500-record ``put_records`` calls on
SQLite (and memory), via the boto3-compatible client (botocore parameter validation on
and off) and via ``KinesisService.call`` directly, plus the parameter-validation share.

    .venv/bin/python benchmarks/kinesis_put.py [--records 200000] [--shards 4]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from botocore.validate import validate_parameters

from headwater import Headwater
from headwater.models import operation_model

BATCH = 500


def _batches(total: int, size: int) -> list[list[dict[str, Any]]]:
    payload = os.urandom(size)
    records = [{"Data": payload, "PartitionKey": f"key-{i}"} for i in range(BATCH)]
    return [records] * (total // BATCH)


def _measure(label: str, put: Callable[[list[dict[str, Any]]], Any], batches: list[Any]) -> float:
    put(batches[0])  # warm caches (routing, statements)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for batch in batches:
        put(batch)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    count = len(batches) * BATCH
    rate = count / wall
    print(f"  {label:<44} {rate:>10,.0f} records/s   {cpu / count * 1000:.4f} CPU-s/1k records")
    return rate


def _measure_reads(hw: Headwater, client: Any, name: str, shards: int) -> None:
    """Read back everything the API run wrote: GetRecords (10,000/call) and read_shard."""
    arn = f"arn:aws:kinesis:{hw.env.region}:{hw.env.account}:stream/{name}"
    for label, read_all in (
        ("GetRecords via the client (Limit 10,000)", _get_records_reader(client, name)),
        ("KinesisService.read_shard (limit 10,000)", _read_shard_reader(hw, arn)),
    ):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        count = sum(read_all(f"shardId-{i:012d}") for i in range(shards))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(
            f"  {label:<44} {count / wall:>10,.0f} records/s   "
            f"{cpu / count * 1000:.4f} CPU-s/1k records"
        )


def _get_records_reader(client: Any, name: str) -> Callable[[str], int]:
    def read_all(shard: str) -> int:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        count = 0
        while True:
            out = client.get_records(ShardIterator=iterator, Limit=10_000)
            count += len(out["Records"])
            if not out["Records"] or out["MillisBehindLatest"] == 0:
                return count
            iterator = out["NextShardIterator"]

    return read_all


def _read_shard_reader(hw: Headwater, arn: str) -> Callable[[str], int]:
    def read_all(shard: str) -> int:
        after = None
        count = 0
        while True:
            records, _ = hw.service("kinesis").read_shard(arn, shard, after, 10_000)
            if not records:
                return count
            count += len(records)
            after = records[-1].sequence_number

    return read_all


def run(store: str, total: int, shards: int, size: int) -> None:
    data_dir = tempfile.mkdtemp(prefix="hw-kinesis-bench-") if store == "sqlite" else None
    print(f"{store} store, {shards} shards, {size}-byte records, {total:,} records per run")
    batches = _batches(total, size)
    with Headwater(data_dir=data_dir) as hw:
        client = hw.client("kinesis")
        raw = hw.client("kinesis", validate=False)
        service = hw.service("kinesis")
        for name in ("api", "novalidate", "service"):
            client.create_stream(StreamName=name, ShardCount=shards)
        _measure(
            "hw.client('kinesis').put_records",
            lambda b: client.put_records(StreamName="api", Records=b),
            batches,
        )
        _measure(
            "hw.client('kinesis', validate=False)",
            lambda b: raw.put_records(StreamName="novalidate", Records=b),
            batches,
        )
        _measure(
            "KinesisService.call('PutRecords') (ceiling)",
            lambda b: service.call("PutRecords", {"StreamName": "service", "Records": b}),
            batches,
        )
        _measure_reads(hw, client, "api", shards)
        shape = operation_model("kinesis", "PutRecords").input_shape
        params = {"StreamName": "api", "Records": batches[0]}
        start = time.process_time()
        rounds = max(1, len(batches) // 4)
        for _ in range(rounds):
            validate_parameters(params, shape)
        per_call = (time.process_time() - start) / rounds
        print(f"  botocore validate_parameters per 500-record call: {per_call * 1000:.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--size", type=int, default=100, help="bytes of data per record")
    parser.add_argument("--store", choices=["sqlite", "memory", "both"], default="both")
    args = parser.parse_args()
    stores = ["sqlite", "memory"] if args.store == "both" else [args.store]
    for store in stores:
        run(store, args.records, args.shards, args.size)
    print("target (issue 8): >= 100,000 records/s PutRecords via the Python API on SQLite")


if __name__ == "__main__":
    main()
