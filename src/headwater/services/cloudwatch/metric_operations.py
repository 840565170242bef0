"""PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from headwater.core.paging import OffsetTokens
from headwater.core.values import as_datetime, as_epoch_seconds
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.cloudwatch import errors
from headwater.services.cloudwatch.aggregate import BASIC_STATISTICS, Aggregate, is_statistic
from headwater.services.cloudwatch.metric_math import (
    MathError,
    Scope,
    Value,
    evaluate,
    finite,
    parse,
    references,
)
from headwater.services.cloudwatch.metric_store import (
    RETENTION_TIERS,
    MetricId,
    MetricStore,
    bucket_start,
    dimensions_of,
)
from headwater.services.cloudwatch.series import (
    QueryGrid,
    Series,
    aligned_start,
    bucketed,
    datapoint_count,
    statistic_series,
)

MAX_STATISTICS_DATAPOINTS = 1440
MAX_METRIC_DATA_DATAPOINTS = 100_800
LIST_METRICS_PAGE = 500
#: RecentlyActive=PT3H: metrics that got data in the last three hours.
RECENTLY_ACTIVE_SECONDS = 3 * 3600.0
MAX_PAST_SECONDS = 14 * 86400.0
MAX_FUTURE_SECONDS = 2 * 3600.0


class MetricOperations(Service):
    """The metrics half of CloudWatch over a ``MetricStore``."""

    metric_store: MetricStore
    #: Called before every read, so buffered built-in metrics are visible to it.
    read_hooks: list[Callable[[], None]]

    def flush_pending(self) -> None:
        for hook in self.read_hooks:
            hook()

    # ---- writes ----

    @operation("PutMetricData")
    def put_metric_data(self, params: Params, ctx: RequestContext) -> Result:
        namespace: str = params["Namespace"]
        if namespace.startswith("AWS/") or not namespace or ":" in namespace:
            raise errors.invalid_value(f"The value {namespace} for parameter Namespace is invalid.")
        now = self.env.clock.now()
        items: list[tuple[MetricId, int, int, str, Aggregate]] = []
        for index, datum in enumerate(params.get("MetricData") or (), start=1):
            items.append(self._datum(ctx, namespace, index, datum, now))
        if items:
            self.metric_store.put(items, now)
        return {}

    def _datum(
        self, ctx: RequestContext, namespace: str, index: int, datum: Mapping[str, Any], now: float
    ) -> tuple[MetricId, int, int, str, Aggregate]:
        where = f"MetricData.member.{index}"
        has_value = datum.get("Value") is not None
        values = datum.get("Values")
        stats = datum.get("StatisticValues")
        if has_value and values is not None:
            raise errors.invalid_combination(
                f"The parameters {where}.Value and {where}.Values are mutually exclusive and "
                "you have specified both."
            )
        if has_value and stats is not None:
            raise errors.invalid_combination(
                f"The parameters {where}.Value and {where}.StatisticValues are mutually "
                "exclusive and you have specified both."
            )
        if values is not None and stats is not None:
            raise errors.invalid_combination(
                f"The parameters {where}.Values and {where}.StatisticValues are mutually "
                "exclusive and you have specified both."
            )
        counts = datum.get("Counts")
        if counts is not None and (values is None or len(counts) != len(values)):
            raise errors.invalid_value(
                f"The parameters {where}.Values and {where}.Counts must be of the same size."
            )
        if values is not None and len(values) > 150:
            raise errors.invalid_value(
                f"The collection {where}.Values must not have a size greater than 150."
            )
        dimensions = datum.get("Dimensions") or []
        if len(dimensions) > 30:
            raise errors.invalid_value(
                f"The collection {where}.Dimensions must not have a size greater than 30."
            )
        timestamp = now
        if datum.get("Timestamp") is not None:
            timestamp = as_epoch_seconds(datum["Timestamp"])
            if timestamp < now - MAX_PAST_SECONDS:
                raise errors.invalid_value(
                    f"The parameter {where}.Timestamp must specify a time no more than two "
                    "weeks in the past."
                )
            if timestamp > now + MAX_FUTURE_SECONDS:
                raise errors.invalid_value(
                    f"The parameter {where}.Timestamp must specify a time no more than two "
                    "hours in the future."
                )
        aggregate = _aggregate_of(where, datum, values, counts, stats)
        resolution = 1 if datum.get("StorageResolution") == 1 else 60
        metric = MetricId(
            ctx.account, ctx.region, namespace, datum["MetricName"], dimensions_of(dimensions)
        )
        unit = datum.get("Unit") or "None"
        return metric, resolution, bucket_start(timestamp, resolution), unit, aggregate

    # ---- GetMetricStatistics ----

    @operation("GetMetricStatistics")
    def get_metric_statistics(self, params: Params, ctx: RequestContext) -> Result:
        statistics: list[str] = list(params.get("Statistics") or [])
        extended: list[str] = list(params.get("ExtendedStatistics") or [])
        if not statistics and not extended:
            raise errors.invalid_combination(
                "Must specify either Statistics or ExtendedStatistics, but not both."
            )
        for name in extended:
            if not is_statistic(name) or name in BASIC_STATISTICS:
                raise errors.invalid_value(
                    f"The value {name} for parameter ExtendedStatistics is not supported."
                )
        start, end = _time_range(params)
        period = _period(params.get("Period"))
        count = datapoint_count(start, end, period)
        if count > MAX_STATISTICS_DATAPOINTS:
            raise errors.invalid_combination(
                f"You have requested up to {count} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by "
                "increasing Period, or decreasing the time range."
            )
        self.flush_pending()
        metric = MetricId(
            ctx.account,
            ctx.region,
            params["Namespace"],
            params["MetricName"],
            dimensions_of(params.get("Dimensions")),
        )
        now = self.env.clock.now()
        rows = self.metric_store.rows(metric, start, end)
        wanted_unit = params.get("Unit")
        datapoints = []
        for (ts, unit), aggregate in bucketed(rows, QueryGrid(start, end, period, now)).items():
            if wanted_unit is not None and unit != wanted_unit:
                continue
            point: dict[str, Any] = {"Timestamp": as_datetime(ts), "Unit": unit}
            for name in statistics:
                value = aggregate.statistic(name)
                if value is not None:
                    point[name] = value
            if extended:
                found = {n: v for n in extended if (v := aggregate.statistic(n)) is not None}
                point["ExtendedStatistics"] = found
            datapoints.append(point)
        return {"Label": params["MetricName"], "Datapoints": datapoints}

    # ---- GetMetricData ----

    @operation("GetMetricData")
    def get_metric_data(self, params: Params, ctx: RequestContext) -> Result:
        queries: list[dict[str, Any]] = list(params.get("MetricDataQueries") or [])
        if len(queries) > 500:
            raise errors.invalid_value(
                "The collection MetricDataQueries must not have a size greater than 500."
            )
        if (params.get("MaxDatapoints") or 0) < 0:
            # botocore sends any integer: a negative one made the NextToken's offset
            # negative, and one past 64 bits raised TypeError from its JSON.
            raise errors.invalid_value(
                "The parameter MaxDatapoints must be greater than or equal to 0."
            )
        start, end = _time_range(params)
        scan = params.get("ScanBy", "TimestampDescending")
        if scan not in ("TimestampDescending", "TimestampAscending"):
            raise errors.enum_violation(
                scan, "scanBy", ["TimestampDescending", "TimestampAscending"]
            )
        self.flush_pending()
        now = self.env.clock.now()
        results = self.evaluate_queries(queries, start, end, now, ctx)
        ordered = [r for r in results if r.pop("_return", True)]
        for result in ordered:
            pairs = sorted(result.pop("_series").items(), reverse=scan == "TimestampDescending")
            result["Timestamps"] = [as_datetime(ts) for ts, _ in pairs]
            result["Values"] = [v for _, v in pairs]
        return _page(ordered, params)

    def evaluate_queries(
        self,
        queries: Sequence[Mapping[str, Any]],
        start: float,
        end: float,
        now: float,
        ctx: RequestContext,
    ) -> list[dict[str, Any]]:
        """Results (``Id``, ``Label``, ``_series``, ``_return``...) of MetricDataQueries."""
        ids = [q.get("Id", "") for q in queries]
        if len(set(ids)) != len(ids):
            raise errors.validation(
                "The values for parameter id in MetricDataQueries are not unique."
            )
        labels = _default_labels(queries)
        values: dict[str, Value] = {}
        results: list[dict[str, Any]] = []
        metric_ids: list[str] = []
        expressions: list[tuple[int, Mapping[str, Any]]] = []
        for index, query in enumerate(queries):
            qid = query["Id"]
            result: dict[str, Any] = {"Id": qid, "StatusCode": "Complete"}
            result["_return"] = query.get("ReturnData", True) is not False
            results.append(result)
            if query.get("MetricStat") is not None and query.get("Expression") is not None:
                raise errors.validation(
                    f"The parameter MetricDataQueries.member.{index + 1} must contain either "
                    "MetricStat or Expression, but not both."
                )
            stat = query.get("MetricStat")
            if stat is None:
                if query.get("Expression") is None:
                    raise errors.validation(
                        f"The parameter MetricDataQueries.member.{index + 1} must contain "
                        "either Expression or MetricStat."
                    )
                expressions.append((index, query))
                continue
            metric_ids.append(qid)
            series, units = self._metric_stat_series(stat, start, end, now, ctx)
            values[qid] = series
            result["Label"] = query.get("Label") or labels[index]
            result["_series"] = series
            if len(units) > 1 and stat.get("Unit") is None:
                result["Messages"] = [
                    {
                        "Code": "MultipleUnits",
                        "Value": f"Multiple units returned: '[{', '.join(units)}]'",
                    }
                ]
        self._evaluate_expressions(expressions, results, values, metric_ids, (start, end, now))
        return results

    def _metric_stat_series(
        self,
        stat: Mapping[str, Any],
        start: float,
        end: float,
        now: float,
        ctx: RequestContext,
    ) -> tuple[Series, list[str]]:
        metric = stat["Metric"]
        statistic = stat["Stat"]
        if not is_statistic(statistic):
            raise errors.invalid_value(
                f"The value {statistic} for parameter Stat is not supported."
            )
        metric_id = MetricId(
            ctx.account,
            ctx.region,
            metric.get("Namespace", ""),
            metric.get("MetricName", ""),
            dimensions_of(metric.get("Dimensions")),
        )
        period = _period(stat.get("Period"))
        rows = self.metric_store.rows(metric_id, start, end)
        grid = QueryGrid(start, end, period, now)
        return statistic_series(rows, grid, statistic, stat.get("Unit"))

    def _evaluate_expressions(
        self,
        expressions: list[tuple[int, Mapping[str, Any]]],
        results: list[dict[str, Any]],
        values: dict[str, Value],
        metric_ids: list[str],
        window: tuple[float, float, float],
    ) -> None:
        start, end, now = window
        pending = list(expressions)
        while pending:
            progressed = False
            for item in list(pending):
                index, query = item
                try:
                    node = parse(query["Expression"])
                except MathError as error:
                    raise errors.validation(
                        f"Error in expression '{query['Id']}': {error}"
                    ) from None
                needed = references(node) - {"REPEAT", "LINEAR"}
                if not needed <= values.keys():
                    continue
                period = int(query.get("Period") or 60)
                grid = _expression_grid(start, end, period, now)
                try:
                    value = evaluate(node, Scope(values, metric_ids, grid))
                except MathError as error:
                    raise errors.validation(
                        f"Error in expression '{query['Id']}': {error}"
                    ) from None
                series = _as_single_series(value, values, needed, grid)
                values[query["Id"]] = value if isinstance(value, dict | list) else series
                result = results[index]
                result["Label"] = query.get("Label") or query["Id"]
                result["_series"] = finite(series)
                pending.remove(item)
                progressed = True
            if not progressed:
                ids = ", ".join(q["Id"] for _, q in pending)
                raise errors.validation(
                    f"Metric math expressions reference unknown or circular ids: {ids}"
                )

    # ---- ListMetrics ----

    @operation("ListMetrics")
    def list_metrics(self, params: Params, ctx: RequestContext) -> Result:
        self.flush_pending()
        active_since = None
        if params.get("RecentlyActive") is not None:
            if params["RecentlyActive"] != "PT3H":
                raise errors.enum_violation(params["RecentlyActive"], "recentlyActive", ["PT3H"])
            active_since = self.env.clock.now() - RECENTLY_ACTIVE_SECONDS
        found = self.metric_store.metrics(
            ctx.account,
            ctx.region,
            params.get("Namespace"),
            params.get("MetricName"),
            active_since,
        )
        filters = params.get("Dimensions") or []
        metrics = [
            {
                "Namespace": metric.namespace,
                "MetricName": metric.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions],
            }
            for metric, _ in found
            if _dimensions_match(metric.dimensions, filters)
        ]
        page, token = _TOKENS.page(metrics, params.get("NextToken"), LIST_METRICS_PAGE)
        result: Result = {"Metrics": page}
        if token:
            result["NextToken"] = token
        return result


def _aggregate_of(
    where: str,
    datum: Mapping[str, Any],
    values: Sequence[float] | None,
    counts: Sequence[float] | None,
    stats: Mapping[str, float] | None,
) -> Aggregate:
    if stats is not None:
        return Aggregate.of_statistics(
            *(
                finite_parameter(stats[name], f"{where}.StatisticValues.{name}")
                for name in ("SampleCount", "Sum", "Minimum", "Maximum")
            )
        )
    if values is not None:
        if not values:
            raise errors.invalid_value(f"The parameter {where}.Values must not be empty.")
        weights = counts if counts is not None else [1.0] * len(values)
        aggregate: Aggregate | None = None
        for index, (raw_value, raw_count) in enumerate(zip(values, weights, strict=True), 1):
            value = finite_parameter(raw_value, f"{where}.Values.member.{index}")
            count = finite_parameter(raw_count, f"{where}.Counts.member.{index}")
            if aggregate is None:
                aggregate = Aggregate.of_value(value, count)
            else:
                aggregate.add(value, count)
        assert aggregate is not None
        return aggregate
    if datum.get("Value") is None:
        raise errors.missing_parameter(
            f"At least one of the parameters {where}.Value, {where}.Values or "
            f"{where}.StatisticValues must be specified."
        )
    return Aggregate.of_value(finite_parameter(datum["Value"], f"{where}.Value"))


def finite_parameter(number: Any, parameter: str) -> float:
    """``number`` as a float; NaN, the infinities and integers beyond a double's range
    (which botocore sends as given) are invalid values. A NaN once reached the metric
    store, whose NOT NULL columns refused it, and an alarm's Threshold, which its stored
    JSON kept as null."""
    try:
        value = float(number)
    except OverflowError:
        value = math.inf
    if math.isnan(value) or math.isinf(value):
        raise errors.invalid_value(f"The value {number} for parameter {parameter} is invalid.")
    return value


def _time_range(params: Params) -> tuple[float, float]:
    start = as_epoch_seconds(params["StartTime"])
    end = as_epoch_seconds(params["EndTime"])
    if start >= end:
        raise errors.invalid_value(
            "The parameter StartTime must be less than the parameter EndTime."
        )
    return start, end


def _period(value: Any) -> int:
    if value is None:
        raise errors.missing_parameter("The parameter Period is required.")
    period = int(value)
    if period <= 0 or (period not in (1, 5, 10, 20, 30) and period % 60):
        raise errors.invalid_value(
            "The parameter Period must be 1, 5, 10, 20, 30, or any multiple of 60."
        )
    return period


def _default_labels(queries: Sequence[Mapping[str, Any]]) -> list[str]:
    """CloudWatch's labels: the metric name, plus the statistic and/or period when other
    queries on the same metric differ in them."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for query in queries:
        stat = query.get("MetricStat")
        if stat is not None:
            groups.setdefault(_metric_key(stat), []).append(stat)
    labels: list[str] = []
    for query in queries:
        stat = query.get("MetricStat")
        if stat is None:
            labels.append(query.get("Id", ""))
            continue
        siblings = groups[_metric_key(stat)]
        label = stat["Metric"].get("MetricName", "")
        if len({s.get("Stat") for s in siblings}) > 1:
            label += f" {stat.get('Stat')}"
        if len({s.get("Period") for s in siblings}) > 1:
            label += f" {stat.get('Period')}"
        labels.append(label)
    return labels


def _metric_key(stat: Mapping[str, Any]) -> str:
    metric = stat.get("Metric", {})
    return orjson.dumps(
        [metric.get("Namespace"), metric.get("MetricName"), dimensions_of(metric.get("Dimensions"))]
    ).decode()


def _as_single_series(
    value: Value, values: Mapping[str, Value], needed: Iterable[str], grid: list[int]
) -> Series:
    """What an expression returns: a series; a scalar spreads over the referenced
    series' timestamps (or the query grid)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        if len(value) == 1:
            return value[0]
        raise errors.validation("A metric math expression must return a single time series.")
    stamps: set[int] = set()
    for name in needed:
        found = values.get(name)
        if isinstance(found, dict):
            stamps |= found.keys()
    return {ts: value for ts in sorted(stamps or grid)}


def _dimensions_match(
    dimensions: Sequence[tuple[str, str]], filters: Sequence[Mapping[str, Any]]
) -> bool:
    present = dict(dimensions)
    for wanted in filters:
        name = wanted["Name"]
        if name not in present:
            return False
        if wanted.get("Value") is not None and present[name] != wanted["Value"]:
            return False
    return True


# Tokens are {"o": n} in URL-safe base64; a negative offset in one is read as the start.
_TOKENS = OffsetTokens(
    invalid=lambda _: errors.invalid_value("The service cannot find the NextToken specified."),
    encode=lambda offset: base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode(),
    decode=lambda token: max(0, int(orjson.loads(base64.urlsafe_b64decode(token.encode()))["o"])),
)


def _expression_grid(start: float, end: float, period: int, now: float) -> list[int]:
    """The period starts a math expression is evaluated at: the query's range, cut to where
    CloudWatch can hold data (its retention behind ``now``, at most two hours ahead). A far-off
    range (year 1 to 9999, which botocore sends) once made a list of billions (MemoryError)."""
    origin = aligned_start(start, period, now)
    kept = RETENTION_TIERS[0][1] if period < 60 else RETENTION_TIERS[-1][1]
    oldest = now - kept
    if origin < oldest:
        origin += math.ceil((oldest - origin) / period) * period
    stop = min(math.ceil(end), math.ceil(now + MAX_FUTURE_SECONDS) + period)
    return list(range(origin, stop, period))


def _page(results: list[dict[str, Any]], params: Params) -> Result:
    """At most MaxDatapoints values over all results; NextToken continues after them."""
    limit = int(params.get("MaxDatapoints") or MAX_METRIC_DATA_DATAPOINTS)
    skip = _TOKENS.position(params.get("NextToken"))
    budget = limit
    more = False
    for result in results:
        timestamps, values = result["Timestamps"], result["Values"]
        dropped = min(skip, len(values))
        skip -= dropped
        timestamps, values = timestamps[dropped:], values[dropped:]
        if len(values) > budget:
            more = True
        result["Timestamps"], result["Values"] = timestamps[:budget], values[:budget]
        budget -= len(result["Values"])
    page: Result = {"MetricDataResults": results, "Messages": []}
    if more:
        page["NextToken"] = _TOKENS.encode(_TOKENS.position(params.get("NextToken")) + limit)
    return page
