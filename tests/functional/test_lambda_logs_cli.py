"""``headwater logs``: reading and following a function's log from the data directory."""

from __future__ import annotations

import threading
from pathlib import Path

from click.testing import CliRunner

from headwater import Headwater, ManualClock
from headwater.cli.main import main
from headwater.runtime.logs import follow_logs


def test_logs_command_prints_invocation_logs(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "cli_app.py").write_text("def handler(e, c):\n    print('from handler')\n")
    data_dir = tmp_path / "data"
    with Headwater(data_dir=data_dir, clock=ManualClock(), functions="inline") as hw:
        hw.lambda_.create_function_from_directory("fn", code, "cli_app.handler")
        result = hw.lambda_.invoke_function("fn", b"{}")
    runner = CliRunner()
    output = runner.invoke(main, ["logs", "fn", "--data-dir", str(data_dir)])
    assert output.exit_code == 0, output.output
    assert f"START RequestId: {result.request_id} Version: $LATEST" in output.output
    assert "from handler" in output.output
    assert f"REPORT RequestId: {result.request_id}\tDuration: " in output.output
    missing = runner.invoke(main, ["logs", "ghost", "--data-dir", str(data_dir)])
    assert missing.exit_code == 1
    assert "no log for function 'ghost'" in missing.output


def test_follow_yields_new_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "fn.log"
    log.parent.mkdir()
    log.write_text("old\n")
    follower = follow_logs(tmp_path, "fn", poll_interval=0.01)

    def append() -> None:
        with open(log, "a") as handle:
            handle.write("new line\n")

    timer = threading.Timer(0.05, append)
    timer.start()
    assert next(follower) == "new line\n"
    timer.join()
