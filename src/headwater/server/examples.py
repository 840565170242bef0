"""``headwater serve --example DIR``: deploy an example app into the server at startup.

An example is a directory with an ``app.py`` whose ``deploy(hw)`` creates the example's
queues, functions and mappings through the Python API. ``deploy`` must be idempotent:
the server may start again on the same data directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from headwater.core.errors import HeadwaterError


class ExampleError(HeadwaterError):
    """The example directory has no usable ``app.py``/``deploy``."""


def deploy_example(hw: Any, directory: str | Path) -> Any:
    """Import ``directory/app.py`` and run its ``deploy(hw)``; returns what it returns."""
    app_file = Path(directory).resolve() / "app.py"
    if not app_file.is_file():
        raise ExampleError(f"{directory}: no app.py with a deploy(hw) function")
    name = f"headwater_example_{app_file.parent.name}"
    spec = importlib.util.spec_from_file_location(name, app_file)
    if spec is None or spec.loader is None:
        raise ExampleError(f"cannot import {app_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    deploy = getattr(module, "deploy", None)
    if not callable(deploy):
        raise ExampleError(f"{app_file} has no deploy(hw) function")
    return deploy(hw)
