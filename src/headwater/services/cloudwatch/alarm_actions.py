"""What an alarm's state change does: the SNS notification or Lambda event CloudWatch sends.

Actions go to the in-process SNS and Lambda services through their ordinary operations
(``Publish``, ``Invoke`` with ``InvocationType=Event``); a target headwater cannot reach
(SNS before that service exists, a deleted function) is recorded as a failed action in
the alarm's history, as CloudWatch does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.services.base import RequestContext, Service
from headwater.services.cloudwatch.alarm_store import AlarmRecord

#: Region names CloudWatch writes into notifications ("US West (Oregon)").
REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "sa-east-1": "South America (Sao Paulo)",
}


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One action's outcome, for the alarm history."""

    target: str
    succeeded: bool
    detail: str
    message: str


def _iso(ts: float) -> str:
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _upper_snake(name: str) -> str:
    """``SampleCount`` -> ``SAMPLE_COUNT`` (how notifications spell statistics)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def sns_message(alarm: AlarmRecord, old_state: str, now: float) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an SNS topic on a state change."""
    config, state = alarm.config, alarm.state
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": config.get("AlarmDescription"),
        "AWSAccountId": alarm.account,
        "AlarmConfigurationUpdatedTimestamp": _iso(state["AlarmConfigurationUpdatedTimestamp"]),
        "NewStateValue": state["StateValue"],
        "NewStateReason": state["StateReason"],
        "StateChangeTime": _iso(now),
        "Region": REGION_NAMES.get(alarm.region, alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": list(config.get("OKActions") or []),
        "AlarmActions": list(config.get("AlarmActions") or []),
        "InsufficientDataActions": list(config.get("InsufficientDataActions") or []),
    }
    if alarm.kind == "MetricAlarm" and config.get("MetricName"):
        trigger: dict[str, Any] = {
            "MetricName": config["MetricName"],
            "Namespace": config.get("Namespace"),
            "StatisticType": "Statistic" if config.get("Statistic") else "ExtendedStatistic",
            "Statistic": _upper_snake(
                str(config.get("Statistic") or config.get("ExtendedStatistic"))
            ),
            "Unit": config.get("Unit"),
            "Dimensions": [
                {"value": d["Value"], "name": d["Name"]} for d in config.get("Dimensions") or []
            ],
            "Period": config.get("Period"),
            "EvaluationPeriods": config.get("EvaluationPeriods"),
            "ComparisonOperator": config.get("ComparisonOperator"),
            "Threshold": config.get("Threshold"),
            "TreatMissingData": config.get("TreatMissingData", ""),
            "EvaluateLowSampleCountPercentile": config.get("EvaluateLowSampleCountPercentile", ""),
        }
        if config.get("DatapointsToAlarm") is not None:
            trigger["DatapointsToAlarm"] = config["DatapointsToAlarm"]
        message["Trigger"] = trigger
    return message


def lambda_event(alarm: AlarmRecord, old: dict[str, Any], now: float) -> dict[str, Any]:
    """The event CloudWatch sends a Lambda alarm action."""
    config, state = alarm.config, alarm.state
    metrics = []
    if config.get("MetricName"):
        metrics.append(
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "namespace": config.get("Namespace"),
                        "name": config["MetricName"],
                        "dimensions": {
                            d["Name"]: d["Value"] for d in config.get("Dimensions") or []
                        },
                    },
                    "period": config.get("Period"),
                    "stat": config.get("Statistic") or config.get("ExtendedStatistic"),
                },
                "returnData": True,
            }
        )
    configuration: dict[str, Any] = {"metrics": metrics}
    if config.get("AlarmDescription"):
        configuration["description"] = config["AlarmDescription"]
    return {
        "source": "aws.cloudwatch",
        "alarmArn": alarm.arn,
        "accountId": alarm.account,
        "time": _iso(now),
        "region": alarm.region,
        "alarmData": {
            "alarmName": alarm.name,
            "state": {
                "value": state["StateValue"],
                "reason": state["StateReason"],
                "timestamp": _iso(state["StateUpdatedTimestamp"]),
            },
            "previousState": {
                "value": old["StateValue"],
                "reason": old["StateReason"],
                "timestamp": _iso(old["StateUpdatedTimestamp"]),
            },
            "configuration": configuration,
        },
    }


def run_actions(
    lookup: Callable[[str], Service],
    alarm: AlarmRecord,
    old: dict[str, Any],
    now: float,
) -> list[ActionResult]:
    """Send the actions of ``alarm``'s new state (when its actions are enabled)."""
    state = alarm.state["StateValue"]
    if not alarm.state.get("ActionsEnabled", True):
        return []
    key = {"ALARM": "AlarmActions", "OK": "OKActions"}.get(state, "InsufficientDataActions")
    targets = list(alarm.config.get(key) or [])
    ctx = RequestContext(region=alarm.region, account=alarm.account)
    results: list[ActionResult] = []
    for target in targets:
        service = target.split(":")[2] if target.count(":") >= 5 else ""
        try:
            if service == "sns":
                body = orjson.dumps(sns_message(alarm, old["StateValue"], now)).decode()
                subject = (
                    f'{state}: "{alarm.name}" in {REGION_NAMES.get(alarm.region, alarm.region)}'
                )
                lookup("sns").call(
                    "Publish", {"TopicArn": target, "Subject": subject[:100], "Message": body}, ctx
                )
                results.append(ActionResult(target, True, "", body))
            elif service == "lambda":
                body = orjson.dumps(lambda_event(alarm, old, now)).decode()
                lookup("lambda").call(
                    "Invoke",
                    {"FunctionName": target, "InvocationType": "Event", "Payload": body.encode()},
                    ctx,
                )
                results.append(ActionResult(target, True, "", body))
            else:
                results.append(
                    ActionResult(target, False, "headwater cannot run this kind of action", "")
                )
        except AwsError as error:
            results.append(ActionResult(target, False, f"{error.code}: {error.message}", ""))
        except Exception as error:  # a broken target must not stop the evaluator
            results.append(ActionResult(target, False, f"{type(error).__name__}: {error}", ""))
    return results
