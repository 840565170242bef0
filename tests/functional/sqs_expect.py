"""Assertions for SQS errors as boto3 reports them (shared by the SQS functional tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def expect_error(
    call: Callable[[], Any],
    code: str,
    message: str | None = None,
    *,
    query_code: str | None = None,
    status: int | None = None,
    exception: str | None = None,
) -> ClientError:
    """Run ``call`` and check the ClientError boto3 would raise against AWS.

    ``code`` is ``e.response["Error"]["Code"]`` (the legacy code SQS sends),
    ``query_code`` the modeled ``__type`` name, ``exception`` the class name.
    """
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message, error
    if query_code is not None:
        assert error["QueryErrorCode"] == query_code
    if status is not None:
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    if exception is not None:
        assert type(caught.value).__name__ == exception
    return caught.value
