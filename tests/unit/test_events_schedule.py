"""EventBridge schedule expressions: which are valid, and when each next fires (UTC, or in
the Scheduler's time zone), and the Scheduler's ``at(...)``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from headwater.core.errors import AwsError
from headwater.services.events.schedule import parse_one_time, parse_schedule


def at(*fields: int) -> float:
    return dt.datetime(*fields, tzinfo=dt.UTC).timestamp()


def following(expression: str, start: float, count: int, anchor: float | None = None) -> list[str]:
    """The next ``count`` firings after ``start``, as ``YYYY-MM-DD HH:MM`` (UTC)."""
    schedule = parse_schedule(expression)
    times = []
    t = start
    for _ in range(count):
        found = schedule.next_after(t, start if anchor is None else anchor)
        assert found is not None
        times.append(dt.datetime.fromtimestamp(found, dt.UTC).strftime("%Y-%m-%d %H:%M"))
        t = found
    return times


# 2027-01-04 is a Monday.
MONDAY = at(2027, 1, 4)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", ["2027-01-04 00:01", "2027-01-04 00:02"]),
        ("rate(2 hours)", ["2027-01-04 02:00", "2027-01-04 04:00"]),
        ("rate(1 day)", ["2027-01-05 00:00", "2027-01-06 00:00"]),
        ("cron(0/20 * * * ? *)", ["2027-01-04 00:20", "2027-01-04 00:40"]),
        ("cron(15 10 ? * MON-FRI *)", ["2027-01-04 10:15", "2027-01-05 10:15"]),
        ("cron(0 8 ? * SAT,SUN *)", ["2027-01-09 08:00", "2027-01-10 08:00"]),
        ("cron(0 0 L * ? *)", ["2027-01-31 00:00", "2027-02-28 00:00"]),
        ("cron(0 0 LW * ? *)", ["2027-01-29 00:00", "2027-02-26 00:00"]),
        # the 1st of May 2027 is a Saturday: the nearest weekday in the month is Monday the 3rd
        ("cron(0 0 1W MAY ? *)", ["2027-05-03 00:00", "2028-05-01 00:00"]),
        ("cron(0 9 ? * 6#3 *)", ["2027-01-15 09:00", "2027-02-19 09:00"]),
        ("cron(0 9 ? * 2L *)", ["2027-01-25 09:00", "2027-02-22 09:00"]),
        ("cron(30 12 1-2 JAN-FEB ? 2027-2028)", ["2027-02-01 12:30", "2027-02-02 12:30"]),
        ("cron(0 0 29 2 ? *)", ["2028-02-29 00:00", "2032-02-29 00:00"]),
    ],
)
def test_next_firings(expression: str, expected: list[str]) -> None:
    assert following(expression, MONDAY, len(expected)) == expected


def test_rate_counts_from_its_anchor() -> None:
    anchor = MONDAY + 30
    assert following("rate(5 minutes)", MONDAY + 400, 2, anchor=anchor) == [
        "2027-01-04 00:10",
        "2027-01-04 00:15",
    ]


def test_a_schedule_that_has_ended_never_fires() -> None:
    assert parse_schedule("cron(0 0 1 1 ? 2026)").next_after(MONDAY, MONDAY) is None


#: The rates EventBridge refuses, as recorded against AWS by LocalStack's test suite
#: (tests/aws/services/events/test_events_schedule.py, test_put_rule_with_invalid_schedule_rate).
AWS_REFUSED_RATES = [
    "rate(10 seconds)",
    "rate(10 years)",
    "rate(1 minutes)",
    "rate(1 hours)",
    "rate(1 days)",
    "rate(10 minute)",
    "rate(10 hour)",
    "rate(10 day)",
    "rate()",
    "rate(10)",
    "rate(10 minutess)",
    "rate(foo minutes)",
    "rate(0 minutes)",
    "rate(-10 minutes)",
    "rate(10 MINUTES)",
    "rate( 10 minutes )",
    " rate(10 minutes)",
]
#: Cron expressions AWS accepts (the same suite's tests_put_rule_with_schedule_cron).
AWS_ACCEPTED_CRONS = [
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0/30 20-23 ? * MON-FRI *)",
    "cron(0/30 0-2 ? * MON-FRI *)",
    "cron(0 20 * * ? 2500)",  # years past the documented 2199 are taken
]


@pytest.mark.parametrize("expression", AWS_ACCEPTED_CRONS)
def test_accepted_cron_expressions(expression: str) -> None:
    schedule = parse_schedule(expression)  # no ValidationException
    if not expression.endswith("2500)"):  # that one fires past the search window
        assert schedule.next_after(MONDAY, MONDAY) is not None


@pytest.mark.parametrize(
    "expression",
    [
        *AWS_REFUSED_RATES,
        "cron(0#1 0 ? * 1#2 *)",  # '#' outside day-of-week
        "rate(1 minutes)",
        "rate(2 minute)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "rate(-1 minutes)",
        "cron(0 10 * * ? )",
        "cron(0 10 * * * *)",
        "cron(0 10 ? * ? *)",
        "cron(60 * * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 ? 13 MON *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * MON#6 *)",
        "cron(0/0 * * * ? *)",
        "cron(5-1 * * * ? *)",
        "cron(0 0 1 * ? 1969)",
        "cron(0 0 1#2 * ? *)",
        "at(2027-01-01T00:00:00)",
        "",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_schedule(expression)
    assert (caught.value.code, caught.value.message) == (
        "ValidationException",
        "Parameter ScheduleExpression is not valid.",
    )


def test_the_scheduler_looks_at_most_four_times_a_real_second() -> None:
    from headwater.core.clock import ManualClock, ScaledClock, SystemClock
    from headwater.services.events.service import schedule_check_interval

    assert schedule_check_interval(SystemClock()) == 1.0  # every clock second
    assert schedule_check_interval(ManualClock()) == 1.0  # on every move of the clock
    assert schedule_check_interval(ScaledClock(60)) == 15.0  # a quarter of a real second


def test_cron_fields_read_in_a_time_zone_follow_its_daylight_saving() -> None:
    new_york = zoneinfo.ZoneInfo("America/New_York")
    nine = parse_schedule("cron(0 9 * * ? *)")
    assert nine.next_after(at(2027, 1, 4), 0, new_york) == at(2027, 1, 4, 14)
    assert nine.next_after(at(2027, 7, 1), 0, new_york) == at(2027, 7, 1, 13)
    # 01:30 happens twice when the clocks go back (2027-11-07): it fires once
    half_past_one = parse_schedule("cron(30 1 * * ? *)")
    first = half_past_one.next_after(at(2027, 11, 7), 0, new_york)
    assert first == at(2027, 11, 7, 5, 30)
    assert half_past_one.next_after(first, 0, new_york) == at(2027, 11, 8, 6, 30)


def test_at_fires_once_at_its_wall_clock_time() -> None:
    once = parse_one_time("at(2027-01-04T09:30:00)")
    assert once is not None
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert once.next_after(at(2027, 1, 1), 0, paris) == at(2027, 1, 4, 8, 30)
    assert once.next_after(at(2027, 1, 4, 8, 30), 0, paris) is None
    for text in ("at(2027-01-04T09:30:00Z)", "at(2027-01-04)", "at(2027-02-30T00:00:00)"):
        assert parse_one_time(text) is None
