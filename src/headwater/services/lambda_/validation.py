"""Lambda function parameters: parsing references and validating settings with AWS's errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.errors import AwsError, validation_error
from headwater.core.values import JAVA_INT

#: Runtimes headwater runs (see ``headwater.runtime.families``): Python on a matching local
#: interpreter, Node.js on the local node, custom runtimes from their ``bootstrap``.
SUPPORTED_RUNTIMES = (
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "provided.al2",
    "provided.al2023",
)
#: Runtimes Lambda refuses for new functions and updates.
DEPRECATED_RUNTIMES = frozenset(
    {
        "python2.7",
        "python3.6",
        "python3.7",
        "python3.8",
        "nodejs",
        "nodejs4.3",
        "nodejs4.3-edge",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "java8",
        "dotnetcore1.0",
        "dotnetcore2.0",
        "dotnetcore2.1",
        "dotnetcore3.1",
        "dotnet6",
        "ruby2.5",
        "ruby2.7",
        "go1.x",
        "provided",
    }
)

MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 1, 900, 3
MIN_MEMORY, MAX_MEMORY, DEFAULT_MEMORY = 128, 10240, 128
MAX_ENVIRONMENT_BYTES = 4096
MAX_DESCRIPTION = 256
MAX_HANDLER = 128

#: Environment variables Lambda sets itself and refuses in ``Environment.Variables``.
RESERVED_ENVIRONMENT = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)

ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
HANDLER_PATTERN = r"[^\s]+"
#: AWS's FunctionName patterns (as its errors print them): operations on an existing
#: function accept more than CreateFunction does (dots, $LATEST.PUBLISHED).
_REGION_PART = r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
NAME_PATTERN = (
    rf"(arn:(aws[a-zA-Z-]*)?:lambda:)?{_REGION_PART}(\d{{12}}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
CREATE_NAME_PATTERN = (
    rf"(arn:(aws[a-zA-Z-]*)?:lambda:)?{_REGION_PART}(\d{{12}}:)?"
    r"(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
MAX_QUALIFIER = 128
MAX_CREATE_NAME = 140
MAX_NAME = 64
_NAME_CHECKS = {False: re.compile(NAME_PATTERN), True: re.compile(CREATE_NAME_PATTERN)}
_QUALIFIER = re.compile(QUALIFIER_PATTERN)
_ALIAS_OR_VERSION = re.compile(r"[a-zA-Z0-9-_]+")
_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
_ROLE = re.compile(ROLE_PATTERN)
_ENV_KEY = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")


#: Lambda errors whose model spells the message member ``Message`` (the others: ``message``).
CAPITALIZED_MESSAGE = frozenset(
    {"ResourceNotFoundException", "ResourceInUseException", "ServiceException"}
)


def user_error(code: str, message: str, status: int = 400, **fields: Any) -> AwsError:
    """A Lambda error: its body carries ``"Type": "User"`` and the message member the
    model names (``Message`` for ResourceNotFoundException, ``message`` for most)."""
    if code in CAPITALIZED_MESSAGE:
        fields.setdefault("Message", message)
    return AwsError(code, message, status=status, fields={"Type": "User", **fields})


def invalid_parameter(message: str) -> AwsError:
    return user_error("InvalidParameterValueException", message)


def not_found(arn: str) -> AwsError:
    return user_error("ResourceNotFoundException", f"Function not found: {arn}", 404)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A parsed ``FunctionName``: name, and the qualifier it carried (if any)."""

    name: str
    qualifier: str | None
    account: str | None
    region: str | None


def parse_function_ref(
    value: str, qualifier: str | None = None, *, create: bool = False
) -> FunctionRef:
    """Parse a name, partial ARN or ARN (with an optional ``:qualifier``).

    Every failed constraint is reported at once, as AWS does: the qualifier's first, then
    the name's (CreateFunction's name also has a length limit).
    """
    value = value or ""
    failed: list[str] = []
    if qualifier is not None:
        if len(qualifier) > MAX_QUALIFIER:
            failed.append(_constraint(qualifier, "qualifier", _longest(MAX_QUALIFIER)))
        if not _QUALIFIER.fullmatch(qualifier):
            failed.append(_constraint(qualifier, "qualifier", _pattern(QUALIFIER_PATTERN)))
    if create and len(value) > MAX_CREATE_NAME:
        failed.append(_constraint(value, "functionName", _longest(MAX_CREATE_NAME)))
    if not _NAME_CHECKS[create].fullmatch(value):
        pattern = CREATE_NAME_PATTERN if create else NAME_PATTERN
        failed.append(_constraint(value, "functionName", _pattern(pattern)))
    match = _NAME.fullmatch(value)
    if failed or match is None:
        failed = failed or [_constraint(value, "functionName", _pattern(NAME_PATTERN))]
        count = len(failed)
        raise AwsError(
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(failed)}",
        )
    embedded = match["qualifier"]
    if embedded is not None and qualifier is not None and embedded != qualifier:
        raise invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    if create and len(match["name"]) > MAX_NAME:
        raise invalid_parameter(
            "1 validation error detected: "
            + _constraint(match["name"], "functionName", _longest(MAX_NAME))
        )
    return FunctionRef(match["name"], embedded or qualifier, match["account"], match["region"])


def is_alias_name(qualifier: str) -> bool:
    """Whether ``qualifier`` has the shape of an alias name or a version number."""
    return _ALIAS_OR_VERSION.fullmatch(qualifier) is not None


def _constraint(value: str, member: str, constraint: str) -> str:
    return f"Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"


def _longest(limit: int) -> str:
    return f"Member must have length less than or equal to {limit}"


def _pattern(pattern: str) -> str:
    return f"Member must satisfy regular expression pattern: {pattern}"


def check_runtime(runtime: Any) -> str:
    if runtime in SUPPORTED_RUNTIMES:
        return str(runtime)
    if not isinstance(runtime, str) or runtime in DEPRECATED_RUNTIMES or not runtime:
        raise invalid_parameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    raise invalid_parameter(
        f"The runtime parameter of {runtime} is not supported by headwater: it runs "
        f"{', '.join(SUPPORTED_RUNTIMES)} functions."
    )


def check_handler(handler: Any) -> str:
    if not isinstance(handler, str) or not re.fullmatch(HANDLER_PATTERN, handler):
        raise validation_error(
            handler, "handler", f"Member must satisfy regular expression pattern: {HANDLER_PATTERN}"
        )
    if len(handler) > MAX_HANDLER:
        raise validation_error(
            handler, "handler", f"Member must have length less than or equal to {MAX_HANDLER}"
        )
    return handler


def check_role(role: Any) -> str:
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise validation_error(
            role, "role", f"Member must satisfy regular expression pattern: {ROLE_PATTERN}"
        )
    return role


def check_range(value: Any, member: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_parameter(f"{member} must be an integer")
    if value < low:
        raise validation_error(
            value, member, f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise validation_error(
            value, member, f"Member must have value less than or equal to {high}"
        )
    return value


def check_timeout(value: Any) -> int:
    return check_range(value, "timeout", MIN_TIMEOUT, MAX_TIMEOUT)


def check_memory(value: Any) -> int:
    return check_range(value, "memorySize", MIN_MEMORY, MAX_MEMORY)


def check_description(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_DESCRIPTION:
        raise validation_error(
            text, "description", f"Member must have length less than or equal to {MAX_DESCRIPTION}"
        )
    return text


def check_environment(environment: Any) -> dict[str, str]:
    """``Environment={"Variables": {...}}`` as a dict; reserved names and > 4 KB rejected."""
    if environment is None:
        return {}
    variables = environment.get("Variables") if isinstance(environment, dict) else None
    if not variables:
        return {}
    result = {str(k): str(v) for k, v in variables.items()}
    reserved = [k for k in result if k in RESERVED_ENVIRONMENT]
    if reserved:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    for key in result:
        if not _ENV_KEY.fullmatch(key):
            raise validation_error(
                key,
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+",
            )
    measured = orjson.dumps(result).decode()
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured
        )
    return result


def check_reserved_concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise validation_error(
            value,
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        )
    if value > JAVA_INT[-1]:
        # Far beyond any account's concurrency (the store keeps 64-bit integers): the
        # answer AWS gives a reservation above the account's unreserved pool.
        raise user_error(
            "InvalidParameterValueException",
            "Specified ReservedConcurrentExecutions for function decreases account's "
            "UnreservedConcurrentExecution below its minimum value of [100].",
        )
    return value
