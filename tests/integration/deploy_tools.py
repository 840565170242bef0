"""Where the deployment tools the end-to-end tests drive are (installed by .ci/run)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conformance.server_process import ServerProcess, boto_client


def tool(variable: str, command: str, what: str) -> str:
    """The path of ``command`` (``$variable`` first, then PATH).

    Outside CI a missing tool skips the test (``.ci/run`` installs it); in CI it fails, so a
    broken install never passes unnoticed.
    """
    found = os.environ.get(variable) or shutil.which(command)
    if found and os.access(found, os.X_OK):
        return found
    message = f"{what} is not installed (.ci/run installs it; or set {variable})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def function_log(server: ServerProcess, function: str, region: str = "us-west-2") -> str:
    """A function's log so far (its CloudWatch Logs group ``/aws/lambda/<name>``)."""
    logs = boto_client(server.endpoint, "logs", region)
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}"
        )
        return "".join(event["message"] for page in pages for event in page["events"])
    except logs.exceptions.ResourceNotFoundException:
        return ""  # no invocation yet
