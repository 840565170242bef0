"""A function's ``FunctionConfiguration`` as Lambda answers it, and the optional settings
headwater stores and echoes without acting on them (tracing, dead-letter target, VPC,
KMS key, logging format...).

Every optional member is answered in the shape AWS uses when it is not set (``TracingConfig
{"Mode": "PassThrough"}``, ``EphemeralStorage {"Size": 512}``, ``LoggingConfig`` with the
function's log group), so infrastructure tools that compare what they wrote with what
they read (Terraform's plan) see no difference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from headwater.core.errors import validation_error
from headwater.runtime.logs import runtime_version_arn
from headwater.services.base import Params, Result
from headwater.services.lambda_ import validation as check
from headwater.store.functions import FunctionRecord

#: Settings kept in ``FunctionRecord.extra`` under their AWS names, as given.
ECHOED_SETTINGS = (
    "Architectures",
    "EphemeralStorage",
    "TracingConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "VpcConfig",
    "FileSystemConfigs",
    "ImageConfig",
    "LoggingConfig",
    "SnapStart",
)

LOG_FORMATS = ("Text", "JSON")
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
TRACING_MODES = ("Active", "PassThrough")
MIN_EPHEMERAL, MAX_EPHEMERAL = 512, 10240


def last_modified(epoch: float) -> str:
    """Lambda's ``LastModified`` string: ``2024-01-01T12:00:00.000+0000``."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def logging_config(record: FunctionRecord) -> dict[str, Any]:
    """``LoggingConfig``: Text with the function's log group unless set otherwise."""
    stored = dict(record.extra.get("LoggingConfig") or {})
    config: dict[str, Any] = {
        "LogFormat": stored.get("LogFormat", "Text"),
        "LogGroup": stored.get("LogGroup") or f"/aws/lambda/{record.name}",
    }
    if config["LogFormat"] == "JSON":
        config["ApplicationLogLevel"] = stored.get("ApplicationLogLevel", "INFO")
        config["SystemLogLevel"] = stored.get("SystemLogLevel", "INFO")
    return dict(sorted(config.items()))


def describe(record: FunctionRecord, arn: str, version: str) -> Result:
    """The FunctionConfiguration of ``record`` (``$LATEST`` or a published version)."""
    extra = record.extra
    config: Result = {
        "FunctionName": record.name,
        "FunctionArn": arn,
        "Runtime": record.runtime,
        "Role": record.role,
        "Handler": record.handler,
        "CodeSize": record.code_size,
        "Description": record.description,
        "Timeout": record.timeout,
        "MemorySize": record.memory_size,
        "LastModified": last_modified(record.last_modified),
        "CodeSha256": record.code_sha256,
        "Version": version,
    }
    if record.environment:
        config["Environment"] = {"Variables": dict(record.environment)}
    config["TracingConfig"] = extra.get("TracingConfig") or {"Mode": "PassThrough"}
    dead_letter = (extra.get("DeadLetterConfig") or {}).get("TargetArn")
    if dead_letter:
        config["DeadLetterConfig"] = {"TargetArn": dead_letter}
    if extra.get("KMSKeyArn"):
        config["KMSKeyArn"] = extra["KMSKeyArn"]
    vpc = extra.get("VpcConfig")
    if vpc and (vpc.get("SubnetIds") or vpc.get("SecurityGroupIds")):
        config["VpcConfig"] = {
            "SubnetIds": list(vpc.get("SubnetIds") or []),
            "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or []),
            "VpcId": vpc.get("VpcId", ""),
            "Ipv6AllowedForDualStack": bool(vpc.get("Ipv6AllowedForDualStack", False)),
        }
    layers = [{k: v for k, v in layer.items() if k != "Dir"} for layer in extra.get("Layers") or []]
    if layers:
        config["Layers"] = layers
    if extra.get("FileSystemConfigs"):
        config["FileSystemConfigs"] = list(extra["FileSystemConfigs"])
    config.update(
        {
            "RevisionId": record.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": extra.get("Architectures") or ["x86_64"],
            "EphemeralStorage": extra.get("EphemeralStorage") or {"Size": 512},
            "SnapStart": {
                "ApplyOn": (extra.get("SnapStart") or {}).get("ApplyOn", "None"),
                "OptimizationStatus": "Off",
            },
            "LoggingConfig": logging_config(record),
            # Every function here runs a managed runtime (image functions are refused).
            "RuntimeVersionConfig": {
                "RuntimeVersionArn": runtime_version_arn(
                    record.runtime, record.region, arn.split(":")[1]
                )
            },
        }
    )
    return config


def settings_of(params: Params, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """``extra`` after CreateFunction / UpdateFunctionConfiguration's optional settings,
    validated as Lambda validates them. An empty value removes a setting (as AWS reads
    ``DeadLetterConfig={}`` or ``VpcConfig={"SubnetIds": []}``)."""
    extra = dict(current or {})
    for key in ECHOED_SETTINGS:
        if key not in params or params[key] is None:
            continue
        value = params[key]
        _check_setting(key, value)
        if key == "LoggingConfig":
            merged = {**(extra.get("LoggingConfig") or {}), **value}
            if merged.get("LogFormat") == "Text":
                merged.pop("ApplicationLogLevel", None)
                merged.pop("SystemLogLevel", None)
            value = merged
        if value in ({}, [], "") or (key == "DeadLetterConfig" and not value.get("TargetArn")):
            extra.pop(key, None)
        else:
            extra[key] = value
    return extra


def _check_setting(key: str, value: Any) -> None:
    if key == "TracingConfig":
        mode = value.get("Mode", "PassThrough") if isinstance(value, dict) else None
        if mode not in TRACING_MODES:
            raise validation_error(
                mode,
                "tracingConfig.mode",
                f"Member must satisfy enum value set: [{', '.join(TRACING_MODES)}]",
            )
    elif key == "EphemeralStorage":
        size = value.get("Size") if isinstance(value, dict) else None
        check.check_range(size, "ephemeralStorage.size", MIN_EPHEMERAL, MAX_EPHEMERAL)
    elif key == "LoggingConfig" and isinstance(value, dict):
        log_format = value.get("LogFormat")
        if log_format is not None and log_format not in LOG_FORMATS:
            raise validation_error(
                log_format,
                "loggingConfig.logFormat",
                f"Member must satisfy enum value set: [{', '.join(LOG_FORMATS)}]",
            )
        for level_key, member in (
            ("ApplicationLogLevel", "applicationLogLevel"),
            ("SystemLogLevel", "systemLogLevel"),
        ):
            level = value.get(level_key)
            if level is not None and level not in LOG_LEVELS:
                raise validation_error(
                    level,
                    f"loggingConfig.{member}",
                    f"Member must satisfy enum value set: [{', '.join(LOG_LEVELS)}]",
                )
    elif key == "Architectures" and value not in (["x86_64"], ["arm64"]):
        raise validation_error(
            value,
            "architectures",
            "Member must have length less than or equal to 1 and satisfy enum value set: "
            "[x86_64, arm64]",
        )
