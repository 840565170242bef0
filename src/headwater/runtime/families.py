"""Runtime families: which execution environment and bootstrap each Lambda runtime gets.

========================  ====================================================================
``python3.x``             the fast Python worker (``python_worker``), on a matching interpreter;
                          or, with ``python_runtime_client="awslambdaric"`` (or the function
                          variable ``HEADWATER_RUNTIME_CLIENT=awslambdaric``), AWS's own
                          runtime interface client through the Runtime API
``nodejs18/20/22.x``      node with headwater's bootstrap (``node/bootstrap.js``, no npm
                          package needed) or, with ``node_runtime_client`` set to the path of
                          an installed ``aws-lambda-ric``, AWS's client; through the Runtime API
``provided.al2023/al2``   the function's (or a layer's) executable ``bootstrap``
========================  ====================================================================

``launch`` is the one entry point the pools use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from headwater.runtime import python_runtime
from headwater.runtime.api_environment import start_api_environment
from headwater.runtime.api_server import runtime_api_host
from headwater.runtime.environment import FunctionSpec, Worker
from headwater.runtime.extensions import extension_executables
from headwater.runtime.python_worker import spawn_worker

NODE_BOOTSTRAP = str(Path(__file__).with_name("node") / "bootstrap.js")

#: Environment variable with which one function asks for a runtime interface client.
CLIENT_VARIABLE = "HEADWATER_RUNTIME_CLIENT"


class EntrypointError(Exception):
    """The environment cannot start its runtime: an init error as AWS reports it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.body = {"errorType": error_type, "errorMessage": message}


@dataclass(frozen=True, slots=True)
class LaunchSettings:
    """How environments are started (from ``HeadwaterOptions``)."""

    interpreters: dict[str, str] = field(default_factory=dict)
    endpoint_url: Callable[[], str | None] = lambda: None
    node: str | None = None  # node executable (None: found on PATH)
    node_runtime_client: str | None = None  # aws-lambda-ric package directory
    python_runtime_client: str = "worker"  # or "awslambdaric"


def family(runtime: str) -> str:
    """ "python", "nodejs" or "provided"."""
    for name in ("python", "nodejs", "provided"):
        if runtime.startswith(name):
            return name
    raise ValueError(f"headwater does not run {runtime} functions")


def launch(spec: FunctionSpec, settings: LaunchSettings) -> Worker:
    """Start an execution environment for ``spec`` (init runs in the background)."""
    kind = family(spec.runtime)
    if kind == "python":
        return _launch_python(spec, settings)
    if kind == "nodejs":
        return _launch_node(spec, settings)
    return _launch_provided(spec, settings)


def _client(spec: FunctionSpec, default: str) -> str:
    return spec.environment.get(CLIENT_VARIABLE, default)


def _launch_python(spec: FunctionSpec, settings: LaunchSettings) -> Worker:
    python, warning = python_runtime.interpreter_for(spec.runtime, settings.interpreters)
    note = _python_note(spec.runtime, python, warning)
    if _client(spec, settings.python_runtime_client) != "awslambdaric":
        return spawn_worker(
            spec, python=python, endpoint_url=settings.endpoint_url(), runtime_note=note
        )
    # awslambdaric ships compiled for headwater's interpreter: it runs there.
    version = python_runtime.HOST_VERSION
    path = [
        *python_runtime.import_path(spec, version)[1:],
        python_runtime.bundle_directory(python_runtime.AWSLAMBDARIC_MODULES),
    ]
    host = python_runtime.interpreter_version(sys.executable)
    note = f"Python {host} via awslambdaric"
    if python_runtime.runtime_version(spec.runtime) != python_runtime.HOST_VERSION:
        note = f"runs on Python {host} ({sys.executable}): awslambdaric is installed there"
    return start_api_environment(
        spec,
        [sys.executable, "-S", "-m", "awslambdaric", spec.handler],
        host=runtime_api_host(),
        endpoint_url=settings.endpoint_url(),
        extra_env={"PYTHONPATH": os.pathsep.join(path)},
        runtime_note=note,
        extension_commands=extension_executables(spec.layer_dirs),
    )


def _python_note(runtime: str, python: str, warning: str | None) -> str:
    version = python_runtime.interpreter_version(python)
    wanted = python_runtime.runtime_version(runtime)
    if warning is not None or (version and wanted and not version.startswith(wanted + ".")):
        return f"runs on Python {version or '?'} ({python}): no Python {wanted} found"
    return f"Python {version}" if version else ""


@cache
def _node_version(node: str) -> str:
    try:
        done = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip().lstrip("v")


def node_executable(settings: LaunchSettings) -> str:
    node = settings.node or shutil.which("node")
    if node is None:
        raise OSError("Node.js (node) is not installed or not on PATH: nodejs functions need it")
    return node


def node_path(spec: FunctionSpec, major: str) -> str:
    """``NODE_PATH`` as AWS sets it, with the function's layers standing for /opt.

    AWS: ``/opt/nodejs/node<major>/node_modules:/opt/nodejs/node_modules:...:/var/task``,
    ``major`` being the runtime's (nodejs20.x: node20), not the installed node's. /opt is
    every layer unpacked in order, a later layer overwriting an earlier one's files; so
    each directory kind lists the layers last to first, and every layer's runtime-specific
    directory comes before any layer's plain ``nodejs/node_modules``.
    """
    newest_first = list(reversed(spec.layer_dirs))
    specific = [
        os.path.join(layer, "nodejs", f"node{major}", "node_modules") for layer in newest_first
    ]
    shared = [os.path.join(layer, "nodejs", "node_modules") for layer in newest_first]
    return os.pathsep.join([*specific, *shared, spec.code_dir])


def _launch_node(spec: FunctionSpec, settings: LaunchSettings) -> Worker:
    node = node_executable(settings)
    version = _node_version(node)
    wanted = spec.runtime.removeprefix("nodejs").removesuffix(".x")
    note = f"Node.js {version}"
    if version and version.split(".")[0] != wanted:
        note = f"runs on Node.js {version} ({node}): the {spec.runtime} runtime asked for {wanted}"
    # AWS's Node bootstrap sizes V8's old space from the memory size the same way.
    options = [f"--max-old-space-size={spec.memory_size * 9 // 10}", "--expose-gc"]
    ric = _client(spec, settings.node_runtime_client or "headwater")
    if ric != "headwater":
        command = [node, *options, os.path.join(ric, "bin", "index.mjs"), spec.handler]
        note += " via aws-lambda-ric"
    else:
        command = [node, *options, NODE_BOOTSTRAP]
    return start_api_environment(
        spec,
        command,
        host=runtime_api_host(),
        endpoint_url=settings.endpoint_url(),
        extra_env={"NODE_PATH": node_path(spec, wanted)},
        runtime_note=note,
        extension_commands=extension_executables(spec.layer_dirs),
    )


def _launch_provided(spec: FunctionSpec, settings: LaunchSettings) -> Worker:
    candidates = [os.path.join(d, "bootstrap") for d in python_runtime.code_directories(spec)]
    bootstrap = next((c for c in candidates if os.path.isfile(c)), None)
    if bootstrap is None:
        listed = " ".join(candidates)
        raise EntrypointError(
            "Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{listed}]"
        )
    if not os.access(bootstrap, os.X_OK):
        raise EntrypointError(
            "Runtime.InvalidEntrypoint", f"fork/exec {bootstrap}: permission denied"
        )
    return start_api_environment(
        spec,
        [bootstrap],
        host=runtime_api_host(),
        endpoint_url=settings.endpoint_url(),
        runtime_note=spec.runtime,
        extension_commands=extension_executables(spec.layer_dirs),
    )
