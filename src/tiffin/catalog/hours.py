"""Opening hours and menu schedules, evaluated in an outlet's local time.

An interval belongs to the day it starts on; one whose end is not after its start runs past
midnight into the next day (a Friday ["18:00", "02:00"] covers Saturday 01:30). A special
day (holiday) replaces the hours of that date only, so the spill-over of the evening before
still counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tiffin.catalog.schemas import WEEKDAYS, MenuSchedule

Hours = Sequence[Sequence[str]]  # [["07:00", "11:00"], ...]
ALL_DAY = (("00:00", "24:00"),)


def _minutes(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


def local_time(at: datetime, timezone: str) -> datetime:
    """`at` on the outlet's wall clock, to the minute. A naive `at` is already local."""
    zone = ZoneInfo(timezone)
    local = at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)
    return local.replace(second=0, microsecond=0)


def covers(hours_on: Mapping[date, Hours], local: datetime) -> bool:
    """Whether the hours of `local`'s date, or the overnight end of the day before, include
    `local`. `hours_on` gives the hours of a date (weekly hours or a special day)."""
    minute = local.hour * 60 + local.minute
    today = local.date()
    for start, end in hours_on[today]:
        first, last = _minutes(start), _minutes(end)
        if first <= minute < last or (last < first and minute >= first):
            return True
    for start, end in hours_on[today - timedelta(days=1)]:
        first, last = _minutes(start), _minutes(end)
        if last < first and minute < last:
            return True
    return False


def _two_days(local: datetime) -> tuple[date, date]:
    return local.date() - timedelta(days=1), local.date()


def is_open(
    weekly: Mapping[str, Hours], special_days: Mapping[date, Hours], local: datetime
) -> bool:
    """Whether an outlet with these weekly hours and special days is open at `local`."""
    hours_on = {
        day: special_days.get(day, weekly.get(WEEKDAYS[day.weekday()], ()))
        for day in _two_days(local)
    }
    return covers(hours_on, local)


def is_served(schedule: MenuSchedule, local: datetime) -> bool:
    """Whether a menu with this schedule is served at `local`."""
    hours: Hours = schedule.hours or ALL_DAY
    hours_on = {
        day: hours if WEEKDAYS[day.weekday()] in schedule.days else () for day in _two_days(local)
    }
    return covers(hours_on, local)


def describe(schedule: MenuSchedule) -> str:
    """Like "mon, tue, 07:00-11:00": for error details."""
    days = "every day" if len(schedule.days) == len(WEEKDAYS) else ", ".join(schedule.days)
    hours = ", ".join(f"{start}-{end}" for start, end in schedule.hours) or "all day"
    return f"{days}, {hours}"
