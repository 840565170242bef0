"""Event filtering throughput: compiled EventBridge patterns and 5-filter FilterCriteria.

Run: .venv/bin/python benchmarks/filtering.py [--events N] [--repeat R]

Prints events/s (wall) and CPU microseconds per event, best of R runs, for
  (a) a 3-field pattern (prefix, numeric range, anything-but) on ~1 KB events,
      with JSON parsing excluded (events already dicts) and included (orjson.loads per event);
  (b) a 5-filter FilterCriteria on ~1 KB SQS records, body decoding excluded
      (RecordFilter.keep_prepared on prepared views) and included (record JSON -> keep());
and, in the same run, two comparisons: a naive recursive interpreter that walks the pattern on
every event (no compilation), and the cost of orjson.loads alone (the parsing ceiling).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from headwater.filtering import compile_filter_criteria, compile_pattern

PATTERN_A: dict[str, Any] = {
    "detail": {
        "region": [{"prefix": "us-"}],
        "amount": [{"numeric": [">=", 100, "<", 5000]}],
        "state": [{"anything-but": ["cancelled", "failed"]}],
    }
}

FILTERS_B = [
    {"body": {"type": ["order.created", "order.updated"]}},
    {"body": {"amount": [{"numeric": [">", 9000]}], "currency": ["EUR"]}},
    {"messageAttributes": {"tenant": {"stringValue": ["acme"]}}},
    {"body": {"region": [{"prefix": "eu-"}], "priority": ["high"]}},
    {"body": {"customer": {"tier": [{"anything-but": ["free", "trial"]}]}}},
]

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
STATES = ["pending", "processing", "cancelled", "failed", "done"]
TYPES = ["order.created", "order.updated", "order.deleted", "invoice.sent"]
TIERS = ["free", "trial", "pro", "enterprise"]


def _filler(rng: random.Random, size: int) -> dict[str, Any]:
    # Unrelated fields so that events are ~1 KB, like real payloads.
    fields: dict[str, Any] = {}
    i = 0
    while len(orjson.dumps(fields)) < size:
        fields[f"attr{i}"] = "".join(rng.choice("abcdefghijklmnop") for _ in range(24))
        i += 1
    return fields


def make_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """~1 KB EventBridge-shaped events; about a third match PATTERN_A."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        detail = {
            "region": rng.choice(REGIONS),
            "amount": rng.choice([rng.randint(0, 9999), rng.random() * 6000]),
            "state": rng.choice(STATES),
            "tags": ["a", "b", "c"],
            **_filler(rng, 760),
        }
        events.append(
            {
                "version": "0",
                "id": f"6a7e8feb-b491-4cf7-a9f1-{i:012d}",
                "detail-type": "Order Changed",
                "source": "com.example.orders",
                "account": "111111111111",
                "time": "2026-11-25T07:00:00Z",
                "region": "us-east-1",
                "resources": [],
                "detail": detail,
            }
        )
    return events


def make_sqs_records(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """~1 KB Lambda SQS records with JSON bodies (some plain-text bodies too)."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        body_obj = {
            "type": rng.choice(TYPES),
            "amount": rng.randint(0, 10000),
            "currency": rng.choice(["EUR", "USD"]),
            "region": rng.choice(REGIONS),
            "priority": rng.choice(["low", "high"]),
            "customer": {"id": f"c-{i}", "tier": rng.choice(TIERS)},
            **_filler(rng, 420),
        }
        body = orjson.dumps(body_obj).decode() if i % 10 else "plain text body " * 20
        records.append(
            {
                "messageId": f"c80e8021-a70a-42c7-a470-{i:012d}",
                "receiptHandle": "AQEB" + "x" * 60,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000123",
                    "SenderId": "AIDAEXAMPLEEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1700000000125",
                },
                "messageAttributes": {
                    "tenant": {
                        "stringValue": rng.choice(["acme", "globex", "initech"]),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "String",
                    }
                },
                "md5OfMessageAttributes": "b2a8b748da069d4122d03a0ee1add5fb",
                "md5OfBody": "c9aebcecbb57326f8b71449db13c6561",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:orders",
                "awsRegion": "us-east-1",
            }
        )
    return records


# -- the comparison: a naive interpreter that re-reads the pattern for every event -------------
def naive_matches(pattern: dict[str, Any], event: Any) -> bool:
    """Straightforward recursive evaluation (exact, prefix, numeric, anything-but only)."""
    for key, rule in pattern.items():
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not naive_matches(rule, value):
                return False
            continue
        values = value if isinstance(value, list) else [value]
        if not any(_naive_leaf(r, v) for r in rule for v in values if key in event):
            return False
    return True


def _naive_leaf(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return bool(rule == value and type(rule) is type(value))
    op, arg = next(iter(rule.items()))
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        return value not in excluded
    if op == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        ops = {
            ">": value.__gt__,
            ">=": value.__ge__,
            "<": value.__lt__,
            "<=": value.__le__,
            "=": value.__eq__,
        }
        return all(ops[arg[i]](arg[i + 1]) for i in range(0, len(arg), 2))
    raise ValueError(op)


# -- timing ------------------------------------------------------------------------------------
def measure(label: str, run: Callable[[], int], n: int, repeat: int) -> tuple[float, float, int]:
    """Best-of-repeat wall time and CPU time; prints events/s and CPU us/event."""
    best_wall = best_cpu = float("inf")
    hits = 0
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        hits = run()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    rate = n / best_wall
    print(
        f"  {label:<58} {rate:>12,.0f} events/s   {best_cpu / n * 1e6:7.2f} CPU us/event"
        f"   ({hits}/{n} kept)"
    )
    return rate, best_cpu, hits


def loop(test: Callable[[Any], bool], items: Sequence[Any]) -> Callable[[], int]:
    def run() -> int:
        kept = 0
        for item in items:
            if test(item):
                kept += 1
        return kept

    return run


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    n, repeat = args.events, args.repeat

    events = make_events(n)
    texts = [orjson.dumps(e) for e in events]
    size = sum(len(t) for t in texts) / n
    matcher = compile_pattern(PATTERN_A)

    print(
        f"(a) 3-field pattern (prefix, numeric range, anything-but), {n:,} events, "
        f"{size:,.0f} bytes each, best of {repeat}"
    )
    print(f"    pattern: {orjson.dumps(PATTERN_A).decode()}")
    rate_a, _, hits = measure(
        "compiled matcher, parsing excluded", loop(matcher.matches, events), n, repeat
    )
    matching = [e for e in events if matcher.matches(e)]
    measure(
        "compiled matcher, matching events only (all 3 fields tested)",
        loop(matcher.matches, matching),
        len(matching),
        repeat,
    )
    measure(
        "compiled matcher, parsing included (orjson.loads + match)",
        loop(lambda t: matcher.matches(orjson.loads(t)), texts),
        n,
        repeat,
    )
    naive_hits = 0

    def naive_run() -> int:
        nonlocal naive_hits
        naive_hits = sum(1 for e in events if naive_matches(PATTERN_A, e))
        return naive_hits

    measure("comparison: naive recursive interpreter, parsing excluded", naive_run, n, repeat)
    measure(
        "comparison: orjson.loads alone (parsing ceiling)", loop(orjson.loads, texts), n, repeat
    )
    if naive_hits != hits:
        print(f"  !! naive interpreter disagrees: {naive_hits} vs {hits}")
    print(
        f"  target >= 200,000 events/s for (a) excluding parsing: "
        f"{'met' if rate_a >= 200_000 else 'NOT met'} ({rate_a:,.0f})"
    )

    records = make_sqs_records(n)
    record_texts = [orjson.dumps(r) for r in records]
    rsize = sum(len(t) for t in record_texts) / n
    criteria = {"Filters": [{"Pattern": orjson.dumps(f).decode()} for f in FILTERS_B]}
    record_filter = compile_filter_criteria(criteria, "sqs")
    prepared = [record_filter.prepare(r) for r in records]
    print()
    print(
        f"(b) 5-filter FilterCriteria on SQS records, {n:,} records, {rsize:,.0f} bytes each, "
        f"best of {repeat}"
    )
    measure(
        "RecordFilter.keep_prepared, body decoding excluded",
        loop(lambda p: record_filter.keep_prepared(p[0], p[1]), prepared),
        n,
        repeat,
    )
    measure(
        "RecordFilter.keep(record), body JSON parsing included",
        loop(record_filter.keep, records),
        n,
        repeat,
    )
    measure(
        "record JSON text -> orjson.loads -> keep()",
        loop(lambda t: record_filter.keep(orjson.loads(t)), record_texts),
        n,
        repeat,
    )
    bodies = [r["body"] for r in records]

    def parse_bodies() -> int:
        for body in bodies:
            with contextlib.suppress(orjson.JSONDecodeError):
                orjson.loads(body)
        return 0

    measure("comparison: orjson.loads of the bodies alone", parse_bodies, n, repeat)


if __name__ == "__main__":
    main()
