"""The error hierarchy: one root, and AWS-facing errors that carry AWS's code and message."""

from __future__ import annotations

from typing import Any


class HeadwaterError(Exception):
    """Root of every error headwater raises on purpose."""


class HeadwaterClosed(HeadwaterError):
    """The ``Headwater`` was closed; make a new one."""


class AwsError(HeadwaterError):
    """An error an AWS service would return, with its code, message and HTTP status.

    ``code`` is the error shape name in the botocore model (``QueueDoesNotExist``);
    ``query_code`` the legacy awsQuery code where it differs
    (``AWS.SimpleQueueService.NonExistentQueue``); ``fields`` extra members of the error
    body (e.g. Lambda's ``Type`` or ``Reason``). The wire layer serializes these without
    knowing the cause; the in-process client turns them into botocore ``ClientError``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        sender_fault: bool = True,
        query_code: str | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.query_code = query_code
        self.fields = fields or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"AwsError({self.code!r}, {self.message!r}, status={self.status})"


def constraint_finding(value: object, member: str, constraint: str) -> str:
    """One member's part of AWS's "N validation errors detected: ..." message."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}"


def length_rule(size: int, most: int | None) -> str | None:
    """The request model's length rule a member of ``size`` entries or characters breaks
    when it must hold 1 to ``most`` (``None``: no upper bound), else ``None``."""
    if size < 1:
        return "Member must have length greater than or equal to 1"
    if most is not None and size > most:
        return f"Member must have length less than or equal to {most}"
    return None


def validation_errors(findings: list[str]) -> AwsError:
    """AWS's ValidationException for every constraint a request broke, in one message."""
    count = len(findings)
    return AwsError(
        "ValidationException",
        f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(findings)}",
    )


def validation_error(value: object, member: str, constraint: str) -> AwsError:
    """AWS's standard single-member ValidationException."""
    shown = "null" if value is None else f"'{value}'"
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
        f"constraint: {constraint}",
    )
