"""The Lambda context object handed to Python handlers (built inside the worker).

This module imports only the standard library: worker processes load it by file path so
that a cold start does not import headwater (and botocore). Field names and types follow
AWS's Python runtime: ``memory_limit_in_mb`` is a *string*, ``identity`` and
``client_context`` are ``None`` unless the caller supplied them.
"""

from __future__ import annotations

import time
from typing import Any


class CognitoIdentity:
    """``context.identity`` for invocations made by the AWS Mobile SDK."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data: dict[str, Any]) -> None:
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class ClientContext:
    """``context.client_context``: the decoded ``X-Amz-Client-Context`` of the invoke."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        self.client = data.get("client")
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    """What ``handler(event, context)`` receives as ``context``."""

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: float,
        identity: dict[str, Any] | None = None,
        client_context: dict[str, Any] | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self._deadline_ms = deadline_ms
        self.identity = CognitoIdentity(identity) if identity is not None else None
        self.client_context = ClientContext(client_context) if client_context is not None else None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (never negative)."""
        return max(0, int(self._deadline_ms - time.time() * 1000.0))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )
