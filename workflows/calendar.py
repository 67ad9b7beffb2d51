"""The Vietnamese working-day calendar (docs/RULES.md, Working-day calendar): weekends, Labour Code holidays,
per-year overrides."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cache import DatabaseCache
from workflows.models import CalendarDay

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_OFF_KINDS = {"holiday", "compensatory", "swap_off"}
# Looked up when this module is imported, i.e. while a server process starts: the package imports all its ~280
# country modules on the first lookup, which otherwise fell on the first request to compute a deadline (75 ms of
# opening a year of 28 units, measured).
_VIETNAM = type(holidays.country_holidays("VN", years=()))


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    # The holidays package knows Tết and Hùng Kings' day by the lunar calendar, and the observed days it has data for.
    return frozenset(_VIETNAM(years=year).keys())


@lru_cache(maxsize=64)
def _statutory_workdays(year: int) -> frozenset[date]:
    """Saturdays the Government made working days in exchange for a bridge day off (the holidays package's swaps).

    Read through the package's public `weekend_workdays`; a swap may fall in the year before its holiday (the 2015
    Tết swap was worked on 27 December 2014), so the set can hold days of a neighbouring year.
    """
    return frozenset(_VIETNAM(years=year).weekend_workdays)


@lru_cache(maxsize=64)
def _swapped_workdays(year: int) -> frozenset[date]:
    return _statutory_workdays(year) | _statutory_workdays(year + 1)


# The statutory tables above depend on the year only (plain lru_caches); the overrides live in a database.
_CALENDARS: DatabaseCache[WorkingCalendar] = DatabaseCache("calendar", max_entries=8, max_age_seconds=300.0)


class WorkingCalendar:
    """Working days for deadline arithmetic; load once per unit of work with `WorkingCalendar.load(session)`."""

    def __init__(self, days_off: set[date] | None = None, extra_workdays: set[date] | None = None) -> None:
        self.days_off = days_off or set()
        self.extra_workdays = extra_workdays or set()

    @classmethod
    def load(cls, session: Session) -> WorkingCalendar:
        rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
        return cls(
            days_off={d for d, kind in rows if kind in DAY_OFF_KINDS},
            extra_workdays={d for d, kind in rows if kind == "swap_workday"},
        )

    @classmethod
    def cached(cls, session: Session) -> WorkingCalendar:
        """SESSION's database's calendar, re-read at most every five minutes: overrides change once a year, tasks
        every second.

        An administrator's edit reaches every app server within that time (call `forget_cached` to apply it at once
        in this process).
        """
        return _CALENDARS.get(session, "calendar", lambda: cls.load(session))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        if day in _swapped_workdays(day.year):
            return True  # the 2015 swap's worked Saturday fell in December 2014: look one year ahead too
        if day.weekday() >= 5:
            return False
        return day not in _statutory_holidays(day.year)

    def add_working_days(self, trigger: date, days: int) -> date:
        """The Nth working day after TRIGGER: the period starts the day after the triggering event."""
        if days == 0:
            return self.roll_forward(trigger)
        current, counted = trigger, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def roll_forward(self, day: date) -> date:
        """A calendar-date deadline that falls on a day off moves to the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after START up to and including END (negative when END is before START).

        Counted as weekdays in the span, corrected by the few special days in it (holidays, swaps, overrides), so a
        task two years late costs as little as one due tomorrow.
        """
        if end < start:
            return -self.working_days_between(end, start)
        span = (end - start).days
        weeks, rest = divmod(span, 7)
        count = weeks * 5 + sum(1 for n in range(1, rest + 1) if (start + timedelta(days=n)).weekday() < 5)
        special: set[date] = set(self.days_off) | set(self.extra_workdays)
        for year in range(start.year, end.year + 2):
            special |= _statutory_holidays(year) | _statutory_workdays(year)
        for day in special:
            if start < day <= end:
                count += int(self.is_working_day(day)) - int(day.weekday() < 5)
        return count

def forget_cached(session: Session | None = None) -> None:
    """Forget the cached calendar of SESSION's database (of every database without one)."""
    _CALENDARS.forget(session)


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()


def end_of_day(day: date) -> datetime:
    """Deadlines end at 23:59:59 local time."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ)
