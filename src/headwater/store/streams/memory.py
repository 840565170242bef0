"""In-memory stream store (tests, ``Headwater.in_memory()``)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Concatenate, ParamSpec, TypeVar

from headwater.store.streams import NewRecord, NewShard, ShardRow, StoredRecord, StreamRow

P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[MemoryStreamStore, P], R],
) -> Callable[Concatenate[MemoryStreamStore, P], R]:
    """Run ``method`` holding the store's lock."""

    def run(store: MemoryStreamStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with store._lock:
            return method(store, *args, **kwargs)

    run.__doc__ = method.__doc__
    return run


@dataclass(slots=True)
class _ShardLog:
    """A shard's records as parallel lists (counters ascending), plus its metadata."""

    row: ShardRow
    counters: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    datas: list[bytes] = field(default_factory=list)


class MemoryStreamStore:
    """Streams in dicts; records in per-shard lists.

    Every method holds the database lock: readers run on other threads than writers (the
    stream poller, the wire server) and a trim shifts list positions under a reader.
    """

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.RLock()
        self._streams: dict[str, StreamRow] = {}
        self._shards: dict[str, list[_ShardLog]] = {}
        self._by_key: dict[int, _ShardLog] = {}
        self._next_key = 1
        self._last_arrival: dict[str, float] = {}

    @_locked
    def create_stream(self, stream: StreamRow, shards: Sequence[NewShard]) -> None:
        self._streams[stream.arn] = replace(stream, tags=dict(stream.tags))
        self._shards[stream.arn] = []
        self._add_shards(stream.arn, shards, stream.created)

    def _add_shards(self, arn: str, shards: Sequence[NewShard], now: float) -> None:
        for new in shards:
            row = ShardRow(
                key=self._next_key,
                index=new.index,
                start_hash=new.start_hash,
                end_hash=new.end_hash,
                parent=new.parent,
                adjacent_parent=new.adjacent_parent,
                created=now,
                closed_at=now if new.closed else None,
                last_counter=0,
            )
            self._next_key += 1
            log = _ShardLog(row)
            self._shards[arn].append(log)
            self._by_key[row.key] = log
        if shards:
            stream = self._streams[arn]
            top = max(s.index for s in shards) + 1
            self._streams[arn] = replace(stream, next_shard_index=max(stream.next_shard_index, top))

    @_locked
    def get_stream(self, arn: str) -> StreamRow | None:
        return self._streams.get(arn)

    @_locked
    def list_streams(self, region: str, account: str) -> list[StreamRow]:
        found = [s for s in self._streams.values() if s.region == region and s.account == account]
        return sorted(found, key=lambda s: s.name)

    @_locked
    def delete_stream(self, arn: str) -> None:
        self._streams.pop(arn, None)
        for log in self._shards.pop(arn, []):
            self._by_key.pop(log.row.key, None)

    @_locked
    def set_retention(self, arn: str, hours: int) -> None:
        self._streams[arn] = replace(self._streams[arn], retention_hours=hours)

    @_locked
    def set_mode(self, arn: str, mode: str) -> None:
        self._streams[arn] = replace(self._streams[arn], mode=mode)

    @_locked
    def set_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        self._streams[arn] = replace(self._streams[arn], tags=dict(tags))

    @_locked
    def shards(self, arn: str) -> list[ShardRow]:
        return sorted((log.row for log in self._shards.get(arn, [])), key=lambda r: r.index)

    @_locked
    def get_shard(self, arn: str, index: int) -> ShardRow | None:
        for log in self._shards.get(arn, []):
            if log.row.index == index:
                return log.row
        return None

    @_locked
    def reshard(
        self, arn: str, close: Sequence[str], create: Sequence[NewShard], now: float
    ) -> None:
        closing = set(close)
        for log in self._shards[arn]:
            if log.row.shard_id in closing:
                log.row = replace(log.row, closed_at=now)
        self._add_shards(arn, create, now)

    @_locked
    def append(
        self, arn: str, records: Sequence[NewRecord], now: float, ordering_floor: int = 0
    ) -> list[int]:
        counters: list[int] = []
        touched: dict[int, int] = {}
        # Arrival times never go backwards in a stream (as in the SQL stores).
        now = max(now, self._last_arrival.get(arn, now))
        self._last_arrival[arn] = now
        for shard_key, partition_key, data in records:
            log = self._by_key[shard_key]
            last = touched.get(shard_key, log.row.last_counter)
            counter = max(last, ordering_floor) + 1
            touched[shard_key] = counter
            log.counters.append(counter)
            log.arrivals.append(now)
            log.keys.append(partition_key)
            log.datas.append(data)
            counters.append(counter)
        for shard_key, last in touched.items():
            log = self._by_key[shard_key]
            log.row = replace(log.row, last_counter=last)
        return counters

    @_locked
    def read(
        self, shard_key: int, after_counter: int, limit: int, max_bytes: int, min_arrival: float
    ) -> list[StoredRecord]:
        log = self._by_key.get(shard_key)
        if log is None:
            return []
        position = max(
            bisect_right(log.counters, after_counter), bisect_left(log.arrivals, min_arrival)
        )
        found: list[StoredRecord] = []
        size = 0
        end = min(len(log.counters), position + limit)
        for i in range(position, end):
            if found and size + len(log.datas[i]) > max_bytes:
                break
            size += len(log.datas[i])
            found.append(StoredRecord(log.counters[i], log.arrivals[i], log.keys[i], log.datas[i]))
        return found

    @_locked
    def first_counter_at(self, shard_key: int, min_arrival: float) -> int | None:
        log = self._by_key.get(shard_key)
        if log is None:
            return None
        position = bisect_left(log.arrivals, min_arrival)
        return log.counters[position] if position < len(log.counters) else None

    @_locked
    def trim(self, shard_key: int, before_arrival: float) -> int:
        log = self._by_key.get(shard_key)
        if log is None:
            return 0
        count = bisect_left(log.arrivals, before_arrival)
        if count:
            del log.counters[:count], log.arrivals[:count], log.keys[:count], log.datas[:count]
        return count
