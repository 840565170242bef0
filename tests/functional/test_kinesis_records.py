"""PutRecord(s), GetShardIterator and GetRecords through hw.client("kinesis")."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.services.kinesis.shards import partition_key_hash, uniform_ranges

SHARD0 = "shardId-000000000000"
SHARD1 = "shardId-000000000001"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    err = caught.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def k(hw: Headwater) -> Any:
    client = hw.client("kinesis")
    client.create_stream(StreamName="s", ShardCount=2)
    return client


def iterator(k: Any, shard: str = SHARD0, kind: str = "TRIM_HORIZON", **extra: Any) -> str:
    return str(
        k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType=kind, **extra)[
            "ShardIterator"
        ]
    )


def read_all(k: Any, shard: str = SHARD0) -> list[dict[str, Any]]:
    return list(k.get_records(ShardIterator=iterator(k, shard))["Records"])


def test_put_record_routes_by_md5_and_reads_back(k: Any, clock: ManualClock) -> None:
    keys = [f"key-{i}" for i in range(40)]
    boundary = uniform_ranges(2)[1][0]
    for key in keys:
        out = k.put_record(StreamName="s", Data=key.encode(), PartitionKey=key)
        expected = SHARD1 if partition_key_hash(key) >= boundary else SHARD0
        assert out["ShardId"] == expected
        assert out["EncryptionType"] == "NONE" and len(out["SequenceNumber"]) == 56
    records = read_all(k, SHARD0) + read_all(k, SHARD1)
    assert sorted(r["PartitionKey"] for r in records) == sorted(keys)
    first = records[0]
    assert first["Data"] == first["PartitionKey"].encode()
    assert first["ApproximateArrivalTimestamp"] == dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_explicit_hash_key_boundaries(hw: Headwater, count: int) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="b", ShardCount=count)
    for index, (start, end) in enumerate(uniform_ranges(count)):
        for key in (start, end):
            out = k.put_record(StreamName="b", Data=b"", PartitionKey="x", ExplicitHashKey=str(key))
            assert out["ShardId"] == f"shardId-{index:012d}"


def test_sequence_numbers_strictly_increase_per_shard(k: Any) -> None:
    out = k.put_records(
        StreamName="s",
        Records=[{"Data": b"x", "PartitionKey": "same", "ExplicitHashKey": "1"} for _ in range(50)],
    )
    single = k.put_record(StreamName="s", Data=b"y", PartitionKey="p", ExplicitHashKey="1")
    numbers = [int(r["SequenceNumber"]) for r in out["Records"]] + [int(single["SequenceNumber"])]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    read = [int(r["SequenceNumber"]) for r in read_all(k, SHARD0)]
    assert read == numbers


def test_sequence_number_for_ordering(k: Any) -> None:
    first = k.put_record(StreamName="s", Data=b"1", PartitionKey="p", ExplicitHashKey="1")
    forced = str(int(first["SequenceNumber"]) + 1000)
    second = k.put_record(
        StreamName="s",
        Data=b"2",
        PartitionKey="p",
        ExplicitHashKey="1",
        SequenceNumberForOrdering=forced,
    )
    assert int(second["SequenceNumber"]) > int(forced)
    third = k.put_record(
        StreamName="s",
        Data=b"3",
        PartitionKey="p",
        ExplicitHashKey="1",
        SequenceNumberForOrdering=first["SequenceNumber"],
    )
    assert int(third["SequenceNumber"]) > int(second["SequenceNumber"])


def test_put_records_results_in_request_order(k: Any) -> None:
    entries = [{"Data": b"%d" % i, "PartitionKey": f"pk{i}"} for i in range(500)]
    out = k.put_records(StreamName="s", Records=entries)
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 500
    assert out["EncryptionType"] == "NONE"
    by_seq = {r["SequenceNumber"]: r for r in read_all(k, SHARD0) + read_all(k, SHARD1)}
    for entry, result in zip(entries, out["Records"], strict=True):
        assert by_seq[result["SequenceNumber"]]["Data"] == entry["Data"]


def test_put_validation_errors_store_nothing(hw: Headwater, k: Any) -> None:
    raw = hw.client("kinesis", validate=False)
    big = b"x" * (1024 * 1024)
    assert error_of(k.put_record, StreamName="s", Data=big, PartitionKey="k") == (
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048576 "
        "cap=1048576]' at 'data' failed to satisfy constraint: Member must have length less "
        "than or equal to 1048576",
    )
    k.put_record(StreamName="s", Data=big[:-1], PartitionKey="k", ExplicitHashKey="0")
    code, message = error_of(
        k.put_records,
        StreamName="s",
        Records=[{"Data": b"ok", "PartitionKey": "a"}, {"Data": big, "PartitionKey": "b"}],
    )
    assert code == "ValidationException" and "records.2.member.data" in message
    code, message = error_of(
        k.put_records,
        StreamName="s",
        Records=[{"Data": b"ok", "PartitionKey": "a", "ExplicitHashKey": str(2**128)}],
    )
    assert code == "InvalidArgumentException" and message.startswith("Invalid ExplicitHashKey.")
    # AWS's pattern is Java's \d: ASCII digits only, not Python's Unicode ones
    code, message = error_of(
        k.put_record, StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey="1\uff11"
    )
    assert code == "ValidationException" and "0|([1-9]\\d{0,38})" in message
    code, _ = error_of(
        raw.put_records, StreamName="s", Records=[{"Data": b"", "PartitionKey": "k"}] * 501
    )
    assert code == "ValidationException"
    code, _ = error_of(raw.put_records, StreamName="s", Records=[])
    assert code == "ValidationException"
    code, _ = error_of(raw.put_record, StreamName="s", Data=b"x", PartitionKey="k" * 257)
    assert code == "ValidationException"
    code, _ = error_of(raw.put_record, StreamName="s", Data=b"x")
    assert code == "ValidationException"
    code, _ = error_of(raw.put_record, StreamName="s", Data=12, PartitionKey="k")
    assert code == "SerializationException"
    code, _ = error_of(
        raw.put_records,
        StreamName="s",
        Records=[{"Data": b"y" * (1000 * 1024), "PartitionKey": "k"}] * 11,
    )
    assert code == "InvalidArgumentException"
    assert error_of(k.put_record, StreamName="nope", Data=b"x", PartitionKey="k")[0] == (
        "ResourceNotFoundException"
    )
    assert [len(r["Data"]) for r in read_all(k, SHARD0)] == [len(big) - 1]
    assert read_all(k, SHARD1) == []


def test_throughput_limit_reports_partial_failures(clock: ManualClock) -> None:
    with Headwater.in_memory(clock=clock, kinesis_enforce_throughput=True) as hw:
        k = hw.client("kinesis")
        k.create_stream(StreamName="s", ShardCount=1)
        k.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
        out = k.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
        assert out["FailedRecordCount"] == 0
        out = k.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 3)
        assert out["FailedRecordCount"] == 3
        assert out["Records"][0] == {
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream s under "
            "account 000000000000.",
        }
        code, _ = error_of(k.put_record, StreamName="s", Data=b"x", PartitionKey="k")
        assert code == "ProvisionedThroughputExceededException"
        clock.advance(1)
        out = k.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 3)
        assert out["FailedRecordCount"] == 0
        it = k.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")
        assert len(k.get_records(ShardIterator=it["ShardIterator"])["Records"]) == 1003
        for _ in range(4):  # five GetRecords per shard and second
            k.get_records(ShardIterator=it["ShardIterator"], Limit=1)
        code, _ = error_of(k.get_records, ShardIterator=it["ShardIterator"])
        assert code == "ProvisionedThroughputExceededException"
        clock.advance(1)
        assert len(k.get_records(ShardIterator=it["ShardIterator"], Limit=1)["Records"]) == 1


def test_iterator_types(k: Any, clock: ManualClock) -> None:
    seqs = []
    for i in range(5):
        out = k.put_record(StreamName="s", Data=b"%d" % i, PartitionKey="p", ExplicitHashKey="0")
        seqs.append(out["SequenceNumber"])
        clock.advance(10)
    latest = iterator(k, kind="LATEST")
    assert k.get_records(ShardIterator=latest)["Records"] == []
    at = iterator(k, kind="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
    assert [r["Data"] for r in k.get_records(ShardIterator=at)["Records"]] == [b"2", b"3", b"4"]
    after = iterator(k, kind="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
    assert [r["Data"] for r in k.get_records(ShardIterator=after)["Records"]] == [b"3", b"4"]
    stamp = dt.datetime.fromtimestamp(clock.now() - 25, tz=dt.UTC)
    at_time = iterator(k, kind="AT_TIMESTAMP", Timestamp=stamp)
    assert [r["Data"] for r in k.get_records(ShardIterator=at_time)["Records"]] == [b"3", b"4"]
    k.put_record(StreamName="s", Data=b"5", PartitionKey="p", ExplicitHashKey="0")
    assert [r["Data"] for r in k.get_records(ShardIterator=latest)["Records"]] == [b"5"]
    assert iterator(k, shard="1").startswith("AAAAAAAAAAE")


def test_get_records_accepts_an_iterator_in_double_quotes(k: Any) -> None:
    """AWS accepts an iterator pasted with its JSON quotes; so does headwater."""
    k.put_record(StreamName="s", Data=b"q", PartitionKey="p", ExplicitHashKey="0")
    quoted = '"' + iterator(k) + '"'
    assert [r["Data"] for r in k.get_records(ShardIterator=quoted)["Records"]] == [b"q"]
    assert error_of(k.get_records, ShardIterator='"' + iterator(k)) == (
        "InvalidArgumentException",
        "Invalid ShardIterator.",
    )


def test_get_shard_iterator_errors(k: Any, clock: ManualClock) -> None:
    seq = k.put_record(StreamName="s", Data=b"x", PartitionKey="p", ExplicitHashKey="0")[
        "SequenceNumber"
    ]
    assert error_of(
        k.get_shard_iterator,
        StreamName="s",
        ShardId="shardId-000000000009",
        ShardIteratorType="LATEST",
    ) == (
        "ResourceNotFoundException",
        "Shard shardId-000000000009 in stream s under account 000000000000 does not exist",
    )
    assert error_of(
        k.get_shard_iterator, StreamName="s", ShardId="shard-x", ShardIteratorType="LATEST"
    ) == (
        "ResourceNotFoundException",
        "Could not find shard shard-x in stream s under account 000000000000.",
    )
    short = k.get_shard_iterator(StreamName="s", ShardId="1", ShardIteratorType="LATEST")
    assert short["ShardIterator"].startswith("AAAAAAAAAAE")
    code, message = error_of(
        k.get_shard_iterator, StreamName="s", ShardId=SHARD0, ShardIteratorType="AT_SEQUENCE_NUMBER"
    )
    assert code == "InvalidArgumentException" and "no StartingSequenceNumber" in message
    code, message = error_of(
        k.get_shard_iterator,
        StreamName="s",
        ShardId=SHARD0,
        ShardIteratorType="LATEST",
        StartingSequenceNumber=seq,
    )
    assert code == "InvalidArgumentException" and "also a StartingSequenceNumber" in message
    code, message = error_of(
        k.get_shard_iterator,
        StreamName="s",
        ShardId=SHARD1,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=seq,
    )
    assert message == (
        "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in "
        "a call to a shard with shardId-000000000001"
    )
    code, message = error_of(
        k.get_shard_iterator,
        StreamName="s",
        ShardId=SHARD0,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber="12345",
    )
    assert code == "InvalidArgumentException" and message.endswith("is invalid.")
    code, message = error_of(
        k.get_shard_iterator, StreamName="s", ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP"
    )
    assert code == "InvalidArgumentException" and "timestamp" in message
    code, _ = error_of(
        k.get_shard_iterator,
        StreamName="s",
        ShardId=SHARD0,
        ShardIteratorType="AT_TIMESTAMP",
        Timestamp=clock.now() + 60,
    )
    assert code == "InvalidArgumentException"
    code, _ = error_of(
        k.get_shard_iterator, StreamName="nope", ShardId=SHARD0, ShardIteratorType="LATEST"
    )
    assert code == "ResourceNotFoundException"


def test_iterator_expires_after_five_minutes(k: Any, clock: ManualClock) -> None:
    it = iterator(k)
    clock.advance(300)
    out = k.get_records(ShardIterator=it)
    clock.advance(300)
    k.get_records(ShardIterator=out["NextShardIterator"])  # a fresh iterator each call
    code, message = error_of(k.get_records, ShardIterator=it)
    assert code == "ExpiredIteratorException"
    assert message.startswith("Iterator expired. The iterator was created at time Tue Nov 14 ")
    assert message.endswith("tolerated delay of 300000 milliseconds.")
    assert error_of(k.get_records, ShardIterator="AAAAAAAAAAEnotreal") == (
        "InvalidArgumentException",
        "Invalid ShardIterator.",
    )


def test_get_records_limit_next_iterator_and_millis_behind(k: Any, clock: ManualClock) -> None:
    k.put_records(
        StreamName="s",
        Records=[
            {"Data": b"%d" % i, "PartitionKey": "p", "ExplicitHashKey": "0"} for i in range(25)
        ],
    )
    clock.advance(5)
    out = k.get_records(ShardIterator=iterator(k), Limit=10)
    assert [r["Data"] for r in out["Records"]] == [b"%d" % i for i in range(10)]
    assert out["MillisBehindLatest"] == 5000
    out = k.get_records(ShardIterator=out["NextShardIterator"], Limit=10)
    assert out["Records"][0]["Data"] == b"10"
    out = k.get_records(ShardIterator=out["NextShardIterator"])
    assert len(out["Records"]) == 5 and out["MillisBehindLatest"] == 0
    out = k.get_records(ShardIterator=out["NextShardIterator"])
    assert out["Records"] == [] and out["NextShardIterator"] and "ChildShards" not in out
    raw_code, _ = error_of(k.get_records, ShardIterator=iterator(k), Limit=10001)
    assert raw_code == "ValidationException"


def test_get_records_caps_at_10_mib(k: Any) -> None:
    chunk = b"z" * (1000 * 1024)
    for _ in range(2):
        k.put_records(
            StreamName="s",
            Records=[{"Data": chunk, "PartitionKey": "p", "ExplicitHashKey": "0"}] * 7,
        )
    out = k.get_records(ShardIterator=iterator(k))
    assert len(out["Records"]) == 10
    rest = k.get_records(ShardIterator=out["NextShardIterator"])
    assert len(rest["Records"]) == 4


def test_retention_expires_records(k: Any, clock: ManualClock) -> None:
    k.put_record(StreamName="s", Data=b"old", PartitionKey="p", ExplicitHashKey="0")
    clock.advance(23 * 3600)
    k.put_record(StreamName="s", Data=b"new", PartitionKey="p", ExplicitHashKey="0")
    assert [r["Data"] for r in read_all(k)] == [b"old", b"new"]
    clock.advance(3600 + 1)
    assert [r["Data"] for r in read_all(k)] == [b"new"]
    k.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    clock.advance(24 * 3600)
    k.put_record(StreamName="s", Data=b"newest", PartitionKey="p", ExplicitHashKey="0")
    assert [r["Data"] for r in read_all(k)] == [b"new", b"newest"]
    k.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    assert [r["Data"] for r in read_all(k)] == [b"newest"]
    k.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=72)
    assert [r["Data"] for r in read_all(k)] == [b"newest"]  # expired records stay expired


def test_stream_addressed_by_arn(k: Any) -> None:
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    out = k.put_record(StreamARN=arn, Data=b"a", PartitionKey="p", ExplicitHashKey="0")
    it = k.get_shard_iterator(StreamARN=arn, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")
    records = k.get_records(ShardIterator=it["ShardIterator"], StreamARN=arn)["Records"]
    assert records[0]["SequenceNumber"] == out["SequenceNumber"]
    assert (
        k.put_records(StreamARN=arn, Records=[{"Data": b"b", "PartitionKey": "p"}])[
            "FailedRecordCount"
        ]
        == 0
    )


def test_concurrent_puts_keep_every_record_and_strict_order(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="c", ShardCount=3)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def writer(worker: int) -> None:
        client = hw.client("kinesis")
        for batch in range(10):
            entries = [
                {"Data": b"%d-%d-%d" % (worker, batch, i), "PartitionKey": f"{worker}-{i}"}
                for i in range(20)
            ]
            out = client.put_records(StreamName="c", Records=entries)
            with lock:
                results.extend(out["Records"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 800
    total = 0
    for shard in range(3):
        it = k.get_shard_iterator(
            StreamName="c", ShardId=f"shardId-{shard:012d}", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        numbers = [int(r["SequenceNumber"]) for r in k.get_records(ShardIterator=it)["Records"]]
        assert numbers == sorted(set(numbers))
        total += len(numbers)
    assert total == 800
    assert len({r["SequenceNumber"] for r in results}) == 800
