"""PutRecord(s), GetShardIterator and GetRecords."""

from __future__ import annotations

import hashlib
from typing import Any

from headwater.core.errors import AwsError, validation_error
from headwater.core.values import as_bytes, as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.kinesis import shards as hash_space
from headwater.services.kinesis.core import KinesisCore, Routing, StreamRef, sequence_prefix
from headwater.services.kinesis.iterators import (
    IteratorState,
    check_not_expired,
    decode_iterator,
    encode_iterator,
)
from headwater.services.kinesis.sequence import (
    MAX_COUNTER,
    decode_sequence,
    format_sequence,
)
from headwater.services.kinesis.shards import HASH_SPACE
from headwater.services.kinesis.validation import (
    check_hash_key,
    check_int,
    check_sequence_number,
    check_shard_id,
    check_string,
    check_timestamp,
    invalid_argument,
    require,
)
from headwater.store.streams import ShardRow, StoredRecord, StreamRow

MAX_PUT_RECORDS = 500
MAX_PUT_RECORDS_BYTES = 10 * 1024 * 1024
MAX_GET_RECORDS = 10_000
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
#: AWS's per-shard write limits, enforced only with ``kinesis_enforce_throughput``.
SHARD_RECORDS_PER_SECOND = 1000
SHARD_BYTES_PER_SECOND = 1024 * 1024
SHARD_READS_PER_SECOND = 5
ITERATOR_TYPES = (
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
)

_md5 = hashlib.md5


def _explicit_hash(value: Any, member: str) -> int:
    key = check_hash_key(value, member)
    if key >= HASH_SPACE:
        raise invalid_argument(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {value}"
        )
    return key


class RecordOperations:
    """Writes route by hash key into open shards; reads follow opaque iterators."""

    def __init__(self, core: KinesisCore) -> None:
        self.core = core
        #: shard key -> (second, records, bytes) written in that second (throughput limits).
        self._throughput: dict[int, tuple[int, int, int]] = {}
        #: shard key -> (second, GetRecords calls in that second).
        self._reads: dict[int, tuple[int, int]] = {}

    def _check_record(
        self, entry: Any, member: str, limit_bytes: int
    ) -> tuple[str, bytes, int | None]:
        if not isinstance(entry, dict):
            raise AwsError("SerializationException", f"Expected a structure for {member}")
        try:
            data = as_bytes(require(entry, "Data", f"{member}data"))
        except TypeError:
            raise AwsError("SerializationException", f"Expected a blob for {member}data") from None
        key = check_string(
            require(entry, "PartitionKey", f"{member}partitionKey"),
            f"{member}partitionKey",
            min_len=1,
            max_len=256,
        )
        if len(data) + len(key.encode("utf-8")) > limit_bytes:
            # AWS prints blobs as the Java buffer that held them.
            raise validation_error(
                f"java.nio.HeapByteBuffer[pos=0 lim={len(data)} cap={len(data)}]",
                f"{member}data",
                f"Member must have length less than or equal to {limit_bytes}",
            )
        explicit = entry.get("ExplicitHashKey")
        hash_key = (
            None if explicit is None else _explicit_hash(explicit, f"{member}explicitHashKey")
        )
        return key, data, hash_key

    def _throttled(self, shard_key: int, size: int, now: float) -> bool:
        """Count a write against the shard's per-second budget; True if over it."""
        second = int(now)
        window, records, used = self._throughput.get(shard_key, (second, 0, 0))
        if window != second:
            window, records, used = second, 0, 0
        if records + 1 > SHARD_RECORDS_PER_SECOND or used + size > SHARD_BYTES_PER_SECOND:
            return True
        self._throughput[shard_key] = (window, records + 1, used + size)
        return False

    def _read_throttled(self, shard_key: int) -> bool:
        """Count a GetRecords call against the shard's 5 reads/s; True if over it."""
        second = int(self.core.env.clock.now())
        window, calls = self._reads.get(shard_key, (second, 0))
        if window != second:
            window, calls = second, 0
        if calls + 1 > SHARD_READS_PER_SECOND:
            return True
        self._reads[shard_key] = (window, calls + 1)
        return False

    @operation("PutRecord")
    def put_record(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        floor_text = params.get("SequenceNumberForOrdering")
        if floor_text is not None:
            floor_text = check_sequence_number(floor_text, "sequenceNumberForOrdering")
        with self.core.db.transaction():
            routing = self.core.routing(ref)
            key, data, hash_key = self._check_record(
                params, "", routing.stream.max_record_kib * 1024
            )
            if hash_key is None:
                hash_key = int.from_bytes(_md5(key.encode("utf-8")).digest(), "big")
            shard_key = routing.router.route(hash_key)
            shard_id, prefix = routing.open_shards[shard_key]
            floor = 0
            if floor_text is not None:
                decoded = decode_sequence(floor_text)
                if decoded is not None and floor_text.startswith(prefix):
                    floor = min(decoded.counter, MAX_COUNTER - 1)
            now = self.core.arrival_time()
            if self.core.enforce_throughput and self._throttled(
                shard_key, len(data) + len(key), now
            ):
                raise AwsError(
                    "ProvisionedThroughputExceededException",
                    f"Rate exceeded for shard {shard_id} in stream {ref.name} under account "
                    f"{ref.account}.",
                )
            (counter,) = self.core.store.append(ref.arn, [(shard_key, key, data)], now, floor)
        self.core.trim_expired(routing.stream, now)
        self.core.notify(ref.arn, (shard_id,))
        self.core.env.telemetry.kinesis_put(
            ref.arn, [(format_sequence(prefix, counter), len(data))]
        )
        return {
            "ShardId": shard_id,
            "SequenceNumber": format_sequence(prefix, counter),
            "EncryptionType": "NONE",
        }

    def _route_entries(self, routing: Routing, entries: list[Any]) -> list[tuple[int, str, bytes]]:
        """Check PutRecords entries and pick each one's shard key."""
        limit_bytes = routing.stream.max_record_kib * 1024
        route = routing.router.route
        rows: list[tuple[int, str, bytes]] = []
        total = 0
        md5 = _md5
        for position, entry in enumerate(entries, 1):
            # The common case (dict with bytes Data and a str key) stays on a short path.
            data = entry.get("Data") if type(entry) is dict else None
            key = entry.get("PartitionKey") if data is not None else None
            if (
                type(data) is bytes
                and type(key) is str
                and 0 < len(key) <= 256
                and "ExplicitHashKey" not in entry
                and len(data) + len(key) * 4 <= limit_bytes
            ):
                hash_key = int.from_bytes(md5(key.encode()).digest(), "big")
            else:
                key, data, explicit = self._check_record(
                    entry, f"records.{position}.member.", limit_bytes
                )
                hash_key = (
                    int.from_bytes(md5(key.encode()).digest(), "big")
                    if explicit is None
                    else explicit
                )
            total += len(data) + len(key)
            rows.append((route(hash_key), key, data))
        if total > MAX_PUT_RECORDS_BYTES:
            raise invalid_argument(
                f"Records size exceeds {MAX_PUT_RECORDS_BYTES // (1024 * 1024)} MB limit"
            )
        return rows

    @operation("PutRecords")
    def put_records(self, params: Params, ctx: RequestContext) -> Result:
        entries = require(params, "Records", "records")
        if not isinstance(entries, list):
            raise AwsError("SerializationException", "Expected a list for records")
        if not 1 <= len(entries) <= MAX_PUT_RECORDS:
            constraint = (
                "Member must have length greater than or equal to 1"
                if not entries
                else f"Member must have length less than or equal to {MAX_PUT_RECORDS}"
            )
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{entries!r:.64}' at 'records' failed to "
                f"satisfy constraint: {constraint}",
            )
        ref = self.core.stream_ref(params, ctx)
        failed: dict[int, str] = {}
        with self.core.db.transaction():
            routing = self.core.routing(ref)
            rows = self._route_entries(routing, entries)
            now = self.core.arrival_time()
            if self.core.enforce_throughput:
                for i, (shard_key, key, data) in enumerate(rows):
                    if self._throttled(shard_key, len(data) + len(key), now):
                        failed[i] = routing.open_shards[shard_key][0]
            accepted = [row for i, row in enumerate(rows) if i not in failed] if failed else rows
            counters = self.core.store.append(ref.arn, accepted, now) if accepted else []
        shards = routing.open_shards
        results: list[dict[str, str]] = []
        next_counter = iter(counters)
        for i, (shard_key, _, _) in enumerate(rows):
            shard_id, prefix = shards[shard_key]
            if i in failed:
                results.append(
                    {
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": f"Rate exceeded for shard {shard_id} in stream "
                        f"{ref.name} under account {ref.account}.",
                    }
                )
            else:
                results.append(
                    {
                        "SequenceNumber": f"{prefix}{next(next_counter):032d}",
                        "ShardId": shard_id,
                    }
                )
        self.core.trim_expired(routing.stream, now)
        self.core.notify(ref.arn, sorted({shards[row[0]][0] for row in accepted}))
        if failed:
            self.core.env.telemetry.kinesis_throttled(ref.arn, len(failed))
        self.core.env.telemetry.kinesis_put(
            ref.arn,
            [
                (r["SequenceNumber"], len(row[2]))
                for r, row in zip(results, rows, strict=True)
                if "SequenceNumber" in r
            ],
        )
        return {"FailedRecordCount": len(failed), "Records": results, "EncryptionType": "NONE"}

    # -- reading ----------------------------------------------------------------------------

    def shard_not_found(self, ref: StreamRef, shard: str) -> AwsError:
        return AwsError(
            "ResourceNotFoundException",
            f"Shard {shard} in stream {ref.name} under account {ref.account} does not exist",
        )

    def sequence_counter(
        self, ref: StreamRef, shard: ShardRow, text: str, operation_name: str
    ) -> int:
        """The counter in a sequence number issued for ``shard``; AWS's errors otherwise."""
        decoded = decode_sequence(text)
        if decoded is None:
            raise invalid_argument(
                f"StartingSequenceNumber {text} used in {operation_name} on shard "
                f"{shard.shard_id} in stream {ref.name} under account {ref.account} is invalid."
            )
        if decoded.shard_index != shard.index:
            raise invalid_argument(
                f"Invalid StartingSequenceNumber. It encodes shardId-{decoded.shard_index:012d}, "
                f"while it was used in a call to a shard with {shard.shard_id}"
            )
        if not text.startswith(sequence_prefix(shard)):
            raise invalid_argument(
                f"StartingSequenceNumber {text} used in {operation_name} on shard "
                f"{shard.shard_id} in stream {ref.name} under account {ref.account} is invalid "
                "because it did not come from this stream."
            )
        return min(decoded.counter, MAX_COUNTER)

    @operation("GetShardIterator")
    def get_shard_iterator(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        shard_text = check_shard_id(require(params, "ShardId", "shardId"))
        kind = require(params, "ShardIteratorType", "shardIteratorType")
        if kind not in ITERATOR_TYPES:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(ITERATOR_TYPES)}]",
            )
        sequence = params.get("StartingSequenceNumber")
        if sequence is not None:
            sequence = check_sequence_number(sequence, "startingSequenceNumber")
        stream = self.core.require_stream(ref)
        index = hash_space.shard_index(shard_text)
        if index is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Could not find shard {shard_text} in stream {ref.name} under account "
                f"{ref.account}.",
            )
        shard = self.core.find_shard(stream, hash_space.shard_id(index))
        if shard is None:
            raise self.shard_not_found(ref, hash_space.shard_id(index))
        after = self.iterator_position(
            ref, shard, kind, sequence=sequence, timestamp=params.get("Timestamp")
        )
        state = IteratorState(
            ref.region, ref.account, ref.name, shard.shard_id, after, self.core.now_ms()
        )
        return {"ShardIterator": encode_iterator(state)}

    def iterator_position(
        self,
        ref: StreamRef,
        shard: ShardRow,
        kind: str,
        *,
        sequence: str | None,
        timestamp: Any,
    ) -> int:
        """The counter an iterator of ``kind`` reads after."""
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence is None:
                raise invalid_argument(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                    "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                    f"StartingSequenceNumber. Request specified {kind} and no "
                    "StartingSequenceNumber."
                )
            counter = self.sequence_counter(ref, shard, sequence, "GetShardIterator")
            return max(counter - 1, 0) if kind == "AT_SEQUENCE_NUMBER" else counter
        if sequence is not None:
            raise invalid_argument(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                f"StartingSequenceNumber. Request specified {kind} and also a "
                "StartingSequenceNumber."
            )
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return shard.last_counter
        if timestamp is None:
            raise invalid_argument(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."
            )
        moment = check_timestamp(timestamp, "timestamp")
        now = self.core.env.clock.now()
        if moment > now:
            raise invalid_argument(
                "The timestampInMillis parameter cannot be greater than the "
                f"currentTimestampInMillis. timestampInMillis: {int(moment * 1000)}, "
                f"currentTimestampInMillis: {int(now * 1000)}"
            )
        first = self.core.store.first_counter_at(shard.key, moment)
        return shard.last_counter if first is None else first - 1

    def read_from(
        self, stream: StreamRow, shard: ShardRow, after: int, limit: int
    ) -> tuple[list[StoredRecord], int, bool, int]:
        """Read a batch: ``(records, new position, shard end reached, millis behind)``."""
        now = self.core.env.clock.now()
        records = self.core.store.read(
            shard.key, after, limit, MAX_GET_RECORDS_BYTES, self.core.retention_cutoff(stream, now)
        )
        position = records[-1].counter if records else after
        caught_up = position >= shard.last_counter or not records
        end = shard.closed and caught_up
        behind = 0 if caught_up else max(0, int((now - records[-1].arrival) * 1000))
        return records, position, end, behind

    @operation("GetRecords")
    def get_records(self, params: Params, ctx: RequestContext) -> Result:
        text = check_string(
            require(params, "ShardIterator", "shardIterator"),
            "shardIterator",
            min_len=1,
            max_len=512,
        )
        limit = params.get("Limit")
        limit = (
            MAX_GET_RECORDS
            if limit is None
            else check_int(limit, "limit", minimum=1, maximum=MAX_GET_RECORDS)
        )
        state = decode_iterator(text)
        check_not_expired(state, self.core.now_ms())
        ref = StreamRef(state.region, state.account, state.stream_name)
        stream = self.core.store.get_stream(ref.arn)
        shard = None if stream is None else self.core.find_shard(stream, state.shard_id)
        if stream is None or shard is None:
            raise self.shard_not_found(ref, state.shard_id)
        if self.core.enforce_throughput and self._read_throttled(shard.key):
            raise AwsError(
                "ProvisionedThroughputExceededException",
                f"Rate exceeded for shard {shard.shard_id} in stream {ref.name} under account "
                f"{ref.account}.",
            )
        records, position, end, behind = self.read_from(stream, shard, state.after_counter, limit)
        self.core.env.telemetry.kinesis_read(ref.arn, len(records), float(behind))
        prefix = sequence_prefix(shard)
        result: dict[str, Any] = {
            "Records": [
                {
                    "SequenceNumber": f"{prefix}{r.counter:032d}",
                    "ApproximateArrivalTimestamp": as_datetime(r.arrival),
                    "Data": r.data,
                    "PartitionKey": r.partition_key,
                }
                for r in records
            ],
            "MillisBehindLatest": behind,
        }
        if end:
            result["ChildShards"] = self.child_shards(stream, shard)
        else:
            result["NextShardIterator"] = encode_iterator(
                IteratorState(
                    ref.region, ref.account, ref.name, shard.shard_id, position, self.core.now_ms()
                )
            )
        return result

    def child_shards(self, stream: StreamRow, shard: ShardRow) -> list[dict[str, Any]]:
        children = []
        for row in self.core.store.shards(stream.arn):
            if shard.shard_id in (row.parent, row.adjacent_parent):
                parents = [p for p in (row.parent, row.adjacent_parent) if p is not None]
                children.append(
                    {
                        "ShardId": row.shard_id,
                        "ParentShards": parents,
                        "HashKeyRange": {
                            "StartingHashKey": str(row.start_hash),
                            "EndingHashKey": str(row.end_hash),
                        },
                    }
                )
        return children
