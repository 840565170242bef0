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
from headwater.services.logs.store import LogGroup, LogStore

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

LAMBDA_GROUP_PREFIX = "/aws/lambda/"


def function_of(function_key: str, default_region: str) -> tuple[str, str]:
    """(name, region) of the runtime's function key (``name`` or ``name@region``)."""
    name, _, region = function_key.partition("@")
    return name, region or default_region


def stream_name(now: float) -> str:
    day = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{uuid.uuid4().hex}"


class FunctionLogs(FileLogStore):
    """The runtime's log sink (``append``/``read``/``delete``/``close``) over CloudWatch Logs.

    It takes the place of the runtime's file-per-function ``LogStore`` (hence the base
    class, whose interface the runtime is written against) without sharing its files.
    """

    def __init__(self, env: ServiceEnvironment, store: Callable[[], LogStore]) -> None:
        self.data_dir = env.data_dir
        self.env = env
        self._store = store
        self._lock = threading.Lock()
        #: function key -> (group, current stream, bytes appended since the last trim)
        self._current: dict[str, tuple[LogGroup, str, int]] = {}
        self.retention_bytes = max(1024, env.options.function_log_retention_bytes)
        self.enabled = env.options.function_logs

    def _group(self, function_key: str) -> LogGroup:
        name, region = function_of(function_key, self.env.region)
        store = self._store()
        group_name = LAMBDA_GROUP_PREFIX + name
        group = store.get_group(self.env.account, region, group_name)
        if group is None:
            created = int(self.env.clock.now() * 1000)
            store.insert_group(LogGroup(self.env.account, region, group_name, created))
            group = store.get_group(self.env.account, region, group_name)
            assert group is not None
        return group

    def append(self, function_key: str, text: str) -> None:
        """Store one invocation's log text (each line one event)."""
        if not self.enabled or not text:
            return
        now = self.env.clock.now()
        stamp = int(now * 1000)
        lines = text.splitlines(keepends=True)
        store = self._store()
        with self._lock:
            current = self._current.get(function_key)
            group = self._group(function_key)
            if current is None or text.startswith("INIT_START") or current[0].key != group.key:
                stream = stream_name(now)
                since_trim = 0 if current is None else current[2]
            else:
                stream, since_trim = current[1], current[2]
            with store.db.transaction():
                store.insert_stream(group, stream, stamp)
                size = store.append(group, stream, [(stamp, line) for line in lines], stamp)
            since_trim += size
            if since_trim > self.retention_bytes // 8:
                fresh = store.get_group(group.account, group.region, group.name)
                if fresh is not None:
                    store.trim(fresh, self.retention_bytes)
                since_trim = 0
            self._current[function_key] = (group, stream, since_trim)

    def read(self, function_key: str) -> str:
        """Everything retained for a function, oldest first."""
        name, region = function_of(function_key, self.env.region)
        return read_function_log(self._store(), self.env.account, region, name)

    def delete(self, function_key: str) -> None:
        """Lambda keeps a deleted function's log group; only forget the current stream."""
        with self._lock:
            self._current.pop(function_key, None)

    def close(self) -> None:
        with self._lock:
            self._current.clear()


def function_logs_for(env: ServiceEnvironment) -> FunctionLogs:
    """The function log sink of ``env``, writing through its CloudWatch Logs service."""

    def store() -> LogStore:
        from headwater.services.logs.service import LogsService

        service = env.service("logs")
        assert isinstance(service, LogsService)
        return service.log_store

    return FunctionLogs(env, store)


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
