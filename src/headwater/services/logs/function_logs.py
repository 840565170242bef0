"""Function logs as CloudWatch Logs: ``/aws/lambda/<name>`` groups, one stream per environment.

The runtime appends each invocation's text (INIT_START, START, the function's output, END,
REPORT) through ``append(function_key, text)``; every line becomes one log event, as
Lambda's log delivery does. A text that starts with INIT_START comes from a new execution
environment, which gets a new stream named like Lambda's ``YYYY/MM/DD/[$LATEST]<id>``.
Groups are kept when a function is deleted, as in AWS; each is trimmed to
``function_log_retention_bytes`` (oldest events first).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from headwater.runtime.logs import LogStore as FileLogStore
from headwater.services.logs.store import LogGroup, LogStore, stored_size
from headwater.services.ticker import ClockTicker

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment
    from headwater.services.logs.service import LogsService

#: Real seconds between writes of queued function log text.
FLUSH_REAL_SECONDS = 0.25

LAMBDA_GROUP_PREFIX = "/aws/lambda/"

#: ``(group, function key, stream, [timestamp, line, ...], first event's sequence number)``
#: -> what to start once the transaction that stored the events has committed.
AppendHook = Callable[[LogGroup, str, str, list[int | str], int], list[Callable[[], None]]]


def function_of(function_key: str, default_region: str) -> tuple[str, str]:
    """(name, region) of the runtime's function key (``name`` or ``name@region``, and
    ``...:<version>`` for a published version, whose logs go to the function's group)."""
    name, _, region = function_key.partition(":")[0].partition("@")
    return name, region or default_region


def stream_name(now: float, version: str = "$LATEST") -> str:
    day = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


class FunctionLogs(FileLogStore):
    """The runtime's log sink (``append``/``read``/``delete``/``close``) over CloudWatch Logs.

    It takes the place of the runtime's file-per-function ``LogStore`` (hence the base
    class, whose interface the runtime is written against) without sharing its files.
    ``append`` only queues the text (it runs on the engine's event loop); ``flush`` writes
    the queue in one transaction, four times a second and before every read.
    """

    def __init__(
        self,
        env: ServiceEnvironment,
        store: Callable[[], LogStore],
        on_first_use: Callable[[FunctionLogs], None] | None = None,
        on_stored: Callable[[LogGroup, list[int | str]], None] | None = None,
        on_appended: AppendHook | None = None,
    ) -> None:
        self.data_dir = env.data_dir
        self.env = env
        self._resolve_store = store
        self._store: LogStore | None = None
        self._on_first_use = on_first_use
        #: Given each group's stored ``[timestamp, line, ...]`` after a flush (for the
        #: group's metric filters).
        self._on_stored = on_stored
        #: Given each stream's stored events inside the flush's transaction (for the
        #: group's subscription filters); answers what to start once it has committed.
        self._on_appended = on_appended
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        #: function key -> (current stream, bytes appended since the last trim)
        self._current: dict[str, tuple[str, int]] = {}
        #: (function key, stream) -> its events waiting for ``flush``, in order of arrival
        self._pending: dict[tuple[str, str], _PendingEvents] = {}
        self._ticker: ClockTicker | None = None
        self.retention_bytes = max(1024, env.options.function_log_retention_bytes)
        self.enabled = env.options.function_logs

    def _log_store(self) -> LogStore:
        store = self._store
        if store is None:
            store = self._store = self._resolve_store()
        return store

    def append(self, function_key: str, text: str) -> None:
        """Queue one invocation's log text (each line one event)."""
        if not self.enabled or not text:
            return
        now = self.env.clock.now()
        stamp = int(now * 1000)
        lines = text.splitlines(keepends=True)
        size = stored_size(text, len(lines))  # the lines are the whole text
        with self._lock:
            current = self._current.get(function_key)
            if current is None or text.startswith("INIT_START"):
                stream = stream_name(now, function_key.partition(":")[2] or "$LATEST")
                self._current[function_key] = (stream, 0 if current is None else current[1])
            else:
                stream = current[0]
            queued = self._pending.get((function_key, stream))
            if queued is None:
                queued = self._pending[(function_key, stream)] = _PendingEvents(stamp)
            queued.add(stamp, lines, size)
            first = self._ticker is None
            if first:
                self._ticker = ClockTicker(
                    self.env.clock, 0.0, lambda _now: self.flush(), name="function-logs",
                    real_interval_max=FLUSH_REAL_SECONDS,
                ).start()  # fmt: skip
        if first and self._on_first_use is not None:
            self._on_first_use(self)

    def flush(self) -> None:
        """Write the queued log text to the store."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            store = self._log_store()
            groups: dict[str, LogGroup] = {}
            grown: dict[str, int] = {}
            started: list[Callable[[], None]] = []
            with store.db.transaction():
                for (function_key, stream), queued in pending.items():
                    group = groups.get(function_key)
                    if group is None:
                        group = groups[function_key] = self._group(store, function_key)
                    store.insert_stream(group, stream, queued.first_stamp)
                    size, first_seq = store.append_pairs(
                        group,
                        stream,
                        queued.pairs,
                        size=queued.size,
                        first=queued.earliest,
                        last=queued.latest,
                        ingested=queued.last_stamp,
                    )
                    grown[function_key] = grown.get(function_key, 0) + size
                    if self._on_appended is not None:
                        started += self._on_appended(
                            group, function_key, stream, queued.pairs, first_seq
                        )
            for start in started:
                start()
            if self._on_stored is not None:
                for (function_key, _), queued in pending.items():
                    self._on_stored(groups[function_key], queued.pairs)
            for function_key, size in grown.items():
                self._trim_if_needed(store, groups[function_key], function_key, size)

    def _group(self, store: LogStore, function_key: str) -> LogGroup:
        name, region = function_of(function_key, self.env.region)
        group_name = LAMBDA_GROUP_PREFIX + name
        group = store.get_group(self.env.account, region, group_name)
        if group is None:
            created = int(self.env.clock.now() * 1000)
            store.insert_group(LogGroup(self.env.account, region, group_name, created))
            group = store.get_group(self.env.account, region, group_name)
            assert group is not None
        return group

    def _trim_if_needed(self, store: LogStore, group: LogGroup, key: str, size: int) -> None:
        with self._lock:
            stream, since_trim = self._current.get(key, ("", 0))
            since_trim += size
            trim = since_trim > self.retention_bytes // 8
            self._current[key] = (stream, 0 if trim else since_trim)
        if trim:
            fresh = store.get_group(group.account, group.region, group.name)
            if fresh is not None:
                store.trim(fresh, self.retention_bytes)

    def read(self, function_key: str) -> str:
        """Everything retained for a function, oldest first."""
        self.flush()
        name, region = function_of(function_key, self.env.region)
        return read_function_log(self._log_store(), self.env.account, region, name)

    def delete(self, function_key: str) -> None:
        """Lambda keeps a deleted function's log group; only forget the current stream."""
        self.flush()
        with self._lock:
            self._current.pop(function_key, None)

    def close(self) -> None:
        ticker = self._ticker
        if ticker is not None:
            ticker.stop()
        self.flush()
        with self._lock:
            self._current.clear()


class _PendingEvents:
    """One stream's queued events, kept as ``LogStore.append_pairs`` takes them (flat
    ``[timestamp, line, ...]``, their stored size, first and last timestamps) so that the
    flush, which runs beside the invoking threads and holds the GIL for any Python work,
    has no per-event work left."""

    __slots__ = ("earliest", "first_stamp", "last_stamp", "latest", "pairs", "size")

    def __init__(self, stamp: int) -> None:
        self.pairs: list[int | str] = []
        self.size = 0
        self.first_stamp = self.last_stamp = self.earliest = self.latest = stamp

    def add(self, stamp: int, lines: list[str], size: int) -> None:
        pairs = self.pairs
        for line in lines:
            pairs += (stamp, line)
        self.size += size
        self.last_stamp = stamp
        if stamp > self.latest:
            self.latest = stamp
        elif stamp < self.earliest:
            self.earliest = stamp


def function_logs_for(env: ServiceEnvironment) -> FunctionLogs:
    """The function log sink of ``env``, writing through its CloudWatch Logs service
    (whose reads flush it first)."""

    def service() -> LogsService:
        from headwater.services.logs.service import LogsService

        found = env.service("logs")
        assert isinstance(found, LogsService)
        return found

    def register(sink: FunctionLogs) -> None:
        service().add_read_hook(sink.flush)

    def stored(group: LogGroup, pairs: list[int | str]) -> None:
        logs = service()
        if logs.has_metric_filters(group):  # pairs become events only for a filtered group
            events = list(zip(pairs[::2], pairs[1::2], strict=True))
            logs.emit_metrics(group, events)  # type: ignore[arg-type]

    def appended(
        group: LogGroup, function_key: str, stream: str, pairs: list[int | str], first_seq: int
    ) -> list[Callable[[], None]]:
        logs = service()
        if not logs.has_subscription_filters(group):
            return []
        events = list(zip(pairs[::2], pairs[1::2], strict=True))
        name, _ = function_of(function_key, env.region)
        return logs.deliver_to_subscriptions(
            group,
            stream,
            events,  # type: ignore[arg-type]
            first_seq,
            from_function=name,
        )

    return FunctionLogs(env, lambda: service().log_store, register, stored, appended)


def read_function_log(store: LogStore, account: str, region: str, name: str) -> str:
    """A function's retained log text (``""`` when it has none)."""
    group = store.get_group(account, region, LAMBDA_GROUP_PREFIX + name)
    if group is None:
        return ""
    chunks: list[str] = []
    after: tuple[int, int] | None = None
    while True:
        events = store.events(group, after=after, limit=5000)
        if not events:
            break
        chunks.extend(e.message for e in events)
        after = (events[-1].timestamp, events[-1].seq)
    return "".join(chunks)
