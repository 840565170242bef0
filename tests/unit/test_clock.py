import pytest

from headwater.core.clock import MANUAL_CLOCK_START, ManualClock, ScaledClock, SystemClock


def test_manual_clock_moves_only_when_told_and_wakes_subscribers() -> None:
    clock = ManualClock()
    woken: list[float] = []
    unsubscribe = clock.subscribe(lambda: woken.append(clock.now()))
    assert clock.now() == MANUAL_CLOCK_START
    assert clock.real_delay(5) is None
    clock.advance(2.5)
    clock.set(MANUAL_CLOCK_START + 10)
    assert woken == [MANUAL_CLOCK_START + 2.5, MANUAL_CLOCK_START + 10]
    unsubscribe()
    clock.advance(1)
    assert len(woken) == 2


def test_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(MANUAL_CLOCK_START - 1)


def test_scaled_clock_runs_faster_and_shortens_waits() -> None:
    clock = ScaledClock(60.0)
    assert clock.real_delay(180) == pytest.approx(3.0)
    assert abs(clock.now() - SystemClock().now()) < 1.0
    with pytest.raises(ValueError):
        ScaledClock(0)
