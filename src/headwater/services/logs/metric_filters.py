"""Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter,
TestMetricFilter, and the metrics they make.

Each event stored in a group (PutLogEvents, and Lambda's own function logs) is matched
against the group's metric filters with the filter-pattern engine FilterLogEvents uses; a
match adds the filter's ``metricValue`` (a number, ``$.field`` of a JSON event, or
``$field``, a named field of a space-delimited pattern) to the
CloudWatch metric at the event's timestamp, with PutMetricData's semantics (namespace,
name, unit, dimensions read from the event). With a ``defaultValue``, a minute in which
events were stored but none matched gets that value once, so the metric has data for it.
Filters are cached per process and re-read when any process changes one (the store's
definition version), so storing events in a group with no filter costs no query.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.paging import OffsetTokens
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.cloudwatch.aggregate import Aggregate
from headwater.services.cloudwatch.metric_store import MetricId, MetricStore, bucket_start
from headwater.services.logs.filter_pattern import (
    FieldExtractor,
    Matcher,
    PatternError,
    compile_fields,
    compile_pattern,
    json_field,
)
from headwater.services.logs.group_operations import (
    GroupOperations,
    check_limit,
    invalid_parameter,
)
from headwater.services.logs.store import METRIC_FILTERS_VERSION, LogGroup

#: Lengths and counts from botocore's model and CloudWatch Logs' quotas.
MAX_FILTER_NAME = 512
MAX_FILTER_PATTERN = 1024
MAX_METRIC_NAME = 255
MAX_METRIC_NAMESPACE = 255
MAX_FILTERS_PER_GROUP = 100
MAX_DIMENSIONS = 3
MAX_TEST_MESSAGES = 50
_FIELD = re.compile(r"\$\.[A-Za-z0-9_\-@.\[\]]+|\$[A-Za-z0-9_]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

#: One ``MetricStore.put`` item: (metric, resolution, bucket start, unit, aggregate).
MetricItem = tuple[MetricId, int, int, str, Aggregate]


def _too_long(value: Any, member: str, maximum: int) -> AwsError:
    return invalid_parameter(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {maximum}"
    )


def check_length(value: Any, member: str, maximum: int) -> None:
    """The service's validation error for a string ``member`` longer than ``maximum``."""
    if isinstance(value, str) and len(value) > maximum:
        raise _too_long(value, member, maximum)


def _transformation_text(items: Sequence[dict[str, Any]]) -> str:
    """``metricTransformations`` as the service's validation message shows the list."""

    def one(item: dict[str, Any]) -> str:
        fields = ("metricName", "metricNamespace", "metricValue", "defaultValue", "unit")
        shown = ", ".join(f"{f}={item.get(f, 'null')}" for f in fields)
        return f"MetricTransformation({shown}, dimensions={item.get('dimensions', 'null')})"

    return "[" + ", ".join(one(item) for item in items) + "]"


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    """A stored metric filter, ready to match events."""

    account: str
    region: str
    matches: Matcher
    #: The named fields of a space-delimited pattern (None for other patterns).
    fields: FieldExtractor | None
    namespace: str
    metric_name: str
    #: A number, or a ``$.field`` / ``$field`` selector read from each matching event.
    value: str
    default: float | None
    unit: str
    dimensions: tuple[tuple[str, str], ...]

    def items(self, events: Iterable[tuple[int, str]]) -> list[MetricItem]:
        """The metric data ``events`` (``(timestamp ms, message)``) make."""
        by_bucket: dict[tuple[tuple[tuple[str, str], ...], int], Aggregate] = {}
        quiet_minutes: set[int] = set()
        busy_minutes: set[int] = set()
        for stamp, message in events:
            minute = bucket_start(stamp / 1000, 60)
            named: dict[str, str] | None = None
            if self.fields is not None:
                named = self.fields(message)
                matched = named is not None
            else:
                matched = self.matches(message)
            if not matched:
                quiet_minutes.add(minute)
                continue
            value = self._value(message, named)
            dimensions = self._dimensions(message, named)
            if value is None or dimensions is None:
                quiet_minutes.add(minute)
                continue
            busy_minutes.add(minute)
            key = (dimensions, minute)
            aggregate = by_bucket.get(key)
            if aggregate is None:
                by_bucket[key] = Aggregate.of_value(value)
            else:
                aggregate.add(value)
        if self.default is not None and not self.dimensions:
            for minute in quiet_minutes - busy_minutes:
                by_bucket[((), minute)] = Aggregate.of_value(self.default)
        return [
            (
                MetricId(self.account, self.region, self.namespace, self.metric_name, dims),
                60,
                minute,
                self.unit,
                aggregate,
            )
            for (dims, minute), aggregate in by_bucket.items()
        ]

    def _value(self, message: str, named: dict[str, str] | None) -> float | None:
        if not self.value.startswith("$"):
            return float(self.value)
        found = _field_of(message, named, self.value)
        if isinstance(found, bool) or not isinstance(found, int | float | str):
            return None
        try:
            number = float(found)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def _dimensions(
        self, message: str, named: dict[str, str] | None
    ) -> tuple[tuple[str, str], ...] | None:
        if not self.dimensions:
            return ()
        found: list[tuple[str, str]] = []
        for name, selector in self.dimensions:
            value = _field_of(message, named, selector)
            if value is None or isinstance(value, dict | list):
                return None  # an event without the dimension's field adds nothing
            found.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
        return tuple(sorted(found))


def _field_of(message: str, named: dict[str, str] | None, selector: str) -> Any:
    """What ``selector`` picks from an event: ``$.a.b`` from a JSON event, ``$name`` from
    the named fields of a space-delimited pattern; None when there is no such value."""
    if selector.startswith("$."):
        return json_field(message, selector)
    return None if named is None else named.get(selector)


def compile_filter(account: str, region: str, body: dict[str, Any]) -> CompiledFilter:
    """A stored filter ``body`` (as DescribeMetricFilters shows it) ready to match events."""
    (transformation,) = body["metricTransformations"]
    default = transformation.get("defaultValue")
    return CompiledFilter(
        account=account,
        region=region,
        matches=compile_pattern(body.get("filterPattern")),
        fields=compile_fields(body.get("filterPattern")),
        namespace=transformation["metricNamespace"],
        metric_name=transformation["metricName"],
        value=str(transformation["metricValue"]),
        default=None if default is None else float(default),
        unit=transformation.get("unit") or "None",
        dimensions=tuple(sorted((transformation.get("dimensions") or {}).items())),
    )


class MetricFilterOperations(GroupOperations):
    """The metric filter half of CloudWatch Logs."""

    _filter_cache: tuple[int, dict[str, list[CompiledFilter]]] | None = None
    _filter_cache_lock = threading.Lock()

    def _filters_of(self, group: LogGroup) -> list[CompiledFilter]:
        """The compiled metric filters of ``group`` (cached until any filter changes)."""
        version = self.log_store.db.version(METRIC_FILTERS_VERSION)
        cache = self._filter_cache
        if cache is None or cache[0] != version:
            with self._filter_cache_lock:
                by_group: dict[str, list[CompiledFilter]] = {}
                for key, body in self.log_store.metric_filters():
                    account, region, _ = key.split("\x1f", 2)
                    by_group.setdefault(key, []).append(compile_filter(account, region, body))
                cache = self._filter_cache = (version, by_group)
        return cache[1].get(group.key, [])

    def has_metric_filters(self, group: LogGroup) -> bool:
        """Whether events stored in ``group`` make metric data."""
        return bool(self._filters_of(group))

    def emit_metrics(self, group: LogGroup, events: Sequence[tuple[int, str]]) -> None:
        """Add the metric data the stored ``events`` of ``group`` make to CloudWatch."""
        filters = self._filters_of(group)
        if not filters or not events:
            return
        items: list[MetricItem] = []
        for compiled in filters:
            items.extend(compiled.items(events))
        if items:
            self.log_store.db.store(MetricStore).put(items, self.env.clock.now())

    # ---- operations ----

    @operation("PutMetricFilter")
    def put_metric_filter(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("filterName") or ""
        check_length(name, "filterName", MAX_FILTER_NAME)
        pattern = params.get("filterPattern")
        check_length(pattern, "filterPattern", MAX_FILTER_PATTERN)
        raw = params.get("metricTransformations") or []
        if not isinstance(pattern, str | None) or not isinstance(raw, list):
            # botocore's validation refuses these before they are sent; a raw request may not
            raise invalid_parameter("filterPattern and metricTransformations are malformed.")
        transformations = [item for item in raw if isinstance(item, dict)]
        if len(transformations) != len(raw):
            raise invalid_parameter("Each metric transformation must be a structure.")
        if len(transformations) > 1:
            raise invalid_parameter(
                f"1 validation error detected: Value '{_transformation_text(transformations)}' "
                "at 'metricTransformations' failed to satisfy constraint: Member must have "
                "length less than or equal to 1"
            )
        if not transformations:
            raise invalid_parameter(
                "1 validation error detected: Value '[]' at 'metricTransformations' failed to "
                "satisfy constraint: Member must have length greater than or equal to 1"
            )
        transformation = dict(transformations[0])
        for member in ("metricName", "metricNamespace", "metricValue"):
            if not isinstance(transformation.get(member), str):
                # botocore's validation refuses this before it is sent; a raw request may not
                raise invalid_parameter(
                    f"1 validation error detected: Value null at '{member}' failed to "
                    "satisfy constraint: Member must not be null"
                )
        check_length(transformation.get("metricName"), "metricName", MAX_METRIC_NAME)
        check_length(transformation.get("metricNamespace"), "metricNamespace", MAX_METRIC_NAMESPACE)
        try:
            compile_pattern(pattern)
        except PatternError as error:
            raise invalid_parameter(f"Invalid metric filter pattern: {error}") from None
        value = str(transformation.get("metricValue") or "")
        if not (
            (_NUMBER.fullmatch(value) and math.isfinite(float(value))) or _FIELD.fullmatch(value)
        ):
            raise invalid_parameter(
                f"Invalid metric value: {value}. The metric value must be a number or a "
                "field selector such as $.latency."
            )
        dimensions = transformation.get("dimensions") or {}
        if len(dimensions) > MAX_DIMENSIONS:
            raise invalid_parameter(
                f"A metric filter can have at most {MAX_DIMENSIONS} dimensions."
            )
        for dimension, selector in dimensions.items():
            if not _FIELD.fullmatch(str(selector)):
                raise invalid_parameter(
                    f"Invalid dimension value for {dimension}: {selector}. A dimension value "
                    "must be a field selector such as $.service."
                )
        default = transformation.get("defaultValue")
        if default is not None and (
            isinstance(default, bool)
            or not isinstance(default, int | float)
            or not math.isfinite(default)
        ):
            raise invalid_parameter(f"Invalid default value: {default}.")
        if dimensions and transformation.get("defaultValue") is not None:
            raise invalid_parameter(
                "You cannot use a default value for a metric filter that has dimensions."
            )
        group = self.require_group(params, ctx)
        existing = [body for key, body in self.log_store.metric_filters() if key == group.key]
        if len(existing) >= MAX_FILTERS_PER_GROUP and all(
            body["filterName"] != name for body in existing
        ):
            raise AwsError("LimitExceededException", "Resource limit exceeded.")
        body: dict[str, Any] = {
            "filterName": name,
            "filterPattern": pattern if pattern is not None else "",
            "metricTransformations": [transformation],
            "creationTime": self.now_ms(),
            "logGroupName": group.name,
            "applyOnTransformedLogs": bool(params.get("applyOnTransformedLogs", False)),
        }
        self.log_store.put_metric_filter(group, name, body)
        return {}

    @operation("DescribeMetricFilters")
    def describe_metric_filters(self, params: Params, ctx: RequestContext) -> Result:
        prefix = params.get("filterNamePrefix")
        check_length(prefix, "filterNamePrefix", MAX_FILTER_NAME)
        metric_name = params.get("metricName")
        check_length(metric_name, "metricName", MAX_METRIC_NAME)
        namespace = params.get("metricNamespace")
        check_length(namespace, "metricNamespace", MAX_METRIC_NAMESPACE)
        limit = check_limit(params.get("limit"), 50) or 50
        group_key: str | None = None
        if params.get("logGroupName") is not None:
            group_key = self.require_group(params, ctx).key
        prefix_of_region = f"{ctx.account}\x1f{ctx.region}\x1f"
        found: list[dict[str, Any]] = []
        for key, body in self.log_store.metric_filters():
            if group_key is not None and key != group_key:
                continue
            if group_key is None and not key.startswith(prefix_of_region):
                continue
            if prefix and not str(body["filterName"]).startswith(prefix):
                continue
            transformation = body["metricTransformations"][0]
            if metric_name is not None and transformation["metricName"] != metric_name:
                continue
            if namespace is not None and transformation["metricNamespace"] != namespace:
                continue
            found.append(body)
        page, token = FILTER_TOKENS.page(found, params.get("nextToken"), limit)
        result: Result = {"metricFilters": page}
        if token:
            result["nextToken"] = token
        return result

    @operation("DeleteMetricFilter")
    def delete_metric_filter(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("filterName") or ""
        check_length(name, "filterName", MAX_FILTER_NAME)
        group_name = params.get("logGroupName") or ""
        if len(group_name) > 512:
            raise invalid_parameter(
                "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
            )
        group = self.require_group(params, ctx)
        if not self.log_store.delete_metric_filter(group, name):
            raise AwsError(
                "ResourceNotFoundException", "The specified metric filter does not exist."
            )
        return {}

    @operation("TestMetricFilter")
    def test_metric_filter(self, params: Params, ctx: RequestContext) -> Result:
        pattern = params.get("filterPattern")
        check_length(pattern, "filterPattern", MAX_FILTER_PATTERN)
        messages = list(params.get("logEventMessages") or [])
        if len(messages) > MAX_TEST_MESSAGES:
            raise invalid_parameter(
                "1 validation error detected: Value at 'logEventMessages' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_TEST_MESSAGES}"
            )
        try:
            matches = compile_pattern(pattern)
            fields = compile_fields(pattern)
        except PatternError as error:
            raise invalid_parameter(f"Invalid metric filter pattern: {error}") from None
        found = []
        for number, message in enumerate(messages, start=1):
            if matches(message):
                named = fields(message) if fields is not None else None
                found.append(
                    {"eventNumber": number, "eventMessage": message, "extractedValues": named or {}}
                )
        return {"matches": found}


# A describe call's ``nextToken`` is the offset it answered; an empty one is refused.
FILTER_TOKENS = OffsetTokens(
    invalid=lambda _: invalid_parameter("The specified nextToken is invalid."),
    blank_starts=False,
)
