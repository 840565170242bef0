"""SNS's errors, with the wire codes of the botocore model and AWS's message texts."""

from __future__ import annotations

from headwater.core.arn import Arn
from headwater.core.errors import AwsError


def invalid_parameter(message: str) -> AwsError:
    """``InvalidParameter``: "Invalid parameter: <message>"."""
    return AwsError("InvalidParameter", f"Invalid parameter: {message}")


def invalid_parameter_value(message: str) -> AwsError:
    return AwsError("ParameterValueInvalid", message)


def topic_not_found() -> AwsError:
    return AwsError("NotFound", "Topic does not exist", status=404)


def subscription_not_found() -> AwsError:
    return AwsError("NotFound", "Subscription does not exist", status=404)


def not_found(message: str) -> AwsError:
    return AwsError("NotFound", message, status=404)


def resource_not_found(message: str = "Resource does not exist") -> AwsError:
    return AwsError("ResourceNotFound", message, status=404)


def authorization_error(message: str) -> AwsError:
    return AwsError("AuthorizationError", message, status=403)


def check_arn(value: str | None, member: str) -> Arn:
    """A well-formed ARN, with SNS's "An ARN must have at least 6 elements" error."""
    text = value or ""
    parts = text.split(":")
    if len(parts) < 6:
        raise invalid_parameter(
            f"{member} Reason: An ARN must have at least 6 elements, not {len(parts)}"
        )
    arn = Arn.try_parse(text)
    if arn is None or parts[0] != "arn":
        raise invalid_parameter(f"{member} Reason: A ARN must begin with arn:")
    return arn
