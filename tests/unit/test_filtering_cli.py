"""`headwater filter test`: exit 0 on match, 1 on no match, 2 for an invalid pattern."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from headwater.cli.main import main

PATTERN = '{"detail": {"state": [{"anything-but": "stopped"}], "size": [{"numeric": [">", 10]}]}}'


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["filter", "test", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_inline_match_exits_0() -> None:
    code, out, _ = run("--pattern", PATTERN, "--event", '{"detail": {"state": "on", "size": 11}}')
    assert (code, out.strip()) == (0, "match")


def test_inline_no_match_exits_1() -> None:
    code, out, _ = run("--pattern", PATTERN, "--event", '{"detail": {"state": "on", "size": 10}}')
    assert (code, out.strip()) == (1, "no match")


def test_invalid_pattern_exits_2_with_aws_message() -> None:
    code, out, err = run("--pattern", '{"size": [{"numeric": [">", 0, "<"]}]}', "--event", "{}")
    assert code == 2
    assert out == ""
    assert err.strip() == "Event pattern is not valid. Reason: Value of < must be numeric"


def test_files_and_stdin(tmp_path: Path) -> None:
    pattern_file = tmp_path / "pattern.json"
    pattern_file.write_text(PATTERN)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"detail": {"state": "stopped", "size": 50}}))
    assert run("--pattern", str(pattern_file), "--event", str(event_file))[0] == 1
    event = json.dumps({"detail": {"state": "running", "size": 50}})
    assert run("--pattern", str(pattern_file), "--event", "-", stdin=event)[0] == 0


def test_invalid_event_json_exits_2() -> None:
    code, _, err = run("--pattern", PATTERN, "--event", "{not json")
    assert code == 2
    assert "Invalid event JSON" in err


def test_source_applies_filter_criteria_rules() -> None:
    record = json.dumps({"body": json.dumps({"kind": "order"}), "eventSource": "aws:sqs"})
    assert (
        run("--source", "sqs", "--pattern", '{"body": {"kind": ["order"]}}', "--event", record)[0]
        == 0
    )
    # a JSON body never matches a plain-value body pattern (AWS's format rules)
    assert run("--source", "sqs", "--pattern", '{"body": ["order"]}', "--event", record)[0] == 1
    code, _, err = run("--source", "kinesis", "--pattern", '{"data": ["x"]}', "--event", "{}")
    assert code == 2
    assert "InvalidParameterValueException: Invalid filter pattern definition." in err


def test_listed_in_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "filter" in result.output
