"""Schedule expressions of scheduled rules: ``rate(N unit)`` and AWS's six-field ``cron(...)``
(and EventBridge Scheduler's ``at(...)``, ``parse_one_time``).

``parse_schedule(text)`` validates an expression (EventBridge's ``ValidationException``
"Parameter ScheduleExpression is not valid." otherwise) into a :class:`Schedule` whose
``next_after(t, anchor, zone)`` is the first firing strictly after clock time ``t``. Times
are UTC epoch seconds; rules evaluate cron fields in UTC, as EventBridge does, and the
Scheduler's schedules in their ``ScheduleExpressionTimezone``.

- ``rate(5 minutes)`` fires every 5 minutes counted from ``anchor`` (the rule's creation);
  the unit is singular for 1 and plural otherwise (``rate(1 minute)``, ``rate(2 hours)``).
- ``cron(minutes hours day-of-month month day-of-week year)``: ``*``, ``,``, ``-`` and
  ``/`` in every field; month and weekday names (``JAN``, ``MON``); ``?`` in exactly one of
  day-of-month and day-of-week; ``L`` (last day of the month), ``NW`` (the weekday nearest
  day N) and ``LW`` in day-of-month; ``L``, ``NL`` (last weekday N of the month) and
  ``N#k`` (k-th weekday N) in day-of-week. Day-of-week counts 1 = Sunday .. 7 = Saturday.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from headwater.core.errors import AwsError

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): n for n, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
#: How far ahead a cron expression is searched for its next firing (an expression with no
#: firing in this window, such as a single far-off year, never fires).
_SEARCH_DAYS = 366 * 8


def invalid_schedule() -> AwsError:
    return AwsError("ValidationException", "Parameter ScheduleExpression is not valid.")


class Schedule:
    """A parsed schedule expression."""

    def next_after(self, t: float, anchor: float, zone: dt.tzinfo = dt.UTC) -> float | None:
        """The first firing strictly after ``t`` (``None``: it never fires again); a cron or
        ``at`` expression reads its fields as wall-clock time in ``zone``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class RateSchedule(Schedule):
    period: float

    def next_after(self, t: float, anchor: float, zone: dt.tzinfo = dt.UTC) -> float | None:
        if t < anchor:
            return anchor + self.period
        periods = int((t - anchor) // self.period) + 1
        return anchor + periods * self.period


DayTest = Callable[[dt.date], bool]


@dataclass(frozen=True, slots=True)
class CronSchedule(Schedule):
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_matches: DayTest
    months: frozenset[int]
    years: frozenset[int]

    def next_after(self, t: float, anchor: float, zone: dt.tzinfo = dt.UTC) -> float | None:
        # A day before in the zone's wall-clock time: a firing late in the previous local
        # day may still be after t.
        day = dt.datetime.fromtimestamp(t, zone).date() - dt.timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self.day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        moment = dt.datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=zone
                        )
                        if moment.timestamp() > t:
                            return moment.timestamp()
            if day.year > max(self.years):
                return None
            day += dt.timedelta(days=1)
        return None


@dataclass(frozen=True, slots=True)
class OneTimeSchedule(Schedule):
    """EventBridge Scheduler's ``at(yyyy-mm-ddThh:mm:ss)``: one firing, at that wall-clock
    time in the schedule's zone."""

    moment: dt.datetime

    def next_after(self, t: float, anchor: float, zone: dt.tzinfo = dt.UTC) -> float | None:
        when = self.moment.replace(tzinfo=zone).timestamp()
        return when if when > t else None


def parse_one_time(text: str) -> OneTimeSchedule | None:
    """``at(2027-01-04T09:30:00)`` (no zone suffix, as the Scheduler takes it), or None."""
    match = _AT.match(text)
    if match is None:
        return None
    try:
        return OneTimeSchedule(dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None


def parse_schedule(text: str) -> Schedule:
    """Validate and parse a ScheduleExpression; raises EventBridge's ValidationException."""
    rate = _RATE.match(text)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        singular = not unit.endswith("s")
        if value < 1 or singular != (value == 1):
            raise invalid_schedule()
        return RateSchedule(float(value * _UNIT_SECONDS[unit.rstrip("s")]))
    cron = _CRON.match(text)
    if cron is None:
        raise invalid_schedule()
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise invalid_schedule()
    minutes, hours, day_of_month, month, day_of_week, year = (f.upper() for f in fields)
    # One of the day fields must be "?" (EventBridge refuses both or neither).
    if (day_of_month == "?") == (day_of_week == "?"):
        raise invalid_schedule()
    try:
        return CronSchedule(
            minutes=tuple(sorted(_values(minutes, 0, 59, {}))),
            hours=tuple(sorted(_values(hours, 0, 23, {}))),
            day_matches=(
                _weekday_test(day_of_week) if day_of_month == "?" else _month_day_test(day_of_month)
            ),
            months=frozenset(_values(month, 1, 12, _MONTHS)),
            # EventBridge documents years 1970-2199 but takes later ones (cron(0 20 * * ?
            # 2500) is accepted, measured on AWS): only years before 1970 are refused.
            years=frozenset(_values(year, 1970, 9999, {})),
        )
    except ValueError:
        raise invalid_schedule() from None


def _number(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """The values one standard cron field (``*``, lists, ranges, steps) stands for."""
    found: set[int] = set()
    for item in field.split(","):
        part, step = item, 1
        if "/" in item:
            part, step_text = item.split("/", 1)
            step = _number(step_text, {})
            if step < 1:
                raise ValueError(field)
        if part == "*":
            first, last = low, high
        elif "-" in part:
            first_text, last_text = part.split("-", 1)
            first, last = _number(first_text, names), _number(last_text, names)
        else:
            first = _number(part, names)
            last = high if step > 1 else first
        if not low <= first <= high or not low <= last <= high or first > last:
            raise ValueError(field)
        found.update(range(first, last + 1, step))
    if not found:
        raise ValueError(field)
    return found


def _last_day(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: dt.date, wanted: int) -> int:
    """The weekday (Monday to Friday) nearest day ``wanted`` of ``day``'s month, without
    leaving the month (cron's ``W``)."""
    last = _last_day(day)
    wanted = min(wanted, last)
    weekday = dt.date(day.year, day.month, wanted).weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return wanted - 1 if wanted > 1 else wanted + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before on the last day
        return wanted + 1 if wanted < last else wanted - 2
    return wanted


def _month_day_test(field: str) -> DayTest:
    if field == "L":
        return lambda day: day.day == _last_day(day)
    if field == "LW":
        return lambda day: day.day == _nearest_weekday(day, _last_day(day))
    if field.endswith("W"):
        wanted = _number(field[:-1], {})
        if not 1 <= wanted <= 31:
            raise ValueError(field)
        return lambda day: day.day == _nearest_weekday(day, wanted)
    days = _values(field, 1, 31, {})
    return lambda day: day.day in days


def _cron_weekday(day: dt.date) -> int:
    """Cron's day of week: 1 = Sunday .. 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _weekday_test(field: str) -> DayTest:
    if field == "L":
        return lambda day: _cron_weekday(day) == 7
    if field.endswith("L"):
        wanted = _number(field[:-1], _WEEKDAYS)
        if not 1 <= wanted <= 7:
            raise ValueError(field)
        return lambda day: _cron_weekday(day) == wanted and day.day + 7 > _last_day(day)
    if "#" in field:
        weekday_text, nth_text = field.split("#", 1)
        wanted, nth = _number(weekday_text, _WEEKDAYS), _number(nth_text, {})
        if not 1 <= wanted <= 7 or not 1 <= nth <= 5:
            raise ValueError(field)
        return lambda day: _cron_weekday(day) == wanted and (day.day - 1) // 7 + 1 == nth
    weekdays = _values(field, 1, 7, _WEEKDAYS)
    return lambda day: _cron_weekday(day) in weekdays
