"""Where the deployment tools the end-to-end tests drive are (installed by .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

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
    missing(f"{what} is not installed (.ci/run installs it; or set {variable})")


def missing(message: str) -> NoReturn:
    """Skip for a missing tool outside CI; fail in CI, so a broken install never passes."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def cdk_handler_code(handler: str, destination: Path, sdk_clients: Sequence[str]) -> Path:
    """``destination`` holding a copy of CDK's handler code ``handler`` (a file or folder
    under aws-cdk-lib's ``node_modules``, from ``tools/cdk``), beside the node tools'
    ``node_modules`` (``tools/node``), which hold the ``@aws-sdk/<client>`` packages
    ``sdk_clients`` the handler imports as AWS's nodejs runtime provides them."""
    cdk = Path(os.environ.get("HEADWATER_CDK_TOOLS", "~/.cache/headwater/cdk-tools"))
    node = Path(os.environ.get("HEADWATER_NODE_TOOLS", "~/.cache/headwater/node-tools"))
    source = cdk.expanduser() / "node_modules" / handler
    modules = node.expanduser() / "node_modules"
    if shutil.which("node") is None or not source.exists():
        missing("Node.js or aws-cdk-lib is not installed (.ci/run installs tools/cdk)")
    if not all((modules / "@aws-sdk" / client).exists() for client in sdk_clients):
        missing(f"@aws-sdk/{', '.join(sdk_clients)} not installed (.ci/run installs tools/node)")
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    else:
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination / source.name)
    (destination / "node_modules").symlink_to(modules)
    return destination


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


def run_tool(
    server: ServerProcess,
    cwd: Path,
    command: list[str],
    *,
    region: str,
    ok: bool = True,
    **env: str,
) -> str:
    """Run a deployment tool (the AWS CLI, SAM, headwater) in ``cwd`` against ``server``;
    its output, once its exit status says success (or, with ``ok=False``, failure)."""
    environment = server.client_env()
    environment.update(
        # only the endpoint is set: AWS_ENDPOINT_URL reaches every client the tools make
        # (AWS CLI v1 gives `cloudformation package`'s S3 client no --endpoint-url)
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_DEFAULT_REGION=region,
        SAM_CLI_TELEMETRY="0",
        # SAM polls stack events every 5 s by default; the deployment is done long before
        SAM_CLI_POLL_DELAY="0.5",
        **env,
    )
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    printed = completed.stdout + completed.stderr
    assert (completed.returncode == 0) == ok, printed
    return printed
