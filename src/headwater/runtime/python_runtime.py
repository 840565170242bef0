"""Python as AWS ships it: the interpreter of a ``pythonX.Y`` runtime and its import path.

- **Interpreter.** A ``python3.12`` function runs on a Python 3.12: the one configured
  (``function_interpreters``), else a ``python3.12`` found on ``PATH`` or in pyenv's and
  uv's version directories that really runs and reports 3.12 (a pyenv shim that fails is
  skipped). None found: the interpreter running headwater, with a warning at create time
  and in the INIT_START line naming the version that really runs.
- **Import path.** Only what AWS puts there: the function's code, its layers
  (``python`` and ``python/lib/pythonX.Y/site-packages`` of each) and the runtime's bundled
  boto3 / botocore (with s3transfer, jmespath, dateutil, urllib3, six, as AWS bundles
  them). Workers start with ``-S`` (no site-packages), so headwater, uvicorn, pydantic or
  anything else installed next to headwater cannot be imported by a function: a missing
  dependency fails here as it would on AWS (``Runtime.ImportModuleError``).

``code_directories`` is the one place that says which directories a function's code
comes from (function code first, then layers in order).
"""

from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from headwater.runtime.environment import FunctionSpec

log = logging.getLogger("headwater.lambda")

#: What AWS's Python runtimes bundle beside the standard library (top-level modules).
BUNDLED_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
#: awslambdaric and what it imports (only on the path of functions run through it).
AWSLAMBDARIC_MODULES = ("awslambdaric", "simplejson", "snapshot_restore_py", "runtime_client")

HOST_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def code_directories(spec: FunctionSpec) -> list[str]:
    """The function's code directory, then its layers' (AWS: /var/task, then /opt)."""
    return [spec.code_dir, *spec.layer_dirs]


def runtime_version(runtime: str) -> str | None:
    """``"3.12"`` for ``python3.12``; None for other runtimes."""
    if not runtime.startswith("python"):
        return None
    return runtime.removeprefix("python")


def import_path(spec: FunctionSpec, version: str) -> list[str]:
    """The function's ``sys.path`` entries before the standard library."""
    paths = [spec.code_dir]
    for layer in spec.layer_dirs:
        paths += [
            os.path.join(layer, "python"),
            os.path.join(layer, "python", "lib", f"python{version}", "site-packages"),
        ]
    paths.append(bundle_directory(BUNDLED_MODULES))
    return paths


def _module_location(name: str) -> str | None:
    """The file or package directory of an importable top-level module, without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    origin = Path(spec.origin)
    return str(origin.parent) if origin.name == "__init__.py" else str(origin)


@functools.cache
def bundle_directory(modules: tuple[str, ...]) -> str:
    """A directory that holds (symlinks to) exactly ``modules`` from headwater's environment.

    Made once per process and set of installed versions, under the temporary directory.
    """
    locations = {name: found for name in modules if (found := _module_location(name))}
    digest = hashlib.sha256(repr(sorted(locations.items())).encode()).hexdigest()[:16]
    root = Path(tempfile.gettempdir()) / f"headwater-{os.getuid()}" / f"python-bundle-{digest}"
    if root.is_dir():
        return str(root)
    root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix="bundle-", dir=root.parent))
    for location in locations.values():
        os.symlink(location, staging / Path(location).name)
    try:
        staging.rename(root)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return str(root)


def orjson_extension(python: str) -> str | None:
    """orjson's compiled module, for a worker on headwater's own interpreter (it loads it
    privately for speed; functions cannot import it)."""
    if os.path.realpath(python) != os.path.realpath(sys.executable):
        return None
    return _module_location("orjson.orjson") or None


@functools.cache
def interpreter_version(executable: str) -> str:
    """``"3.12.1"`` for a Python executable ("" if it does not run)."""
    if os.path.realpath(executable) == os.path.realpath(sys.executable):
        return ".".join(map(str, sys.version_info[:3]))
    try:
        done = subprocess.run(
            [executable, "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _version_of(executable: str) -> str:
    return ".".join(interpreter_version(executable).split(".")[:2])


def _candidates(version: str) -> list[str]:
    name = f"python{version}"
    found: list[str] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory:
            found.append(os.path.join(directory, name))
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", name)))
    uv_root = os.path.expanduser("~/.local/share/uv/python")
    found += sorted(glob.glob(os.path.join(uv_root, f"cpython-{version}.*", "bin", name)))
    return [c for c in found if os.path.isfile(c) and os.access(c, os.X_OK)]


@functools.cache
def find_interpreter(version: str) -> str | None:
    """A Python ``version`` ("3.12") on this machine, or None."""
    if version == HOST_VERSION:
        return sys.executable
    for candidate in _candidates(version):
        if _version_of(candidate) == version:
            return candidate
    return None


def interpreter_for(runtime: str, configured: dict[str, str]) -> tuple[str, str | None]:
    """(executable, warning): the interpreter a runtime runs on, and why it is not a match."""
    if runtime in configured:
        return configured[runtime], None
    version = runtime_version(runtime)
    if version is None:
        return sys.executable, None
    found = find_interpreter(version)
    if found is not None:
        return found, None
    return sys.executable, (
        f"no Python {version} found on this machine (PATH, pyenv, uv): {runtime} functions "
        f"run on Python {HOST_VERSION} ({sys.executable}); install Python {version} or set "
        f"function_interpreters={{'{runtime}': '/path/to/python{version}'}}"
    )


def warn_if_no_interpreter(runtime: str, configured: dict[str, str]) -> str | None:
    """Log (at create time) that a runtime's Python is missing; returns the warning."""
    _, warning = interpreter_for(runtime, configured)
    if warning is not None:
        log.warning("%s", warning)
    return warning
