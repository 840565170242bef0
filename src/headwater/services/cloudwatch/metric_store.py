"""Where CloudWatch metrics live: one portable-SQL store over ``db.conn``.

A metric is (account, region, namespace, name, dimensions). Its data is kept as one
statistic set per (resolution, bucket start, unit). New data lands at 1 s (high
resolution) or 60 s buckets; ``roll_up`` applies CloudWatch's retention tiers on the
headwater clock: 1 s data for 3 hours, 60 s for 15 days, 5 min for 63 days, 1 hour for
455 days, merging each tier's expired buckets into the next coarser one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from headwater.services.cloudwatch.aggregate import Aggregate
from headwater.store.database import Database

Dimensions = tuple[tuple[str, str], ...]

#: (resolution seconds, kept for seconds, next coarser resolution or None: deleted).
RETENTION_TIERS: tuple[tuple[int, float, int | None], ...] = (
    (1, 3 * 3600.0, 60),
    (60, 15 * 86400.0, 300),
    (300, 63 * 86400.0, 3600),
    (3600, 455 * 86400.0, None),
)

_MIGRATIONS = [
    """
    CREATE TABLE cw_metrics (
        metric_key TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        namespace TEXT NOT NULL,
        metric_name TEXT NOT NULL,
        dimensions TEXT NOT NULL,
        last_put REAL NOT NULL
    );
    CREATE INDEX cw_metrics_name ON cw_metrics(region, namespace, metric_name);
    CREATE TABLE cw_data (
        metric_key TEXT NOT NULL,
        resolution INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        unit TEXT NOT NULL,
        sample_count REAL NOT NULL,
        total REAL NOT NULL,
        minimum REAL NOT NULL,
        maximum REAL NOT NULL,
        value_table TEXT,
        PRIMARY KEY (metric_key, resolution, ts, unit)
    );
    CREATE INDEX cw_data_age ON cw_data(resolution, ts)
    """,
]


@dataclass(frozen=True, slots=True)
class MetricId:
    """One metric's identity."""

    account: str
    region: str
    namespace: str
    name: str
    dimensions: Dimensions

    @property
    def key(self) -> str:
        dims = "\x1e".join(f"{n}\x1d{v}" for n, v in self.dimensions)
        return "\x1f".join((self.account, self.region, self.namespace, self.name, dims))


def dimensions_of(items: Iterable[dict[str, str]] | None) -> Dimensions:
    """boto3 ``[{"Name":..., "Value":...}]`` as the sorted tuple metric ids use."""
    return tuple(sorted((d["Name"], d["Value"]) for d in items or ()))


@dataclass(frozen=True, slots=True)
class DataRow:
    """One stored bucket."""

    metric_key: str
    resolution: int
    ts: int
    unit: str
    aggregate: Aggregate


class MetricStore:
    """Metric identities and their buckets; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudwatch_metrics", _MIGRATIONS)

    # ---- writes ----

    def put(
        self,
        items: Iterable[tuple[MetricId, int, int, str, Aggregate]],
        now: float,
    ) -> None:
        """Merge ``(metric, resolution, bucket start, unit, aggregate)`` items into the store."""
        conn = self.db.conn
        # Rows are locked in key order: two nodes flushing the same metrics in different
        # orders would otherwise deadlock on PostgreSQL (each holding a row the other needs).
        ordered = sorted(items, key=lambda item: (item[0].key, item[1], item[2], item[3]))
        with self.db.transaction():
            seen: set[str] = set()
            for metric, resolution, ts, unit, aggregate in ordered:
                key = metric.key
                if key not in seen:
                    seen.add(key)
                    conn.execute(
                        "INSERT INTO cw_metrics(metric_key, account, region, namespace,"
                        " metric_name, dimensions, last_put) VALUES (?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (metric_key) DO UPDATE SET last_put = excluded.last_put",
                        (
                            key,
                            metric.account,
                            metric.region,
                            metric.namespace,
                            metric.name,
                            orjson.dumps(metric.dimensions).decode(),
                            now,
                        ),
                    )
                self._merge_bucket(key, resolution, ts, unit, aggregate)

    def _merge_bucket(
        self, key: str, resolution: int, ts: int, unit: str, aggregate: Aggregate
    ) -> None:
        conn = self.db.conn
        row = conn.execute(
            "SELECT sample_count, total, minimum, maximum, value_table FROM cw_data"
            " WHERE metric_key = ? AND resolution = ? AND ts = ? AND unit = ?",
            (key, resolution, ts, unit),
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO cw_data(metric_key, resolution, ts, unit, sample_count, total,"
                " minimum, maximum, value_table) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    resolution,
                    ts,
                    unit,
                    aggregate.count,
                    aggregate.total,
                    aggregate.minimum,
                    aggregate.maximum,
                    aggregate.encode_values(),
                ),
            )
            return
        stored = Aggregate(row[0], row[1], row[2], row[3], Aggregate.decode_values(row[4]))
        stored.merge(aggregate)
        conn.execute(
            "UPDATE cw_data SET sample_count = ?, total = ?, minimum = ?, maximum = ?,"
            " value_table = ? WHERE metric_key = ? AND resolution = ? AND ts = ? AND unit = ?",
            (
                stored.count,
                stored.total,
                stored.minimum,
                stored.maximum,
                stored.encode_values(),
                key,
                resolution,
                ts,
                unit,
            ),
        )

    # ---- reads ----

    def metrics(
        self,
        account: str,
        region: str,
        namespace: str | None = None,
        name: str | None = None,
        active_since: float | None = None,
    ) -> list[tuple[MetricId, float]]:
        """Metrics of a region (optionally of one namespace / name / recently put)."""
        sql = (
            "SELECT namespace, metric_name, dimensions, last_put FROM cw_metrics"
            " WHERE account = ? AND region = ?"
        )
        args: list[object] = [account, region]
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        if name is not None:
            sql += " AND metric_name = ?"
            args.append(name)
        if active_since is not None:
            sql += " AND last_put >= ?"
            args.append(active_since)
        sql += " ORDER BY namespace, metric_name, dimensions"
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        return [
            (MetricId(account, region, ns, metric_name, _decode_dimensions(dims)), last_put)
            for ns, metric_name, dims, last_put in rows
        ]

    def rows(self, metric: MetricId, start: float, end: float) -> list[DataRow]:
        """The metric's buckets that start in ``[start, end)``, any resolution or unit."""
        with self.db.transaction():
            found = self.db.conn.execute(
                "SELECT resolution, ts, unit, sample_count, total, minimum, maximum,"
                " value_table FROM cw_data WHERE metric_key = ? AND ts >= ? AND ts < ?"
                " ORDER BY ts",
                (metric.key, int(start) - 3600, end),
            ).fetchall()
        return [
            DataRow(
                metric.key,
                resolution,
                ts,
                unit,
                Aggregate(count, total, low, high, Aggregate.decode_values(values)),
            )
            for resolution, ts, unit, count, total, low, high, values in found
            if ts >= start or ts + resolution > start
        ]

    # ---- retention ----

    def roll_up(self, now: float) -> int:
        """Apply the retention tiers at clock time ``now``; returns buckets rewritten."""
        conn = self.db.conn
        changed = 0
        with self.db.transaction():
            for resolution, keep, coarser in RETENTION_TIERS:
                cutoff = int(now - keep)
                expired = conn.execute(
                    "SELECT metric_key, ts, unit, sample_count, total, minimum, maximum,"
                    " value_table FROM cw_data WHERE resolution = ? AND ts < ?",
                    (resolution, cutoff),
                ).fetchall()
                if not expired:
                    continue
                conn.execute(
                    "DELETE FROM cw_data WHERE resolution = ? AND ts < ?", (resolution, cutoff)
                )
                changed += len(expired)
                if coarser is None:
                    continue
                for key, ts, unit, count, total, low, high, values in expired:
                    aggregate = Aggregate(count, total, low, high, Aggregate.decode_values(values))
                    self._merge_bucket(key, coarser, ts - ts % coarser, unit, aggregate)
            conn.execute(
                "DELETE FROM cw_metrics WHERE last_put < ? AND NOT EXISTS"
                " (SELECT 1 FROM cw_data WHERE cw_data.metric_key = cw_metrics.metric_key)",
                (now - RETENTION_TIERS[-1][1],),
            )
        return changed


def _decode_dimensions(text: str) -> Dimensions:
    return tuple((str(name), str(value)) for name, value in orjson.loads(text))


def bucket_start(timestamp: float, resolution: int) -> int:
    """Start of the ``resolution``-second bucket holding ``timestamp``."""
    whole = int(timestamp)
    return whole - whole % resolution


def units_of(rows: Sequence[DataRow]) -> list[str]:
    return sorted({row.unit for row in rows})
