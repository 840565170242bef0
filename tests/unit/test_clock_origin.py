"""The ``--time-scale`` clock continues across restarts (its origin is saved on disk)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from headwater.core.clock import ScaledClock, SystemClock
from headwater.store import clock_origin
from headwater.store.clock_origin import CLOCK_ORIGIN_FILE, resume_clock


class Wall:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    found = Wall(1_000_000.0)
    monkeypatch.setattr("headwater.core.clock.time.time", found)
    monkeypatch.setattr(clock_origin.time, "time", found)
    return found


def test_a_restart_continues_the_scaled_clock(tmp_path: Path, wall: Wall) -> None:
    first = resume_clock(tmp_path, 60.0)
    wall.now += 100  # the first run lasts 100 s: its clock is 6,000 s on
    before_stop = first.now()
    assert before_stop == 1_000_000.0 + 6_000
    wall.now += 50  # 50 s down
    again = resume_clock(tmp_path, 60.0)
    # same clock: it never goes back, so nothing in flight is hidden for longer
    assert again.now() == 1_000_000.0 + 150 * 60
    assert again.now() > before_stop


def test_another_scale_continues_from_where_the_old_clock_is(tmp_path: Path, wall: Wall) -> None:
    resume_clock(tmp_path, 60.0)
    wall.now += 10
    ten = resume_clock(tmp_path, 10.0)
    assert ten.now() == 1_000_000.0 + 600
    wall.now += 1
    assert ten.now() == 1_000_000.0 + 610
    assert resume_clock(tmp_path, 10.0).now() == 1_000_000.0 + 610


def test_scale_one_is_the_wall_clock_unless_the_directory_ran_scaled(
    tmp_path: Path, wall: Wall, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(resume_clock(tmp_path, 1.0), SystemClock)
    assert not (tmp_path / CLOCK_ORIGIN_FILE).exists()
    resume_clock(tmp_path, 60.0)
    wall.now += 10
    with caplog.at_level(logging.WARNING):
        one = resume_clock(tmp_path, 1.0)
    assert isinstance(one, ScaledClock)
    assert one.now() == 1_000_000.0 + 600
    wall.now += 5
    assert one.now() == 1_000_000.0 + 605
    assert "590 s ahead of the wall clock" in caplog.text
    assert CLOCK_ORIGIN_FILE in caplog.text


def test_an_unreadable_origin_starts_afresh(tmp_path: Path, wall: Wall) -> None:
    (tmp_path / CLOCK_ORIGIN_FILE).write_text("{not json")
    clock = resume_clock(tmp_path, 60.0)
    assert clock.now() == wall.now
    assert resume_clock(tmp_path, 60.0).now() == wall.now


def test_in_memory_has_nothing_to_continue(wall: Wall) -> None:
    clock = resume_clock(None, 60.0)
    wall.now += 1
    assert clock.now() == 1_000_000.0 + 60
