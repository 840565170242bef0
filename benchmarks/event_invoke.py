"""Asynchronous (``InvocationType=Event``) invokes: accepting them (the 202) and running them.

Run: .venv/bin/python benchmarks/event_invoke.py [--invocations N] [--repeat R]

For each backend (memory, SQLite in a temporary data directory) and an inline no-op
function: accept N Event invokes through the Python API (``invoke_function``) and through
the boto3 client (``hw.lambda_.invoke``), then wait until every one has run. Figures:
invokes/s (wall) and CPU microseconds per invoke (process time, all threads), for accepting
and for draining (claim, run, settle). Run it on two checkouts (``PYTHONPATH=<src>``) to
compare before and after a change, in the same session.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from headwater import Headwater
from measure import NOOP_HANDLER


def timed(action: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``action``."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def drain(hw: Headwater, deadline_seconds: float = 600.0) -> None:
    lambda_service = hw.service("lambda")
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if lambda_service.wait_for_event_invocations(deadline - time.monotonic()):
            events = getattr(lambda_service, "_events", None)
            if events is None or events.pending() == 0:
                return
        time.sleep(0.01)
    raise TimeoutError("Event invocations did not drain")


def run(backend: str, invocations: int, code: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = None if backend == "memory" else Path(tmp) / "data"
        with Headwater(data, functions="inline") as hw:
            hw.lambda_.create_function_from_directory("noop", code, "app.handler")
            lambda_service = hw.service("lambda")
            lambda_service.invoke_function("noop", b"{}")  # warm: handler loaded
            for api in ("python", "client"):

                def accept(api: str = api) -> None:
                    for _ in range(invocations):
                        if api == "python":
                            lambda_service.invoke_function("noop", b"{}", invocation_type="Event")
                        else:
                            hw.lambda_.invoke(
                                FunctionName="noop", InvocationType="Event", Payload=b"{}"
                            )

                accept_wall, accept_cpu = timed(accept)
                drain_wall, drain_cpu = timed(lambda: drain(hw))
                total_wall = accept_wall + drain_wall
                print(
                    f"{backend:7} {api:6} accept {invocations / accept_wall:8.0f}/s"
                    f" {accept_cpu / invocations * 1e6:6.0f} us CPU/invoke |"
                    f" accept+run {invocations / total_wall:7.0f}/s"
                    f" {(accept_cpu + drain_cpu) / invocations * 1e6:6.0f} us CPU/invoke",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invocations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "app.py").write_text(NOOP_HANDLER)
        for _ in range(args.repeat):
            for backend in ("memory", "sqlite"):
                run(backend, args.invocations, code)


if __name__ == "__main__":
    main()
