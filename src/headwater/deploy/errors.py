"""The errors the template language raises, with CloudFormation's codes and texts."""

from __future__ import annotations

from headwater.core.errors import AwsError, HeadwaterError


def validation_error(message: str) -> AwsError:
    """CloudFormation's ``ValidationError`` (HTTP 400), the code of every template problem."""
    return AwsError("ValidationError", message, status=400)


def format_error(message: str) -> AwsError:
    """``Template format error: ...``: the template's structure is wrong (found on submit)."""
    return validation_error(f"Template format error: {message}")


class TemplateError(HeadwaterError):
    """A template problem found while resolving values (``Template error: ...``).

    CloudFormation reports these when a stack operation runs (as a resource or stack status
    reason) or, when the value is static, on submit as a ``ValidationError``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"Template error: {message}")
        self.message = f"Template error: {message}"

    def as_aws_error(self) -> AwsError:
        return validation_error(self.message)
