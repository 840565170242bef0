"""TypeScript handlers: built with esbuild into the JavaScript a nodejs runtime loads.

A code directory is built when it (or a parent: a CDK app's ``lambda/<name>`` asset
directories share the app's) has a ``package.json`` and the handler's module is a
TypeScript file (``index.handler`` -> ``index.ts``, also ``.mts`` / ``.cts``) with no
JavaScript of the same name beside it. ``prepare_code_directory`` bundles the entry point
like CDK's ``NodejsFunction`` does (``--bundle --platform=node``, CommonJS, or ESM when
the package.json says ``"type": "module"``; ``@aws-sdk/*`` left external, as the Node.js
runtimes provide it) into a fresh output directory, and returns the directory the
function then runs from. Type-only imports (``aws-lambda``'s ``SQSHandler``...) vanish in
the build, so ``@types/aws-lambda`` need not be installed.

esbuild is found, in order: the ``function_esbuild`` option; ``node_modules/.bin/esbuild``
in the code directory or a parent; ``$HEADWATER_NODE_TOOLS/node_modules/.bin/esbuild``;
``~/.cache/headwater/node-tools/node_modules/.bin/esbuild`` (where ``.ci/run`` installs
``tools/node``); ``esbuild`` on PATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from headwater.core.errors import AwsError

TS_SUFFIXES = (".ts", ".mts", ".cts")
JS_SUFFIXES = (".js", ".mjs", ".cjs")
#: Where ``.ci/run`` (and a developer) installs headwater's Node.js tools.
DEFAULT_NODE_TOOLS = Path("~/.cache/headwater/node-tools").expanduser()


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, status=400, fields={"Type": "User"})


def package_directory(directory: Path) -> Path | None:
    """The nearest directory at or above ``directory`` with a ``package.json``."""
    for parent in [directory, *directory.parents]:
        if (parent / "package.json").is_file():
            return parent
    return None


def typescript_entry(directory: Path, handler: str) -> Path | None:
    """The TypeScript file a handler names, when the directory is to be built."""
    if package_directory(directory) is None:
        return None
    module = handler.rsplit(".", 1)[0].split(".", maxsplit=1)[0] if "." in handler else handler
    base = directory / module
    if any(base.with_name(base.name + suffix).is_file() for suffix in JS_SUFFIXES):
        return None
    for suffix in TS_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def find_esbuild(directory: Path, configured: str | None = None) -> str | None:
    """The esbuild executable to use (see the module doc), or None."""
    if configured:
        return configured
    for parent in [directory, *directory.parents]:
        candidate = parent / "node_modules" / ".bin" / "esbuild"
        if candidate.is_file():
            return str(candidate)
    tools = [Path(p) for p in [os.environ.get("HEADWATER_NODE_TOOLS")] if p]
    for root in [*tools, DEFAULT_NODE_TOOLS]:
        candidate = root / "node_modules" / ".bin" / "esbuild"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("esbuild")


def _is_module_package(directory: Path) -> bool:
    package = package_directory(directory)
    try:
        manifest = json.loads((package or directory).joinpath("package.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("type") == "module"


def _source_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", ".git"))
        for name in sorted(files):
            path = Path(root, name)
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            try:
                digest.update(path.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()[:16]


def prepare_code_directory(
    directory: str | Path,
    handler: str,
    build_root: str | Path,
    *,
    runtime: str = "nodejs20.x",
    esbuild: str | None = None,
) -> str:
    """The directory a function runs from: ``directory`` itself, or (TypeScript) its
    esbuild bundle under ``build_root``. Raises AwsError when the build fails."""
    source = Path(directory).expanduser().resolve()
    entry = typescript_entry(source, handler)
    if entry is None:
        return str(source)
    tool = find_esbuild(source, esbuild)
    if tool is None:
        raise _invalid(
            f"{entry.name} is TypeScript and headwater builds it with esbuild, which is not "
            "installed: run `npm install --save-dev esbuild` in the code directory (or set "
            "the function_esbuild option)"
        )
    module_format = "esm" if _is_module_package(source) else "cjs"
    suffix = ".mjs" if module_format == "esm" else ".js"
    out_dir = Path(build_root) / f"build-{_source_digest(source)}"
    outfile = out_dir / entry.relative_to(source).with_suffix(suffix)
    if outfile.is_file():
        return str(out_dir)
    staging = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    node_major = runtime.removeprefix("nodejs").removesuffix(".x") or "20"
    command = [
        tool,
        str(entry),
        "--bundle",
        "--platform=node",
        f"--target=node{node_major}",
        f"--format={module_format}",
        "--external:@aws-sdk/*",
        "--sourcemap=inline",
        f"--outfile={staging / outfile.relative_to(out_dir)}",
        "--log-level=warning",
    ]
    try:
        done = subprocess.run(
            command, cwd=source, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise _invalid(f"esbuild could not run ({tool}): {error}") from None
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise _invalid(f"esbuild could not build {entry.name}:\n{done.stderr.strip()}")
    if out_dir.exists():
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(out_dir)
    return str(out_dir)
