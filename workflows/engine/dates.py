"""The date idioms of Camunda 7 expressions, as a documented subset of Joda-Time's DateTime (docs/ENGINE.md).

Camunda owners write `${now()}`, `${dateTime().plusDays(5).toDate()}` or `${dateTime().plusWeeks(1)}` in a task's
dueDate or a timer. The sandbox has no Java objects: `now()` and `dateTime()` give the engine clock's moment in local
time (a Python datetime), and the methods below are the only ones an expression may call on it. Any other method is
refused when the diagram is uploaded, naming it.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

import workflows.engine.clock as clock

# The province's time zone: "today" and "in five days" are counted in it (workflows/calendar.py uses the same one).
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class DateError(ValueError):
    pass


# The working-day calendar's "Nth working day after a day", while a due date asks for working days (working_days()).
_working_days: ContextVar[Callable[[dt.date, int], dt.date] | None] = ContextVar("working_days", default=None)


@contextmanager
def working_days(add: Callable[[dt.date, int], dt.date] | None) -> Iterator[None]:
    """Within the block, plusDays(n) and the days of plus('PnD') count N working days with ADD (None: calendar days).

    ADD(day, n) is the Nth working day after DAY (workflows.calendar.WorkingCalendar.add_working_days); the time of
    day is kept. Weeks, months, years, hours, minutes and every minus… stay calendar time (docs/ENGINE.md, "Timers").
    """
    token = _working_days.set(add)
    try:
        yield
    finally:
        _working_days.reset(token)


def _plus_days(moment: dt.datetime, days: int) -> dt.datetime:
    add = _working_days.get()
    if add is None or days <= 0:
        return moment + dt.timedelta(days=days)
    return dt.datetime.combine(add(moment.date(), days), moment.timetz())


def now() -> dt.datetime:
    return clock.now().astimezone(LOCAL_TZ)


def _months(moment: dt.datetime, months: int) -> dt.datetime:
    """Joda's plusMonths: the same day of month, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def plus_duration(moment: dt.datetime, text: str, sign: int = 1) -> dt.datetime:
    """MOMENT moved by the ISO 8601 duration TEXT (P5D, P1M, PT4H, P1Y2M3DT4H)."""
    found = _DURATION.fullmatch(str(text).strip())
    if not found or not any(found.groups()):
        raise DateError(f"'{text}' is not an ISO 8601 duration such as P5D or PT4H")
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    moved = _months(moment, sign * (12 * years + months))
    moved = _plus_days(moved, days) if sign > 0 else moved - dt.timedelta(days=days)
    return moved + sign * dt.timedelta(weeks=weeks, hours=hours, minutes=minutes, seconds=seconds)


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DateError(f"needs a whole number, not {value!r}")
    return value


METHODS: dict[str, Callable[..., dt.datetime]] = {
    "plusDays": lambda m, n: _plus_days(m, _amount(n)),
    "plusWeeks": lambda m, n: m + dt.timedelta(weeks=_amount(n)),
    "plusMonths": lambda m, n: _months(m, _amount(n)),
    "plusYears": lambda m, n: _months(m, 12 * _amount(n)),
    "plusHours": lambda m, n: m + dt.timedelta(hours=_amount(n)),
    "plusMinutes": lambda m, n: m + dt.timedelta(minutes=_amount(n)),
    "minusDays": lambda m, n: m - dt.timedelta(days=_amount(n)),
    "minusWeeks": lambda m, n: m - dt.timedelta(weeks=_amount(n)),
    "minusMonths": lambda m, n: _months(m, -_amount(n)),
    "minusYears": lambda m, n: _months(m, -12 * _amount(n)),
    "minusHours": lambda m, n: m - dt.timedelta(hours=_amount(n)),
    "minusMinutes": lambda m, n: m - dt.timedelta(minutes=_amount(n)),
    "plus": lambda m, text: plus_duration(m, text),
    "minus": lambda m, text: plus_duration(m, text, -1),
    "withTimeAtStartOfDay": lambda m: m.replace(hour=0, minute=0, second=0, microsecond=0),
    "toDate": lambda m: m,
}


def call_method(receiver: Any, name: str, args: list[Any]) -> dt.datetime:
    """RECEIVER.NAME(*ARGS) for a date-time RECEIVER (a plain date counts as its midnight)."""
    if isinstance(receiver, dt.date) and not isinstance(receiver, dt.datetime):
        receiver = dt.datetime.combine(receiver, dt.time(), LOCAL_TZ)
    if not isinstance(receiver, dt.datetime):
        raise DateError(f"'{name}()' works on a date-time such as dateTime(), not on a {type(receiver).__name__}")
    try:
        return METHODS[name](receiver, *args)
    except TypeError:
        raise DateError(f"'{name}()' was given {len(args)} argument(s)") from None
    except OverflowError:
        raise DateError(f"'{name}()' goes beyond the calendar") from None
