"""CloudWatch's errors, as each of its three protocols reports them.

CloudWatch is ``awsQueryCompatible``: on the JSON and CBOR wires ``__type`` names the
Smithy shape (``InvalidParameterValueException``) while the ``x-amzn-query-error`` header
carries the query code (``InvalidParameterValue``) that botocore reports as the error
code; on the query wire the query code is the ``<Code>``.
"""

from __future__ import annotations

from headwater.core.errors import AwsError


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, query_code="InvalidParameterValue")


def invalid_combination(message: str) -> AwsError:
    return AwsError(
        "InvalidParameterCombinationException", message, query_code="InvalidParameterCombination"
    )


def missing_parameter(message: str) -> AwsError:
    return AwsError("MissingRequiredParameterException", message, query_code="MissingParameter")


def validation(message: str) -> AwsError:
    """A constraint violation (``ValidationError`` on the query wire)."""
    return AwsError("ValidationException", message, query_code="ValidationError")


def enum_violation(value: object, member: str, allowed: list[str]) -> AwsError:
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def resource_not_found(message: str = "") -> AwsError:
    """An alarm (or other resource) that does not exist: 404 with an empty message."""
    return AwsError("ResourceNotFound", message, status=404, query_code="ResourceNotFound")


def resource_not_found_exception(message: str) -> AwsError:
    """The tagging operations' not-found error (a different shape from ResourceNotFound)."""
    return AwsError(
        "ResourceNotFoundException", message, status=404, query_code="ResourceNotFoundException"
    )


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceededFault", message, query_code="LimitExceeded")
