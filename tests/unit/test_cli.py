from pathlib import Path

from click.testing import CliRunner

from headwater import __version__
from headwater.cli.main import main


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_a_subcommand_failure_is_one_headwater_error_line(tmp_path: Path) -> None:
    # README: an error is printed as one line, `headwater: error: ...`, exit 1
    result = CliRunner().invoke(main, ["logs", "ghost", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("headwater: error: no log for function 'ghost'")
    assert result.output.count("\n") == 1


def test_a_usage_error_still_exits_2_with_the_usage() -> None:
    result = CliRunner().invoke(main, ["logs"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output
