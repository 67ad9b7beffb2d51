"""Supervisors' boards: who may see them, what they share (names, role labels, working days late), and the overdue
board: every step past its deadline across agencies. Read from the task table only (never engine state); lateness is
in working days. A year's agencies × steps matrix and its charts are in `year_board`."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflows import permissions
from workflows.calendar import LOCAL_TZ, WorkingCalendar
from workflows.cycles import CYCLE_PROCESS, REPORT_PROCESS
from workflows.errors import NotAllowed
from workflows.history import user_steps
from workflows.messages import Text
from workflows.models import (
    Cycle,
    HumanTask,
    TaskState,
    UnitHistory,
    User,
)
from workflows.text import sort_key
from workflows.units import all_unit_names
from workflows.vocabulary import role_label

MAX_PER_PAGE = 200
MAX_DAYS_LATE = 1000  # a filter beyond four years of working days means nothing and would only walk the calendar


def ensure_may_supervise(viewer: User) -> None:
    """Only those who watch the whole province's deadlines see the boards."""
    if not permissions.may_see_boards(viewer):
        raise NotAllowed(Text("Chỉ bộ phận giám sát, lãnh đạo Sở TT&TT, UBND tỉnh và quản trị hệ thống xem được "
                              "bảng theo dõi tiến độ."))


# Unit names change once in years; their Vietnamese collation key is worth keeping (2,800 names on every board).
_name_key = lru_cache(maxsize=16_384)(sort_key)


def _names_of_year(session: Session, year: int) -> dict[str, str]:
    """Each unit's name on 31/12 of YEAR: a report is shown under the name the agency bore that year."""
    on = date(year, 12, 31)
    return dict(session.connection().execute(select(UnitHistory.code, UnitHistory.name_vi).where(
        UnitHistory.valid_from <= on, or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on))).all())


def local_date(value: datetime) -> date:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LOCAL_TZ).date()


class _DaysLate:
    """Working days late, from a running count of working days: one subtraction a row.

    `WorkingCalendar.working_days_between` walks the calendar day by day, which at 2,800 agencies and years of
    history (a report due in 2014, still open) is millions of steps; the running count is built once per call.
    """

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._start = date.max
        self._counts: list[int] = []  # _counts[i]: working days after _start up to and including _start + i

    def __call__(self, due_on: date, on: date) -> int:
        if on <= due_on:
            return 0
        self._cover(due_on, on)
        return self._counts[(on - self._start).days] - self._counts[(due_on - self._start).days]

    def _cover(self, first: date, last: date) -> None:
        end = self._start + timedelta(days=len(self._counts) - 1) if self._counts else date.min
        if self._start <= first and last <= end:
            return
        start, end = min(first, self._start), max(last, end)
        counts, total = [0], 0
        for offset in range(1, (end - start).days + 1):
            total += self.calendar.is_working_day(start + timedelta(days=offset))
            counts.append(total)
        self._start, self._counts = start, counts


# --- the overdue board --------------------------------------------------------------------------------------------


@dataclass
class OverdueQuery:
    year: int | None = None
    step: str | None = None
    unit_code: str | None = None
    role: str | None = None  # the candidate group the task waits for
    min_days_late: int = 0
    page: int = 1
    per_page: int = 50


@dataclass
class OverdueRow:
    task_id: int
    instance_id: int
    year: int
    step_id: str
    step_name: str
    unit_code: str | None
    unit_name: str
    candidate_group: str
    role_label: str
    assignee: str | None
    holder: str  # the person who claimed it, else the role it waits for
    created_at: datetime
    due_on: date
    days_late: int  # working days after the deadline up to today; 0 when only days off have passed


@dataclass
class OverduePage:
    rows: list[OverdueRow]
    total: int
    page: int
    pages: int
    query: OverdueQuery
    today: date


@dataclass
class OverdueChoices:
    """What the board's filters offer: opened years, steps as drawn, units, the roles steps wait for."""

    years: list[int]
    steps: list[tuple[str, str]]
    units: list[tuple[str, str]]
    roles: list[tuple[str, str]]


def late_cutoff(calendar: WorkingCalendar, today: date, min_days_late: int) -> date:
    """The latest deadline that is past on TODAY and at least MIN_DAYS_LATE working days late.

    Working days late never grow as the deadline moves later, so the filter (and the sort) is a plain range on
    `due_on`, which the inbox index serves; no row is ever fetched just to be counted out.
    """
    day, counted = today, 0
    while counted < min(max(min_days_late, 0), MAX_DAYS_LATE):
        if calendar.is_working_day(day):
            counted += 1
        day -= timedelta(days=1)
    return min(day, today - timedelta(days=1))


def _overdue_conditions(query: OverdueQuery, today: date, calendar: WorkingCalendar) -> list[Any]:
    conditions: list[Any] = [HumanTask.state == TaskState.OPEN,
                             HumanTask.due_on <= late_cutoff(calendar, today, query.min_days_late)]
    if query.role:
        conditions.append(HumanTask.candidate_group == query.role)
    if query.unit_code:
        conditions.append(HumanTask.unit_code == query.unit_code)
    if query.step:
        conditions.append(HumanTask.step_id == query.step)
    if query.year:
        conditions.append(HumanTask.year == query.year)
    return conditions


_OVERDUE_COLUMNS = (HumanTask.id, HumanTask.instance_id, HumanTask.year, HumanTask.step_id, HumanTask.step_name,
                    HumanTask.unit_code, HumanTask.candidate_group, HumanTask.assignee_id, HumanTask.created_at,
                    HumanTask.due_on)


def overdue_page(session: Session, viewer: User, query: OverdueQuery, today: date,
                 calendar: WorkingCalendar | None = None) -> OverduePage:
    """One page of the open tasks past their deadline, most late first, with the total that match."""
    ensure_may_supervise(viewer)
    calendar = calendar or WorkingCalendar.cached(session)
    conditions = _overdue_conditions(query, today, calendar)
    total = session.scalar(select(func.count(HumanTask.id)).where(*conditions)) or 0
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    pages = max(1, -(-total // per_page))
    page = max(1, min(query.page, pages))
    # Core rows, not ORM ones: at thousands of rows the ORM's row bookkeeping cost more than the query.
    found = session.connection().execute(
        select(*_OVERDUE_COLUMNS).where(*conditions).order_by(HumanTask.due_on, HumanTask.id)
        .limit(per_page).offset((page - 1) * per_page))
    rows = _overdue_rows(session, found.all(), today, calendar)
    return OverduePage(rows, total, page, pages, replace(query, page=page, per_page=per_page), today)


def overdue_rows(session: Session, viewer: User, query: OverdueQuery, today: date,
                 calendar: WorkingCalendar | None = None) -> list[OverdueRow]:
    """Every open task past its deadline that matches QUERY (paging ignored), most late first: for the exports."""
    ensure_may_supervise(viewer)
    calendar = calendar or WorkingCalendar.cached(session)
    found = session.connection().execute(
        select(*_OVERDUE_COLUMNS).where(*_overdue_conditions(query, today, calendar))
        .order_by(HumanTask.due_on, HumanTask.id))
    return _overdue_rows(session, found.all(), today, calendar)


def _overdue_rows(session: Session, found: list[Any], today: date, calendar: WorkingCalendar) -> list[OverdueRow]:
    names = all_unit_names(session)
    people = _user_names(session, {r.assignee_id for r in found if r.assignee_id})
    days_late = _DaysLate(calendar)
    rows = []
    for r in found:
        label = role_label(r.candidate_group)
        assignee = people.get(r.assignee_id) if r.assignee_id else None
        rows.append(OverdueRow(
            task_id=r.id, instance_id=r.instance_id, year=r.year, step_id=r.step_id, step_name=r.step_name,
            unit_code=r.unit_code, unit_name=names.get(r.unit_code, r.unit_code) if r.unit_code else "Toàn tỉnh",
            candidate_group=r.candidate_group, role_label=label, assignee=assignee, holder=assignee or label,
            created_at=r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC),
            due_on=r.due_on, days_late=days_late(r.due_on, today),
        ))
    return rows


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def overdue_choices(session: Session) -> OverdueChoices:
    """The filter choices: no scan of the task table, only the deployed diagrams and reference data."""
    steps = [*user_steps(session, REPORT_PROCESS), *user_steps(session, CYCLE_PROCESS)]
    names = all_unit_names(session)
    return OverdueChoices(
        years=list(session.scalars(select(Cycle.year).order_by(Cycle.year.desc()))),
        steps=[(step_id, name) for step_id, name, _ in steps],
        units=sorted(names.items(), key=lambda item: _name_key(item[1])),
        roles=list(dict.fromkeys((group, role_label(group)) for _, _, group in steps)),
    )
