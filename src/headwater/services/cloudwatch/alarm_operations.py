"""Metric alarms: the API, the evaluator on the headwater clock, history and actions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from headwater.core.paging import OffsetTokens
from headwater.core.values import as_datetime, as_epoch_seconds
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.cloudwatch import errors
from headwater.services.cloudwatch.aggregate import BASIC_STATISTICS, percentile_of
from headwater.services.cloudwatch.alarm_actions import run_actions
from headwater.services.cloudwatch.alarm_evaluation import COMPARISONS, Evaluation, evaluate
from headwater.services.cloudwatch.alarm_store import AlarmRecord, AlarmStore
from headwater.services.cloudwatch.metric_operations import MetricOperations, finite_parameter
from headwater.services.cloudwatch.metric_store import MetricId, dimensions_of
from headwater.services.cloudwatch.series import QueryGrid, statistic_series

log = logging.getLogger(__name__)

STATES = ["INSUFFICIENT_DATA", "ALARM", "OK"]
TREAT_MISSING = ["breaching", "notBreaching", "ignore", "missing"]
#: The fields PutMetricAlarm keeps (as given) and DescribeAlarms returns.
METRIC_ALARM_FIELDS = (
    "AlarmDescription",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)
DEFAULT_PAGE = 50


class AlarmOperations(MetricOperations):
    """PutMetricAlarm, DescribeAlarms(ForMetric), DeleteAlarms, SetAlarmState, actions
    switches, history and tags; ``evaluate_alarms`` runs the due evaluations."""

    alarm_store: AlarmStore

    # ---- API ----

    @operation("PutMetricAlarm")
    def put_metric_alarm(self, params: Params, ctx: RequestContext) -> Result:
        config = _checked_config(params)
        now = self.env.clock.now()
        existing = self.alarm_store.get(ctx.account, ctx.region, params["AlarmName"])
        if existing is None:
            alarm = AlarmRecord(
                ctx.account,
                ctx.region,
                params["AlarmName"],
                "MetricAlarm",
                config,
                {
                    "StateValue": "INSUFFICIENT_DATA",
                    "StateReason": "Unchecked: Initial alarm creation",
                    "StateUpdatedTimestamp": now,
                    "StateTransitionedTimestamp": now,
                    "AlarmConfigurationUpdatedTimestamp": now,
                    "ActionsEnabled": params.get("ActionsEnabled", True),
                    "NextEvaluation": now,
                },
                list(params.get("Tags") or []),
            )
            summary, kind = f'Alarm "{alarm.name}" created', "Create"
        else:
            alarm = existing
            alarm.config = config
            alarm.state["AlarmConfigurationUpdatedTimestamp"] = now
            alarm.state["ActionsEnabled"] = params.get("ActionsEnabled", True)
            alarm.state["NextEvaluation"] = now
            summary, kind = f'Alarm "{alarm.name}" updated', "Update"
        self.alarm_store.save(alarm)
        self.alarm_store.add_history(
            alarm,
            now,
            "ConfigurationUpdate",
            summary,
            {
                "version": "1.0",
                "type": kind,
                "createdAlarm" if kind == "Create" else "updatedAlarm": config,
            },
        )
        return {}

    @operation("DescribeAlarms")
    def describe_alarms(self, params: Params, ctx: RequestContext) -> Result:
        names = params.get("AlarmNames")
        prefix = params.get("AlarmNamePrefix")
        if names and prefix:
            raise errors.invalid_combination(
                "AlarmNamePrefix and AlarmNames cannot be specified together."
            )
        state = params.get("StateValue")
        if state is not None and state not in STATES:
            raise errors.enum_violation(state, "stateValue", STATES)
        types = params.get("AlarmTypes") or ["MetricAlarm"]
        action_prefix = params.get("ActionPrefix")
        found = []
        for alarm in self.alarm_store.alarms(ctx.account, ctx.region):
            if names and alarm.name not in names:
                continue
            if prefix and not alarm.name.startswith(prefix):
                continue
            if state is not None and alarm.state["StateValue"] != state:
                continue
            if alarm.kind not in types:
                continue
            if action_prefix and not any(
                a.startswith(action_prefix)
                for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                for a in alarm.config.get(key) or []
            ):
                continue
            found.append(alarm)
        page, token = _paged(found, params)
        result: Result = {
            "MetricAlarms": [self._describe(a) for a in page if a.kind == "MetricAlarm"],
            "CompositeAlarms": [],
        }
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("DescribeAlarmsForMetric")
    def describe_alarms_for_metric(self, params: Params, ctx: RequestContext) -> Result:
        wanted_dims = dimensions_of(params.get("Dimensions"))
        found = []
        for alarm in self.alarm_store.alarms(ctx.account, ctx.region):
            config = alarm.config
            if alarm.kind != "MetricAlarm":
                continue
            if config.get("MetricName") != params["MetricName"]:
                continue
            if config.get("Namespace") != params["Namespace"]:
                continue
            if params.get("Dimensions") is not None and (
                dimensions_of(config.get("Dimensions")) != wanted_dims
            ):
                continue
            if any(
                params.get(key) is not None and config.get(key) != params[key]
                for key in ("Statistic", "ExtendedStatistic", "Period", "Unit")
            ):
                continue
            found.append(self._describe(alarm))
        return {"MetricAlarms": found}

    @operation("DeleteAlarms")
    def delete_alarms(self, params: Params, ctx: RequestContext) -> Result:
        names: list[str] = list(params.get("AlarmNames") or [])
        # One transaction: as on AWS, a name not found deletes none of them, and a
        # concurrent delete of the same alarm cannot slip between the check and the delete.
        with self.alarm_store.db.transaction():
            alarms = [self.alarm_store.get(ctx.account, ctx.region, n) for n in names]
            missing = [n for n, alarm in zip(names, alarms, strict=True) if alarm is None]
            if missing:
                raise errors.resource_not_found(
                    f"{len(missing)} alarm{'s' if len(missing) != 1 else ''} were not found: "
                    + ", ".join(missing)
                )
            now = self.env.clock.now()
            for name, alarm in zip(names, alarms, strict=True):
                if alarm is not None and self.alarm_store.delete(ctx.account, ctx.region, name):
                    self.alarm_store.add_history(
                        alarm,
                        now,
                        "ConfigurationUpdate",
                        f'Alarm "{name}" deleted',
                        {"version": "1.0", "type": "Delete", "deletedAlarm": alarm.config},
                    )
        return {}

    @operation("SetAlarmState")
    def set_alarm_state(self, params: Params, ctx: RequestContext) -> Result:
        state = params["StateValue"]
        if state not in STATES:
            raise errors.enum_violation(state, "stateValue", STATES)
        alarm = self.alarm_store.get(ctx.account, ctx.region, params["AlarmName"])
        if alarm is None:
            raise errors.resource_not_found()
        data = None
        if params.get("StateReasonData"):
            try:
                data = orjson.loads(params["StateReasonData"])
            except orjson.JSONDecodeError:
                raise errors.invalid_value(
                    "The parameter StateReasonData must be a valid JSON object."
                ) from None
        now = self.env.clock.now()
        self._change_state(alarm, Evaluation(state, params["StateReason"], data), now)
        return {}

    @operation("EnableAlarmActions")
    def enable_alarm_actions(self, params: Params, ctx: RequestContext) -> Result:
        self._set_actions_enabled(params, ctx, enabled=True)
        return {}

    @operation("DisableAlarmActions")
    def disable_alarm_actions(self, params: Params, ctx: RequestContext) -> Result:
        self._set_actions_enabled(params, ctx, enabled=False)
        return {}

    def _set_actions_enabled(self, params: Params, ctx: RequestContext, *, enabled: bool) -> None:
        for name in params.get("AlarmNames") or []:
            alarm = self.alarm_store.get(ctx.account, ctx.region, name)
            if alarm is not None:
                alarm.state["ActionsEnabled"] = enabled
                self.alarm_store.save_state(alarm)

    @operation("DescribeAlarmHistory")
    def describe_alarm_history(self, params: Params, ctx: RequestContext) -> Result:
        start = as_epoch_seconds(params["StartDate"]) if params.get("StartDate") else None
        end = as_epoch_seconds(params["EndDate"]) if params.get("EndDate") else None
        items = self.alarm_store.history(
            ctx.account, ctx.region, params.get("AlarmName"), start, end
        )
        kind = params.get("HistoryItemType")
        types = params.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
        selected = [
            {
                "AlarmName": item.alarm_name,
                "AlarmType": item.alarm_type,
                "Timestamp": as_datetime(item.at),
                "HistoryItemType": item.item_type,
                "HistorySummary": item.summary,
                "HistoryData": item.data,
            }
            for item in items
            if (kind is None or item.item_type == kind) and item.alarm_type in types
        ]
        if params.get("ScanBy") == "TimestampAscending":
            selected.reverse()
        page, token = _paged(selected, params, default=100)
        result: Result = {"AlarmHistoryItems": page}
        if token is not None:
            result["NextToken"] = token
        return result

    # ---- tags ----

    def _alarm_by_arn(self, arn: str) -> AlarmRecord | None:
        parts = arn.split(":", 6)
        if len(parts) != 7 or parts[2] != "cloudwatch" or parts[5] != "alarm":
            return None
        return self.alarm_store.get(parts[4], parts[3], parts[6])

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        alarm = self._alarm_by_arn(params["ResourceARN"])
        return {"Tags": [] if alarm is None else list(alarm.tags)}

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        alarm = self._alarm_by_arn(params["ResourceARN"])
        if alarm is None:
            raise errors.resource_not_found_exception(f"{params['ResourceARN']} not found")
        tags = {t["Key"]: t["Value"] for t in alarm.tags}
        tags.update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
        alarm.tags = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.alarm_store.save(alarm)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        alarm = self._alarm_by_arn(params["ResourceARN"])
        if alarm is None:
            raise errors.resource_not_found_exception(f"{params['ResourceARN']} not found")
        drop = set(params.get("TagKeys") or [])
        alarm.tags = [t for t in alarm.tags if t["Key"] not in drop]
        self.alarm_store.save(alarm)
        return {}

    # ---- evaluation ----

    def evaluate_alarms(self, now: float | None = None) -> int:
        """Evaluate every alarm whose next evaluation is due; returns how many changed."""
        now = self.env.clock.now() if now is None else now
        changed = 0
        due = [
            a
            for a in self.alarm_store.alarms()
            if a.kind == "MetricAlarm" and a.state.get("NextEvaluation", 0) <= now
        ]
        if not due:
            return 0
        self.flush_pending()
        for alarm in due:
            try:
                changed += self._evaluate_one(alarm, now)
            except Exception:
                log.exception("evaluating alarm %s failed", alarm.name)
        return changed

    def _evaluate_one(self, alarm: AlarmRecord, now: float) -> int:
        config = alarm.config
        period = int(config.get("Period") or _metrics_period(config))
        n = int(config["EvaluationPeriods"])
        end = int(now) - int(now) % period
        starts = [end - period * i for i in range(n, 0, -1)]
        values, counts = self._alarm_series(alarm, starts[0], end, period, now)
        evaluation = evaluate(config, alarm.state["StateValue"], starts, values, counts, now=now)
        step = 60 if period >= 60 else period
        alarm.state["NextEvaluation"] = end + step
        if evaluation.state is None or evaluation.state == alarm.state["StateValue"]:
            self.alarm_store.save_state(alarm)
            return 0
        self._change_state(alarm, evaluation, now)
        return 1

    def _alarm_series(
        self, alarm: AlarmRecord, start: int, end: int, period: int, now: float
    ) -> tuple[dict[int, float], dict[int, float]]:
        config = alarm.config
        ctx = RequestContext(region=alarm.region, account=alarm.account)
        if config.get("Metrics"):
            results = self.evaluate_queries(config["Metrics"], start, end, now, ctx)
            for result in results:
                if result.get("_return", True):
                    return dict(result.get("_series", {})), {}
            return {}, {}
        metric = MetricId(
            alarm.account,
            alarm.region,
            config["Namespace"],
            config["MetricName"],
            dimensions_of(config.get("Dimensions")),
        )
        rows = self.metric_store.rows(metric, start, end)
        statistic = str(config.get("Statistic") or config.get("ExtendedStatistic"))
        unit = config.get("Unit")
        grid = QueryGrid(start, end, period, now)
        values, _ = statistic_series(rows, grid, statistic, unit)
        counts, _ = statistic_series(rows, grid, "SampleCount", unit)
        return values, counts

    def _change_state(self, alarm: AlarmRecord, evaluation: Evaluation, now: float) -> None:
        assert evaluation.state is not None
        old = dict(alarm.state)
        state = alarm.state
        state["StateValue"] = evaluation.state
        state["StateReason"] = evaluation.reason
        if evaluation.reason_data is not None:
            state["StateReasonData"] = evaluation.reason_data
        else:
            state.pop("StateReasonData", None)
        state["StateUpdatedTimestamp"] = now
        if old["StateValue"] != evaluation.state:
            state["StateTransitionedTimestamp"] = now
        self.alarm_store.save_state(alarm)
        self.alarm_store.add_history(
            alarm,
            now,
            "StateUpdate",
            f"Alarm updated from {old['StateValue']} to {evaluation.state}",
            {
                "version": "1.0",
                "oldState": {"stateValue": old["StateValue"], "stateReason": old["StateReason"]},
                "newState": {
                    "stateValue": evaluation.state,
                    "stateReason": evaluation.reason,
                    **(
                        {"stateReasonData": evaluation.reason_data}
                        if evaluation.reason_data
                        else {}
                    ),
                },
            },
        )
        for result in run_actions(self.env.service, alarm, old, now):
            verb = "Successfully executed" if result.succeeded else "Failed to execute"
            data: dict[str, Any] = {
                "actionState": "Succeeded" if result.succeeded else "Failed",
                "stateUpdateTimestamp": int(now * 1000),
                "notificationResource": result.target,
            }
            if result.message:
                data["publishedMessage"] = result.message
            if result.detail:
                data["error"] = result.detail
            self.alarm_store.add_history(
                alarm, now, "Action", f"{verb} action {result.target}", data
            )

    def _describe(self, alarm: AlarmRecord) -> dict[str, Any]:
        config, state = alarm.config, alarm.state
        described: dict[str, Any] = {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.arn,
            "AlarmConfigurationUpdatedTimestamp": as_datetime(
                state["AlarmConfigurationUpdatedTimestamp"]
            ),
            "ActionsEnabled": state.get("ActionsEnabled", True),
            "OKActions": [],
            "AlarmActions": [],
            "InsufficientDataActions": [],
            "StateValue": state["StateValue"],
            "StateReason": state["StateReason"],
            "StateUpdatedTimestamp": as_datetime(state["StateUpdatedTimestamp"]),
            "StateTransitionedTimestamp": as_datetime(state["StateTransitionedTimestamp"]),
        }
        if not config.get("Metrics"):
            described["Dimensions"] = []
        for key in METRIC_ALARM_FIELDS:
            if config.get(key) is not None:
                described[key] = config[key]
        if "StateReasonData" in state:
            described["StateReasonData"] = orjson.dumps(state["StateReasonData"]).decode()
        return described


def _checked_config(params: Params) -> dict[str, Any]:
    """The alarm configuration of PutMetricAlarm ``params``; raises AWS's errors."""
    # Optional in botocore's model (only AlarmName is required), required by the service.
    for required in ("ComparisonOperator", "EvaluationPeriods"):
        if params.get(required) is None:
            raise errors.missing_parameter(f"The parameter {required} is required.")
    operator = params["ComparisonOperator"]
    if operator not in COMPARISONS:
        raise errors.enum_violation(operator, "comparisonOperator", list(COMPARISONS))
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in TREAT_MISSING:
        raise errors.validation(
            f"Option {treat} is not supported. Supported options for parameter "
            "TreatMissingData are: [breaching, notBreaching, ignore, missing]."
        )
    metrics = params.get("Metrics")
    statistic = params.get("Statistic")
    extended = params.get("ExtendedStatistic")
    if metrics:
        if params.get("MetricName") or params.get("Namespace") or statistic or extended:
            raise errors.invalid_combination(
                "The parameters Metrics and MetricName, Namespace, Statistic or "
                "ExtendedStatistic are mutually exclusive."
            )
    else:
        if not params.get("MetricName") or not params.get("Namespace"):
            raise errors.validation("MetricName and Namespace must be specified.")
        if statistic and extended:
            raise errors.invalid_combination(
                "Statistic and ExtendedStatistic parameters are mutually exclusive."
            )
        if not statistic and not extended:
            raise errors.validation("Either Statistic or ExtendedStatistic must be specified.")
        if statistic and statistic not in BASIC_STATISTICS:
            raise errors.enum_violation(statistic, "statistic", list(BASIC_STATISTICS))
        if extended and percentile_of(extended) is None:
            raise errors.invalid_value(
                f"The value {extended} for parameter ExtendedStatistic is not supported."
            )
        period = params.get("Period")
        if period is None:
            raise errors.validation("Period must be specified.")
        if period not in (10, 20, 30) and period % 60:
            raise errors.invalid_value(
                "The parameter Period must be 10, 20, 30 or a multiple of 60."
            )
    periods = int(params["EvaluationPeriods"])
    if periods < 1:
        raise errors.invalid_value("The parameter EvaluationPeriods must be greater than 0.")
    for period in _alarm_periods(params):
        _check_evaluation_window(int(period), periods)
    to_alarm = params.get("DatapointsToAlarm")
    if to_alarm is not None and not 1 <= int(to_alarm) <= periods:
        raise errors.validation(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods."
        )
    config = {key: params[key] for key in METRIC_ALARM_FIELDS if params.get(key) is not None}
    if "Threshold" in config:
        config["Threshold"] = finite_parameter(config["Threshold"], "Threshold")
    return config


def _alarm_periods(params: Params) -> list[Any]:
    """Every Period an alarm's ``params`` name: its own, or its metric queries'."""
    periods = [params["Period"]] if params.get("Period") is not None else []
    for query in params.get("Metrics") or []:
        stat = query.get("MetricStat") or {}
        periods += [p for p in (stat.get("Period"), query.get("Period")) if p is not None]
    return periods


def _check_evaluation_window(period: int, evaluation_periods: int) -> None:
    """CloudWatch's cap on how far back an alarm looks: a day, or a week for hourly periods.

    It also keeps the numbers botocore lets through (any integer) inside what the alarm's
    stored configuration (JSON, 64-bit integers) and its evaluation can hold.
    """
    window = period * evaluation_periods
    if period < 3600 and window > 86400:
        raise errors.validation(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period "
            "must be <= 86400) for alarms using period < 3600"
        )
    if window > 604800:
        raise errors.validation(
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period "
            "must be <= 604800) for alarms using period >= 3600"
        )


def _metrics_period(config: Mapping[str, Any]) -> int:
    for query in config.get("Metrics") or []:
        if query.get("MetricStat"):
            return int(query["MetricStat"]["Period"])
        if query.get("Period"):
            return int(query["Period"])
    return 60


_ALARM_TOKENS = OffsetTokens(
    invalid=lambda _: errors.invalid_value("The service cannot find the NextToken specified."),
    decode=int,
)


def _paged(
    items: Sequence[Any], params: Params, default: int = DEFAULT_PAGE
) -> tuple[list[Any], str | None]:
    limit = int(params.get("MaxRecords") or default)
    return _ALARM_TOKENS.page(items, params.get("NextToken"), limit)
