"""Where a function's code comes from: import paths with layers, TypeScript entry points."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from headwater.runtime.environment import FunctionSpec
from headwater.runtime.families import node_path
from headwater.runtime.python_runtime import BUNDLED_MODULES, bundle_directory, import_path
from headwater.runtime.typescript import typescript_entry

SPEC = FunctionSpec(
    name="f",
    arn="arn:aws:lambda:us-east-1:000000000000:function:f",
    runtime="python3.12",
    handler="app.handler",
    code_dir="/code",
    timeout=3,
    memory_size=128,
    environment={},
    reserved_concurrency=None,
    revision="1",
    region="us-east-1",
    key="f",
    layer_dirs=("/layers/one", "/layers/two"),
)


def test_python_import_path_is_code_then_layers_then_the_bundle() -> None:
    assert import_path(SPEC, "3.12") == [
        "/code",
        "/layers/one/python",
        "/layers/one/python/lib/python3.12/site-packages",
        "/layers/two/python",
        "/layers/two/python/lib/python3.12/site-packages",
        bundle_directory(BUNDLED_MODULES),
    ]


def test_bundle_holds_only_what_aws_bundles() -> None:
    names = {os.path.splitext(name)[0] for name in os.listdir(bundle_directory(BUNDLED_MODULES))}
    names.discard("__pycache__")  # six.py is compiled next to its link
    assert {"boto3", "botocore"} <= names <= set(BUNDLED_MODULES)


def test_node_path_has_layers_as_opt() -> None:
    # /opt is the layers unpacked in order (a later one overwrites): the later layer's
    # package is found first, and /opt/nodejs/node20 precedes /opt/nodejs/node_modules.
    spec = replace(SPEC, runtime="nodejs20.x")
    assert node_path(spec, "20").split(os.pathsep) == [
        "/layers/two/nodejs/node20/node_modules",
        "/layers/one/nodejs/node20/node_modules",
        "/layers/two/nodejs/node_modules",
        "/layers/one/nodejs/node_modules",
        "/code",
    ]


def test_typescript_entry_needs_a_package_and_no_javascript(tmp_path: Path) -> None:
    app = tmp_path / "app"
    code = app / "lambda" / "orders"
    code.mkdir(parents=True)
    (code / "index.ts").write_text("export const handler = async () => 1;\n")
    assert typescript_entry(code, "index.handler") is None  # no package.json anywhere
    (app / "package.json").write_text("{}")
    assert typescript_entry(code, "index.handler") == code / "index.ts"
    assert typescript_entry(code, "index.nested.handler") == code / "index.ts"
    assert typescript_entry(code, "other.handler") is None
    (code / "index.js").write_text("exports.handler = async () => 1;\n")
    assert typescript_entry(code, "index.handler") is None  # already built: AWS runs the .js
