"""Property: random puts, updates, deletes, transactions (committed or cancelled) and TTL
expiries on a table with a NEW_AND_OLD_IMAGES stream reach a stream mapping's function
complete and in per-item order, across shard rollovers (a short rollover period and clock
jumps), random function failures (errors, throttles, partial batch responses) with retries
and bisect, and ParallelizationFactor; a record is only missing from what the function
processed if it is in an on-failure record. The stream itself (read through the Streams
API, shard by shard) holds exactly the changes a model of the table predicts.

The poller is the stream engine's own (``StreamPoller``) over ``LocalDynamoDBStreamSource``,
driven like the Kinesis property test (``test_stream_esm_properties``): a ManualClock that
jumps over backoffs, and the same random fake function (``Recorder``).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from headwater.core.mapping_config import MappingConfig
from headwater.esm.streams.lanes import lane_of
from headwater.esm.streams.stream_poller import StreamPoller
from headwater.store.mappings import MappingRecord
from headwater.wiring.adapters import LocalDynamoDBStreamSource
from tests.functional.dynamodb_tables import create_table
from tests.functional.esm_fakes import FUNCTION_ARN, FakeInvoker
from tests.functional.test_stream_esm_properties import Recorder
from tests.functional.test_stream_esm_support import UUID, StreamHarness, make_queue, queue_bodies

#: Rollover period of the stream's shards (clock seconds); ``advance`` steps cross it.
SHARD_SECONDS = 10.0
TABLE = "items"
Key = tuple[str, int]
Item = dict[str, dict[str, str]]
KEYS: list[Key] = [("a", 1), ("a", 2), ("b", 1), ("c", 7), ("d", 1)]
NEVER_WRITTEN: Key = ("z", 0)


def key_attributes(key: Key) -> Item:
    return {"pk": {"S": key[0]}, "sk": {"N": str(key[1])}}


def partition_key(keys: dict[str, Any]) -> str:
    """The mapping's partition key of an item (its primary key), as the source makes it."""
    return orjson.dumps(keys, option=orjson.OPT_SORT_KEYS).decode()


class DynamoDBRecorder(Recorder):
    """The random fake function of the Kinesis property test, reading DynamoDB records."""

    def identify(self, record: dict[str, Any]) -> tuple[str, int]:
        change = record["dynamodb"]
        return partition_key(change["Keys"]), int(change["SequenceNumber"])


class DynamoDBStreamHarness(StreamHarness):
    """``StreamHarness`` with the DynamoDB stream source instead of Kinesis's."""

    def start_poller(self, loop: asyncio.AbstractEventLoop) -> StreamPoller:
        streams: Any = self.hw.service("dynamodbstreams")
        source = LocalDynamoDBStreamSource(streams, self.record.source_arn)
        self.poller = StreamPoller(
            self.record, source, self.invoker, self.clock, loop, host=self.host
        )
        return self.poller


class TableModel:
    """What the table holds and which stream records each item's writes must make."""

    def __init__(self) -> None:
        self.items: dict[Key, Item] = {}
        #: per item: (eventName, OldImage, NewImage, deleted by TTL)
        self.changes: dict[Key, list[tuple[str, Item | None, Item | None, bool]]] = {}

    def write(self, key: Key, new: Item | None, *, by_ttl: bool = False) -> None:
        old = self.items.get(key)
        if old == new:
            return  # no change, no record (a missing item deleted, an identical put)
        if new is None:
            del self.items[key]
        else:
            self.items[key] = new
        name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        self.changes.setdefault(key, []).append((name, old, new, by_ttl))

    def put(self, key: Key, value: int, expires: int | None = None) -> Item:
        item = key_attributes(key) | {"v": {"N": str(value)}}
        if expires is not None:
            item["expires"] = {"N": str(expires)}
        self.write(key, item)
        return item

    def update(self, key: Key, value: int) -> None:
        self.write(key, (self.items.get(key) or key_attributes(key)) | {"v": {"N": str(value)}})

    def delete(self, key: Key) -> None:
        self.write(key, None)

    def expire(self, now: float) -> None:
        """The TTL sweep: it ran when the clock last moved, so before any write made now."""
        for key, item in sorted(self.items.items()):
            if "expires" in item and int(item["expires"]["N"]) <= now:
                self.write(key, None, by_ttl=True)


def update_params(key: Key, value: int) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Key": key_attributes(key),
        "UpdateExpression": "SET v = :v",
        "ExpressionAttributeValues": {":v": {"N": str(value)}},
    }


def apply(hw: Headwater, clock: ManualClock, model: TableModel, op: tuple[Any, ...]) -> None:
    """Run one write ``op`` against the table and the model."""
    dynamodb = hw.dynamodb
    model.expire(clock.now())
    kind = op[0]
    if kind == "put":
        dynamodb.put_item(TableName=TABLE, Item=model.put(op[1], op[2]))
    elif kind == "ttl":  # an item that expires ``op[3]`` seconds from now
        item = model.put(op[1], op[2], expires=int(clock.now()) + op[3])
        dynamodb.put_item(TableName=TABLE, Item=item)
    elif kind == "update":
        dynamodb.update_item(**update_params(op[1], op[2]))
        model.update(op[1], op[2])
    elif kind == "delete":
        dynamodb.delete_item(TableName=TABLE, Key=key_attributes(op[1]))
        model.delete(op[1])
    elif kind in ("txn", "cancelled txn"):
        # a cancelled transaction (its condition check fails) writes nothing, so the
        # model is only changed for one that commits
        target = TableModel() if kind == "cancelled txn" else model
        target.items = dict(model.items)
        actions: list[dict[str, Any]] = []
        for action, key, value in op[1]:
            if action == "put":
                actions.append({"Put": {"TableName": TABLE, "Item": target.put(key, value)}})
            elif action == "update":
                actions.append({"Update": update_params(key, value)})
                target.update(key, value)
            else:
                actions.append({"Delete": {"TableName": TABLE, "Key": key_attributes(key)}})
                target.delete(key)
        if kind == "txn":
            dynamodb.transact_write_items(TransactItems=actions)
            return
        never_written = {
            "TableName": TABLE,
            "Key": key_attributes(NEVER_WRITTEN),
            "ConditionExpression": "attribute_exists(pk)",
        }
        with pytest.raises(ClientError) as cancelled:
            dynamodb.transact_write_items(
                TransactItems=[*actions, {"ConditionCheck": never_written}]
            )
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    else:
        raise AssertionError(op)


def stream_records(hw: Headwater, arn: str) -> dict[str, list[dict[str, Any]]]:
    """Every record of the stream, read shard by shard through the Streams API."""
    streams = hw.client("dynamodbstreams")
    found: dict[str, list[dict[str, Any]]] = {}
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = found.setdefault(shard["ShardId"], [])
        while iterator:
            got = streams.get_records(ShardIterator=iterator)
            records.extend(got["Records"])
            iterator = got.get("NextShardIterator") if got["Records"] else None
    return found


key_st = st.sampled_from(KEYS)
value_st = st.integers(0, 2)
op_st = st.one_of(
    st.tuples(st.just("put"), key_st, value_st),
    st.tuples(st.just("update"), key_st, value_st),
    st.tuples(st.just("delete"), key_st),
    st.tuples(st.just("ttl"), key_st, value_st, st.integers(1, 30)),
    st.tuples(
        st.sampled_from(["txn", "txn", "cancelled txn"]),
        st.lists(
            st.tuples(st.sampled_from(["put", "update", "delete"]), key_st, value_st),
            min_size=1,
            max_size=3,
            unique_by=lambda action: action[1],
        ),
    ),
    st.tuples(st.just("advance"), st.integers(1, 25)),
    st.tuples(st.just("run")),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(op_st, min_size=1, max_size=60),
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.integers(1, 12),
    parallelization=st.integers(1, 4),
    bisect=st.booleans(),
    retries=st.sampled_from([-1, 0, 1, 3]),
    failure_rate=st.sampled_from([0.0, 0.3, 0.6]),
)
def test_table_changes_reach_the_function_complete_and_in_item_order(
    ops: list[tuple[Any, ...]],
    seed: int,
    batch_size: int,
    parallelization: int,
    bisect: bool,
    retries: int,
    failure_rate: float,
) -> None:
    clock = ManualClock()
    hw = Headwater.in_memory(clock=clock, dynamodb_stream_shard_seconds=SHARD_SECONDS)
    try:
        arn = create_table(
            hw.dynamodb,
            TABLE,
            range_key=("sk", "N"),
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        hw.dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
        )
        url, queue_arn = make_queue(hw)
        rng = random.Random(seed)
        recorder = DynamoDBRecorder(rng, failure_rate if retries != -1 else min(failure_rate, 0.3))
        invoker = FakeInvoker(recorder.handler)
        record = MappingRecord(
            uuid=UUID,
            source_arn=arn,
            function_arn=FUNCTION_ARN,
            function_name="fake",
            state="Enabled",
            state_reason="User action",
            last_modified=0.0,
            config=MappingConfig.create(
                "dynamodb",
                {
                    "StartingPosition": "TRIM_HORIZON",
                    "BatchSize": batch_size,
                    "ParallelizationFactor": parallelization,
                    "BisectBatchOnFunctionError": bisect,
                    "MaximumRetryAttempts": retries,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "DestinationConfig": {"OnFailure": {"Destination": queue_arn}},
                },
            ),
        )
        model = TableModel()

        async def scenario() -> None:
            async with DynamoDBStreamHarness(hw, clock, record, invoker, backoff_seconds=0.01) as h:
                for op in ops:
                    if op[0] == "advance":  # rolls the shard over when the stream is read
                        clock.advance(op[1])
                    elif op[0] == "run":
                        await h.drain()
                    else:
                        apply(hw, clock, model, op)
                    await asyncio.sleep(0)  # the poller reads between writes too
                await h.drain()

        asyncio.run(scenario())
        model.expire(clock.now())

        # The stream holds exactly the model's changes, per item in order.
        by_shard = stream_records(hw, arn)
        truth = {int(r["dynamodb"]["SequenceNumber"]): r for rs in by_shard.values() for r in rs}
        shard_of = {
            int(r["dynamodb"]["SequenceNumber"]): s for s, rs in by_shard.items() for r in rs
        }
        seen: dict[Key, list[tuple[str, Item | None, Item | None, bool]]] = {}
        for sequence in sorted(truth):
            change = truth[sequence]["dynamodb"]
            key = (change["Keys"]["pk"]["S"], int(change["Keys"]["sk"]["N"]))
            seen.setdefault(key, []).append(
                (
                    truth[sequence]["eventName"],
                    change.get("OldImage"),
                    change.get("NewImage"),
                    "userIdentity" in truth[sequence],
                )
            )
        assert seen == model.changes

        # What the function got is what the stream holds, in per-item order.
        assert recorder.violations == []
        for event in invoker.events:
            for delivered in event["Records"]:
                held = truth[int(delivered["dynamodb"]["SequenceNumber"])]
                assert delivered["eventID"] == held["eventID"]
                assert delivered["dynamodb"]["Keys"] == held["dynamodb"]["Keys"]
                assert delivered["dynamodb"].get("NewImage") == held["dynamodb"].get("NewImage")
                assert delivered["dynamodb"].get("OldImage") == held["dynamodb"].get("OldImage")

        # Nothing lost: processed, or in an on-failure record (and only then).
        key_of = {s: partition_key(r["dynamodb"]["Keys"]) for s, r in truth.items()}
        discarded: set[int] = set()
        for body in queue_bodies(hw, url):
            info = body["DDBStreamBatchInfo"]
            start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
            assert shard_of[start] == shard_of[end] == info["shardId"]
            lane = lane_of(key_of[start], parallelization)
            batch = {
                s
                for s in truth
                if start <= s <= end
                and shard_of[s] == info["shardId"]
                and lane_of(key_of[s], parallelization) == lane
            }
            assert len(batch) == info["batchSize"]
            discarded |= batch
        if retries == -1:
            assert discarded == set()
        assert set(truth) - recorder.processed - discarded == set()
    finally:
        hw.close()
