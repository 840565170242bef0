"""``headwater serve`` options as a user sees them."""

from __future__ import annotations

from click.testing import CliRunner

from headwater.cli.main import main
from headwater.server.serve import endpoint_for


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data-dir", "--time-scale", "--durability"):
        assert option in result.output
    assert "4599" in result.output
    assert "function timeouts stay in real" in " ".join(result.output.split())


def test_time_scale_must_be_positive() -> None:
    result = CliRunner().invoke(main, ["serve", "--time-scale", "0"])
    assert result.exit_code != 0


def test_endpoint_for_wildcard_hosts() -> None:
    assert endpoint_for("0.0.0.0", 4599) == "http://127.0.0.1:4599"
    assert endpoint_for("localhost", 1) == "http://localhost:1"
    assert endpoint_for("::1", 2) == "http://[::1]:2"
