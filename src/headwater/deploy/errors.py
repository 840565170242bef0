"""The errors the template language raises, with CloudFormation's codes and texts."""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from headwater.core.errors import AwsError, HeadwaterError

log = logging.getLogger(__name__)


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


class ResourceFailure(Exception):
    """A resource could not be changed; ``reason`` is its status reason. ``physical_id``:
    what a failed create still made (a custom resource's function names one when it
    answers FAILED, and gets a Delete for it in the rollback, as on AWS)."""

    def __init__(self, reason: str, *, physical_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.physical_id = physical_id


class StackFailure(Exception):
    """The operation failed outside any one resource (outputs, exports)."""


def failure_reason(error: BaseException) -> str:
    """A resource status reason for ``error``, worded as CloudFormation's handlers do."""
    if isinstance(error, ResourceFailure):
        return error.reason
    if isinstance(error, TemplateError):
        return error.message
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        return (
            f'Resource handler returned message: "{detail.get("Message", "")} (Operation: '
            f"{error.operation_name}, Status Code: {status}, Error Code: "
            f'{detail.get("Code", "")})"'
        )
    if isinstance(error, AwsError):
        return f'Resource handler returned message: "{error.message}"'
    if isinstance(error, ValueError):
        return str(error)
    log.exception("resource provider failed", exc_info=error)
    return f"Internal failure: {type(error).__name__}: {error}"
