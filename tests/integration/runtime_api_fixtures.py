"""Function code for the Runtime API tests: Node.js handlers and a shell ``bootstrap``."""

from __future__ import annotations

import shutil
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

NODE_HANDLERS = r"""
exports.echo = async (event) => event;

exports.context = async (event, context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  clientContext: context.clientContext === undefined ? null : context.clientContext,
  traceId: process.env._X_AMZN_TRACE_ID,
  region: process.env.AWS_REGION,
  runtimeApi: process.env.AWS_LAMBDA_RUNTIME_API,
  pid: process.pid,
});

exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, { style: 'callback', n: event.n }), 5);
};

// callback answered at once, but a timer keeps the event loop busy for 300 ms: with
// callbackWaitsForEmptyEventLoop (the default) the response waits for it
exports.waits = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => {}, 300);
  callback(null, 'answered');
};

exports.silent = (event, context) => {};

exports.fail = async () => {
  throw new TypeError('Handler fails');
};

exports.callbackError = (event, context, callback) => callback(new RangeError('via callback'));

exports.sleep = async (event) => {
  console.log('going to sleep');
  await new Promise((resolve) => setTimeout(resolve, (event.seconds || 5) * 1000));
  return 'woke';
};

exports.exit = async (event) => {
  process.exit(event.code || 3);
};

exports.uncaught = (event, context, callback) => {
  setTimeout(() => { throw new Error('thrown from a timer'); }, 1);
};

// answers at once, then throws from a timer while the runtime waits for its next event
exports.late = async () => {
  setTimeout(() => { throw new Error('thrown after answering'); }, 20);
  return 'answered';
};
exports.hog = async (event) => {
  const kept = [];
  for (let i = 0; i < event.mb; i++) kept.push(Buffer.alloc(1024 * 1024, 1));
  return kept.length;
};

exports.circular = async () => {
  const value = { name: 'loop' };
  value.self = value;
  return value;
};

exports.logs = async (event) => {
  console.log('line one\nline two');
  console.error('an error line', { k: 1 });
  console.warn('a warning');
  return 'logged';
};

exports.nested = { deeper: { handler: async () => 'nested' } };
"""

ESM_HANDLER = "export const handler = async (event) => ({ esm: true, event });\n"


def node_code(root: Path) -> Path:
    """A code directory with CommonJS, ESM and broken Node.js modules."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.js").write_text(NODE_HANDLERS)
    (root / "esm.mjs").write_text(ESM_HANDLER)
    (root / "broken.js").write_text("require('module-that-is-not-there');\n")
    (root / "syntax.js").write_text("exports.handler = async (event) => {\n")
    (root / "throws.js").write_text("throw new Error('init goes wrong');\n")
    typed = root / "typed"
    typed.mkdir(exist_ok=True)
    (typed / "package.json").write_text('{"type": "module"}\n')
    (typed / "app.js").write_text(ESM_HANDLER)
    return root


SHELL_BOOTSTRAP = r"""#!/bin/bash
# A custom runtime in shell: what $_HANDLER says, it does.
set -u
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
case "$_HANDLER" in
  init_error)
    echo "init is failing"
    curl -sS -X POST "$API/init/error" -H "Lambda-Runtime-Function-Error-Type: Custom.InitFailure" \
      -d '{"errorMessage": "cannot start", "errorType": "Custom.InitFailure"}' >/dev/null
    exit 1 ;;
  crash_init) exit 7 ;;
esac
echo "shell runtime ready"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  RID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  DEADLINE="$(grep -i '^Lambda-Runtime-Deadline-Ms:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  ARN="$(grep -i '^Lambda-Runtime-Invoked-Function-Arn:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$HEADERS"
  echo "handling $RID"
  case "$_HANDLER" in
    echo)
      BODY="{\"event\": $EVENT, \"requestId\": \"$RID\", "
      BODY+="\"deadline\": $DEADLINE, \"arn\": \"$ARN\"}"
      curl -sS -X POST "$API/invocation/$RID/response" -d "$BODY" >/dev/null ;;
    fail)
      curl -sS -X POST "$API/invocation/$RID/error" \
        -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \
        -d '{"errorMessage": "shell says no", "errorType": "Custom.Failure", "stackTrace": []}' \
        >/dev/null ;;
    not_json)
      curl -sS -X POST "$API/invocation/$RID/error" \
        -H "Lambda-Runtime-Function-Error-Type: Custom.Plain" -d 'plain words' >/dev/null ;;
    sleep) sleep 30 ;;
    exit) exit 3 ;;
    hog) BLOB="$(head -c 400000000 /dev/zero | tr '\0' a)"; echo "${#BLOB}" ;;
    big)
      BIG="$(mktemp)"
      head -c 7000000 /dev/zero | tr '\0' a | sed 's/.*/"&"/' > "$BIG"
      curl -sS -o /dev/null -w 'runtime api said %{http_code}\n' \
        -X POST "$API/invocation/$RID/response" --data-binary "@$BIG"
      rm -f "$BIG" ;;
  esac
done
"""


def shell_code(root: Path) -> Path:
    """A ``provided`` function: an executable ``bootstrap`` shell script."""
    root.mkdir(parents=True, exist_ok=True)
    bootstrap = root / "bootstrap"
    bootstrap.write_text(SHELL_BOOTSTRAP)
    bootstrap.chmod(bootstrap.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


REPOSITORY = Path(__file__).resolve().parents[2]


def node_tools() -> Path:
    """headwater's Node.js tools (esbuild, aws-lambda-ric), installed into the cache from
    the committed lock file when missing (``.ci/run`` does it ahead)."""
    import os
    import subprocess

    from headwater.runtime.typescript import DEFAULT_NODE_TOOLS

    root = Path(os.environ.get("HEADWATER_NODE_TOOLS", DEFAULT_NODE_TOOLS))
    source = REPOSITORY / "tools" / "node"
    lock = (source / "package-lock.json").read_bytes()
    installed = root / "node_modules" / ".package-lock.json"
    if installed.is_file() and (root / "package-lock.json").read_bytes() == lock:
        return root
    root.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        (root / name).write_bytes((source / name).read_bytes())
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.fail(
            f"could not install headwater's Node.js tools into {root} (npm ci; aws-lambda-ric "
            "builds a native module: it needs autoconf, automake, libtool, make, cmake, g++):\n"
            + done.stderr[-3000:]
        )
    return root


def invoke_together(invoke: Callable[[], Any], count: int) -> list[Any]:
    """``count`` calls of ``invoke`` released at the same moment from as many threads."""
    results: list[Any] = []
    gate = threading.Barrier(count)

    def call() -> None:
        gate.wait()
        results.append(invoke())

    callers = [threading.Thread(target=call) for _ in range(count)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    return results
