"""What the dashboard shows: plain data read from the services, the engine and telemetry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from headwater.services.base import RequestContext
from headwater.services.logs.function_logs import LAMBDA_GROUP_PREFIX
from headwater.telemetry.collector import queue_depths
from headwater.telemetry.recorder import arn_parts

if TYPE_CHECKING:
    from headwater.app import Headwater
    from headwater.services.logs.store import LogEvent, LogStore


def when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def sparkline(values: Sequence[float], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for ``values`` (empty when there are fewer than two)."""
    if len(values) < 2:
        return ""
    top = max(*values, 1e-9)
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}" for i, v in enumerate(values)
    )


def _regions(hw: Headwater) -> list[str]:
    regions = {hw.env.region}
    sqs: Any = hw.existing_service("sqs")
    if sqs is not None:
        regions.update(q.region for q in queue_depths(sqs, hw.clock.now()))
    lam: Any = hw.existing_service("lambda")
    if lam is not None:
        regions.update(arn_parts(r.function_arn)[0] for r in lam.mapping_store.list())
    return sorted(r for r in regions if r)


def mappings(hw: Headwater) -> list[dict[str, Any]]:
    lam: Any = hw.existing_service("lambda")
    if lam is None:
        return []
    engine = hw.existing_engine()
    collector = hw.observability.collector
    rows = []
    for record in lam.mapping_store.list():
        config = record.config
        snapshot = None if engine is None else engine.metrics(record.uuid)
        values = {} if snapshot is None else snapshot.as_dict()
        history = [] if collector is None else list(collector.mapping_history.get(record.uuid, []))
        rows.append(
            {
                "uuid": record.uuid,
                "source": arn_parts(record.source_arn)[2],
                "source_arn": record.source_arn,
                "kind": record.source_arn.split(":")[2],
                "function": record.function_name,
                "state": record.state,
                "batch_size": config.batch_size,
                "window": config.window_seconds,
                "last_result": record.processing_result or "",
                "polled": values.get("PolledEventCount", 0),
                "invoked": values.get("InvokedEventCount", 0),
                "errors": values.get("Errors", 0),
                "age": values.get("IteratorAge") or values.get("ApproximateAgeOfOldestMessage"),
                "throughput": sparkline([p.get("InvokedEventCount", 0.0) for _, p in history]),
                "age_line": sparkline([p.get("age", 0.0) for _, p in history]),
            }
        )
    return rows


def queues(hw: Headwater) -> list[dict[str, Any]]:
    sqs: Any = hw.existing_service("sqs")
    if sqs is None:
        return []
    depths = queue_depths(sqs, hw.clock.now())
    sources: dict[str, list[str]] = {}
    for depth in depths:
        if depth.dlq_arn:
            sources.setdefault(depth.dlq_arn, []).append(depth.name)
    collector = hw.observability.collector
    rows = []
    for depth in depths:
        history = (
            [] if collector is None else [v for _, v in collector.queue_history.get(depth.arn, [])]
        )
        rows.append(
            {
                "name": depth.name,
                "arn": depth.arn,
                "region": depth.region,
                "visible": depth.visible,
                "in_flight": depth.not_visible,
                "delayed": depth.delayed,
                "oldest": round(depth.oldest_age, 1),
                "dlq": depth.dlq_arn.rsplit(":", 1)[-1] if depth.dlq_arn else "",
                "sources": sources.get(depth.arn, []),
                "is_dlq": depth.is_dlq,
                "depth_line": sparkline([float(v) for v in history]),
            }
        )
    return rows


def streams(hw: Headwater) -> list[dict[str, Any]]:
    kinesis: Any = hw.existing_service("kinesis")
    if kinesis is None:
        return []
    from headwater.services.kinesis.sequence import decode_sequence
    from headwater.store.checkpoints import open_checkpoint_store

    lam: Any = hw.existing_service("lambda")
    checkpoints = open_checkpoint_store(hw.database)
    rows = []
    for region in _regions(hw):
        for stream in kinesis.store.list_streams(region, hw.env.account):
            mapping_ids = [] if lam is None else [
                r.uuid for r in lam.mapping_store.list(source_arn=stream.arn)
            ]  # fmt: skip
            shards = []
            for shard in kinesis.store.shards(stream.arn):
                entry: dict[str, Any] = {
                    "id": shard.shard_id,
                    "open": shard.closed_at is None,
                    "records": shard.last_counter,
                    "checkpoints": [],
                }
                for uuid in mapping_ids:
                    found = checkpoints.get(uuid, shard.shard_id)
                    done = 0
                    if found is not None and found.sequence_number:
                        decoded = decode_sequence(found.sequence_number)
                        done = 0 if decoded is None else decoded.counter
                    entry["checkpoints"].append(
                        {"mapping": uuid, "lag": max(0, shard.last_counter - done)}
                    )
                shards.append(entry)
            rows.append({"name": stream.name, "region": region, "shards": shards})
    return rows


def functions(hw: Headwater) -> list[dict[str, Any]]:
    lam: Any = hw.existing_service("lambda")
    if lam is None:
        return []
    logs = log_store(hw)
    rows = []
    for region in _regions(hw):
        ctx = RequestContext(region=region, account=hw.env.account)
        for fn in lam.call("ListFunctions", {}, ctx).get("Functions", []):
            recent = (
                []
                if logs is None
                else invocations(logs, hw.env.account, region, fn["FunctionName"], 5)
            )
            rows.append(
                {"name": fn["FunctionName"], "region": region, "runtime": fn.get("Runtime"),
                 "recent": recent}
            )  # fmt: skip
    return rows


def alarms(hw: Headwater) -> list[dict[str, Any]]:
    cw: Any = hw.existing_service("cloudwatch")
    if cw is None:
        return []
    rows: list[dict[str, Any]] = cw.alarms_overview()
    for row in rows:
        row["updated"] = when(row["updated"])
    return rows


# ---- logs ----


def log_store(hw: Headwater) -> LogStore | None:
    service: Any = hw.existing_service("logs")
    return None if service is None else service.log_store


def _group_events(
    store: LogStore, account: str, region: str, name: str, limit: int
) -> list[LogEvent]:
    group = store.get_group(account, region, LAMBDA_GROUP_PREFIX + name)
    if group is None:
        return []
    events: list[LogEvent] = []
    after: tuple[int, int] | None = None
    while True:
        batch = store.events(group, after=after, limit=5000)
        if not batch:
            break
        events.extend(batch)
        events = events[-limit:]
        after = (batch[-1].timestamp, batch[-1].seq)
    return events


def function_log(hw: Headwater, region: str, name: str, limit: int = 300) -> list[dict[str, Any]]:
    store = log_store(hw)
    if store is None:
        return []
    return [
        {"at": when(e.timestamp / 1000), "stream": e.stream_name, "message": e.message.rstrip("\n")}
        for e in _group_events(store, hw.env.account, region, name, limit)
    ]


def invocations(
    store: LogStore, account: str, region: str, name: str, count: int
) -> list[dict[str, str]]:
    """The last ``count`` invocations (request id, REPORT summary) of a function."""
    found = []
    for event in reversed(_group_events(store, account, region, name, 2000)):
        if event.message.startswith("REPORT RequestId: "):
            parts = event.message.rstrip("\t\n").split("\t")
            found.append(
                {"request_id": parts[0].split(": ", 1)[1], "summary": "  ".join(parts[1:3]),
                 "at": when(event.timestamp / 1000)}
            )  # fmt: skip
            if len(found) >= count:
                break
    return found


def invocation_lines(hw: Headwater, function_arn: str, request_id: str) -> list[str]:
    """The log lines one invocation wrote, START to REPORT."""
    store = log_store(hw)
    if store is None or not request_id:
        return []
    region, account, name = arn_parts(function_arn)
    events = _group_events(store, account or hw.env.account, region or hw.env.region, name, 20000)
    lines: list[str] = []
    stream = None
    for event in events:
        if stream is None:
            if event.message.startswith(f"START RequestId: {request_id}"):
                stream = event.stream_name
                lines.append(event.message.rstrip("\n"))
            continue
        if event.stream_name != stream:
            continue
        lines.append(event.message.rstrip("\n"))
        if event.message.startswith(f"REPORT RequestId: {request_id}"):
            break
    return lines


def journey(hw: Headwater, record_id: str) -> list[dict[str, Any]]:
    steps = []
    for step in hw.observability.journey(record_id):
        item = step.as_dict()
        item["when"] = when(step.at)
        item["where"] = arn_parts(step.place)[2] if step.place.startswith("arn:") else step.place
        if step.kind == "invoked":
            item["lines"] = invocation_lines(hw, step.place, step.detail.get("request_id", ""))
        steps.append(item)
    return steps


def recent_records(
    hw: Headwater, kinds: Iterable[str] = ("dead-letter", "invoked")
) -> list[dict[str, Any]]:
    journeys = None if hw.observability.recorder is None else hw.observability.recorder.journeys
    if journeys is None:
        return []
    hw.observability.flush()
    seen: set[str] = set()
    rows = []
    for step in journeys.recent(200, list(kinds)):
        if step.record_id in seen:
            continue
        seen.add(step.record_id)
        rows.append(
            {"id": step.record_id, "kind": step.kind, "when": when(step.at),
             "where": arn_parts(step.place)[2], "outcome": step.detail.get("outcome", "")}
        )  # fmt: skip
        if len(rows) >= 15:
            break
    return rows
