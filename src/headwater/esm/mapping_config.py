"""Mapping configuration: defaults, ranges and AWS's validation rules per source kind.

Pure functions over boto3-shaped request parameters and the stored ``config`` dict, shared
by the Lambda API (``services/lambda_/mappings.py``) and the engines (SQS now, streams later).
"""

from __future__ import annotations

import copy
from typing import Any, Literal, Protocol

from headwater.core.arn import Arn
from headwater.core.errors import AwsError, validation_error
from headwater.core.values import as_epoch_seconds

SourceKind = Literal["sqs", "kinesis", "dynamodb"]

STREAM_ONLY = (
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "TumblingWindowInSeconds",
)
SQS_ONLY = ("ScalingConfig", "ProvisionedPollerConfig")
#: Self-managed / broker parameters that no SQS or stream mapping accepts.
OTHER_SOURCES_ONLY = (
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "SelfManagedKafkaEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "LoggingConfig",
)
STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096

#: (parameter, camelCase member for messages, minimum, maximum)
_RANGES: tuple[tuple[str, str, int, int], ...] = (
    ("BatchSize", "batchSize", 1, 10_000),
    ("MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300),
    ("ParallelizationFactor", "parallelizationFactor", 1, 10),
    ("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10_000),
    ("MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604_800),
    ("TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900),
)


class RecordFilter(Protocol):
    """A compiled FilterCriteria (``headwater.filtering``)."""

    def keep(self, record: dict[str, Any]) -> bool: ...


def invalid_parameter(message: str) -> AwsError:
    """Lambda's ``InvalidParameterValueException`` (body carries ``Type`` and ``message``)."""
    return AwsError(
        "InvalidParameterValueException",
        message,
        status=400,
        fields={"Type": "User", "message": message},
    )


def source_kind(source_arn: str) -> SourceKind | None:
    """Which engine serves ``source_arn``: an SQS queue, a Kinesis stream or a DDB stream."""
    arn = Arn.try_parse(source_arn)
    if arn is None:
        return None
    if arn.service == "sqs":
        return "sqs"
    if arn.service == "kinesis" and arn.resource.startswith("stream/"):
        return "kinesis"
    if arn.service == "dynamodb" and "/stream/" in arn.resource:
        return "dynamodb"
    return None


def _range_error(value: Any, member: str, low: int, high: int) -> AwsError | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return validation_error(value, member, "Member must be a number")
    if value > high:
        return validation_error(
            value, member, f"Member must have value less than or equal to {high}"
        )
    if value < low:
        return validation_error(
            value, member, f"Member must have value greater than or equal to {low}"
        )
    return None


def check_ranges(params: dict[str, Any]) -> None:
    """Schema-level checks (``ValidationException``), which AWS applies before anything else."""
    for key, member, low, high in _RANGES:
        if params.get(key) is not None:
            error = _range_error(params[key], member, low, high)
            if error is not None:
                raise error
    scaling = params.get("ScalingConfig")
    if scaling and scaling.get("MaximumConcurrency") is not None:
        error = _range_error(
            scaling["MaximumConcurrency"], "scalingConfig.maximumConcurrency", 2, 1000
        )
        if error is not None:
            raise error
    pollers = params.get("ProvisionedPollerConfig")
    if pollers:
        for key, member, low, high in (
            ("MinimumPollers", "provisionedPollerConfig.minimumPollers", 2, 200),
            ("MaximumPollers", "provisionedPollerConfig.maximumPollers", 2, 2000),
        ):
            if pollers.get(key) is not None:
                error = _range_error(pollers[key], member, low, high)
                if error is not None:
                    raise error
    position = params.get("StartingPosition")
    if position is not None and position not in STARTING_POSITIONS:
        raise validation_error(
            position,
            "startingPosition",
            "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        )
    types = params.get("FunctionResponseTypes")
    if types is not None:
        if len(types) > 1:
            raise validation_error(
                types, "functionResponseTypes", "Member must have length less than or equal to 1"
            )
        for value in types:
            if value != "ReportBatchItemFailures":
                raise validation_error(
                    types,
                    "functionResponseTypes",
                    "[Member must satisfy enum value set: [ReportBatchItemFailures]]",
                )


def _unsupported(name: str) -> AwsError:
    return invalid_parameter(f"Unsupported {name} parameter for given event source mapping type")


def check_applicability(kind: SourceKind, params: dict[str, Any], *, creating: bool) -> None:
    """Reject parameters that do not apply to ``kind`` (reference §2.6)."""
    for name in OTHER_SOURCES_ONLY:
        if params.get(name):
            raise _unsupported(name)
    if kind == "sqs":
        if params.get("StartingPosition") is not None:
            raise invalid_parameter("StartingPosition is not valid for SQS event sources.")
        if params.get("DestinationConfig"):
            raise invalid_parameter(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        for name in STREAM_ONLY:
            if params.get(name) is not None:
                raise _unsupported(name)
        return
    for name in SQS_ONLY:
        if params.get(name) is not None:
            raise _unsupported(name)
    if creating and params.get("StartingPosition") is None:
        raise invalid_parameter(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
            "constraint: Member must not be null."
        )


def _filter_criteria(value: Any) -> dict[str, Any] | None:
    """The stored FilterCriteria: omitted when there is no filter (``Filters: []``)."""
    if not value or not value.get("Filters"):
        return None
    return {"Filters": [{"Pattern": f.get("Pattern")} for f in value["Filters"]]}


def _destination(value: Any) -> dict[str, Any]:
    on_failure = dict((value or {}).get("OnFailure") or {})
    if not on_failure.get("Destination"):
        on_failure = {}
    return {"OnFailure": on_failure}


def _set_common(config: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("BatchSize") is not None:
        config["BatchSize"] = params["BatchSize"]
    if params.get("MaximumBatchingWindowInSeconds") is not None:
        config["MaximumBatchingWindowInSeconds"] = params["MaximumBatchingWindowInSeconds"]
    if params.get("FunctionResponseTypes") is not None:
        config["FunctionResponseTypes"] = list(params["FunctionResponseTypes"])
    if "FilterCriteria" in params:
        criteria = _filter_criteria(params["FilterCriteria"])
        if criteria is None:
            config.pop("FilterCriteria", None)
        else:
            config["FilterCriteria"] = criteria
    if params.get("MetricsConfig") is not None:
        metrics = params["MetricsConfig"]
        if metrics.get("Metrics"):
            config["MetricsConfig"] = {"Metrics": list(metrics["Metrics"])}
        else:
            config.pop("MetricsConfig", None)
    if "ScalingConfig" in params:
        scaling = params["ScalingConfig"] or {}
        if scaling.get("MaximumConcurrency") is None:
            config.pop("ScalingConfig", None)
        else:
            config["ScalingConfig"] = {"MaximumConcurrency": scaling["MaximumConcurrency"]}
    if "ProvisionedPollerConfig" in params:
        pollers = params["ProvisionedPollerConfig"] or {}
        if not pollers:
            config.pop("ProvisionedPollerConfig", None)
        else:
            config["ProvisionedPollerConfig"] = {
                "MinimumPollers": int(pollers.get("MinimumPollers", 2)),
                "MaximumPollers": int(pollers.get("MaximumPollers", 200)),
            }
    if params.get("KMSKeyArn") is not None:
        if params["KMSKeyArn"]:
            config["KMSKeyArn"] = params["KMSKeyArn"]
        else:
            config.pop("KMSKeyArn", None)
    if params.get("Tags"):
        # kept for ListTags/TagResource on the mapping ARN (not part of the configuration)
        config["_Tags"] = dict(params["Tags"])
    for name in (
        "ParallelizationFactor",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError",
        "TumblingWindowInSeconds",
    ):
        if params.get(name) is not None:
            config[name] = params[name]
    if params.get("DestinationConfig") is not None:
        config["DestinationConfig"] = _destination(params["DestinationConfig"])


def build_config(kind: SourceKind, params: dict[str, Any]) -> dict[str, Any]:
    """The stored configuration of a new mapping: AWS's defaults overlaid with ``params``."""
    check_applicability(kind, params, creating=True)
    config: dict[str, Any]
    if kind == "sqs":
        config = {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": []}
    else:
        config = {
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "BisectBatchOnFunctionError": False,
            "DestinationConfig": {"OnFailure": {}},
            "LastProcessingResult": "No records processed",
            "MaximumRecordAgeInSeconds": -1,
            "MaximumRetryAttempts": -1,
            "ParallelizationFactor": 1,
            "StartingPosition": params["StartingPosition"],
            "TumblingWindowInSeconds": 0,
        }
        if params.get("StartingPositionTimestamp") is not None:
            config["StartingPositionTimestamp"] = as_epoch_seconds(
                params["StartingPositionTimestamp"]
            )
    _set_common(config, params)
    return config


def apply_update(
    kind: SourceKind, config: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """A copy of ``config`` with the fields ``params`` names changed (partial update)."""
    check_applicability(kind, params, creating=False)
    updated = copy.deepcopy(config)
    _set_common(updated, params)
    return updated


def validate_config(
    kind: SourceKind,
    config: dict[str, Any],
    *,
    source_arn: str,
    fifo: bool,
    queue_visibility_timeout: int | None,
    function_timeout: int | None,
) -> None:
    """Rules that depend on the merged configuration and on the source (§2.5 #10-#18)."""
    batch_size = int(config["BatchSize"])
    window = int(config.get("MaximumBatchingWindowInSeconds", 0))
    pollers = config.get("ProvisionedPollerConfig")
    if pollers is not None:
        # exact AWS texts for these two are not recorded (reference §11)
        if "ScalingConfig" in config:
            raise invalid_parameter(
                "ScalingConfig and ProvisionedPollerConfig cannot be specified together"
            )
        if pollers["MinimumPollers"] > pollers["MaximumPollers"]:
            raise invalid_parameter("MinimumPollers must be less than or equal to MaximumPollers")
    if kind == "sqs":
        if fifo:
            if window > 0:
                raise invalid_parameter("Batching window is not supported for FIFO queues")
            if batch_size > 10:
                raise invalid_parameter("Maximum batch size must be between 1 and 10 inclusive")
        elif batch_size > 10 and window == 0:
            raise invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size "
                "is greater than 10"
            )
        if (
            queue_visibility_timeout is not None
            and function_timeout is not None
            and function_timeout > queue_visibility_timeout
        ):
            raise invalid_parameter(
                f"Queue visibility timeout: {queue_visibility_timeout} seconds is less than "
                f"Function timeout: {function_timeout} seconds"
            )
    else:
        timestamp = config.get("StartingPositionTimestamp")
        if timestamp is not None:
            if config.get("StartingPosition") != "AT_TIMESTAMP":
                raise invalid_parameter("Timestamp only valid with StartingPosition AT_TIMESTAMP")
            if float(timestamp) < 0:
                # AWS's exact text for this one is not recorded.
                raise invalid_parameter("StartingPositionTimestamp must not be negative")
        if config.get("StartingPosition") == "AT_TIMESTAMP":
            if kind == "dynamodb":
                raise invalid_parameter(f"Unsupported starting position for arn type: {source_arn}")
            if config.get("StartingPositionTimestamp") is None:
                raise invalid_parameter("Need to specify a timestamp")
        age = int(config.get("MaximumRecordAgeInSeconds", -1))
        if age != -1 and not 60 <= age <= 604_800:
            raise invalid_parameter(
                "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
                "(inclusive)"
            )
    validate_filters(config.get("FilterCriteria"), kind)


def validate_filters(criteria: dict[str, Any] | None, kind: SourceKind) -> None:
    """Reject FilterCriteria AWS rejects (count, length, pattern grammar)."""
    if not criteria:
        return
    filters = criteria.get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise invalid_parameter("Invalid filter pattern definition.")
    for entry in filters:
        pattern = entry.get("Pattern")
        if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
            raise validation_error(
                pattern,
                "filterCriteria.filters.member.pattern",
                f"Member must have length less than or equal to {MAX_PATTERN_LENGTH}",
            )
    try:
        compile_record_filter(criteria, kind)
    except AwsError as error:
        # Re-raised so the body carries Lambda's lower-case "message" like every
        # InvalidParameterValueException of this API.
        raise invalid_parameter(error.message) from None


def compile_record_filter(criteria: dict[str, Any] | None, kind: SourceKind) -> RecordFilter | None:
    """The compiled filter of a mapping, or ``None`` when it keeps every record."""
    if not criteria or not criteria.get("Filters"):
        return None
    from headwater.core.filtering import compile_filter_criteria

    compiled: RecordFilter = compile_filter_criteria(criteria, kind)
    return compiled
