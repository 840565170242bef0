"""Where the deployment tools the end-to-end tests drive are (installed by .ci/run)."""

from __future__ import annotations

import os
import shutil

import pytest


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
