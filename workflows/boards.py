"""Supervisors' boards: every step past its deadline across agencies, a year's agencies × steps matrix, and the
figures its charts draw. Read from the task table only (never engine state); lateness is in working days."""
from __future__ import annotations

import enum
import weakref
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from workflows import engine
from workflows.calendar import LOCAL_TZ, WorkingCalendar
from workflows.cycles import CYCLE_PROCESS, REPORT_PROCESS, get_cycle
from workflows.errors import NotAllowed
from workflows.history import ROLE_VI, user_steps
from workflows.messages import Text
from workflows.models import (
    Cycle,
    CycleStatus,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    Role,
    TaskState,
    UnitHistory,
    User,
)
from workflows.runtime import spec_json
from workflows.text import sort_key
from workflows.units import all_unit_names

BOARD_ROLES = frozenset({Role.SUPERVISOR, Role.DIC_LEADER, Role.COMMITTEE, Role.ADMIN})
MAX_PER_PAGE = 200
MAX_DAYS_LATE = 1000  # a filter beyond four years of working days means nothing and would only walk the calendar
TOP_LATE_AGENCIES = 15
MAX_WEEKS = 78  # a cycle runs November to April; the progress line stops after a year and a half whatever happens


def ensure_may_supervise(viewer: User) -> None:
    """Only those who watch the whole province's deadlines see the boards."""
    if not viewer.role_set & BOARD_ROLES:
        raise NotAllowed(Text("Chỉ bộ phận giám sát, lãnh đạo Sở TT&TT, UBND tỉnh và quản trị hệ thống xem được "
                              "bảng theo dõi tiến độ."))


# Unit names change once in years; their Vietnamese collation key is worth keeping (2,800 names on every board).
_name_key = lru_cache(maxsize=16_384)(sort_key)


def _names_of_year(session: Session, year: int) -> dict[str, str]:
    """Each unit's name on 31/12 of YEAR: a report is shown under the name the agency bore that year."""
    on = date(year, 12, 31)
    return dict(session.connection().execute(select(UnitHistory.code, UnitHistory.name_vi).where(
        UnitHistory.valid_from <= on, or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on))).all())


def role_label(group: str) -> str:
    try:
        return ROLE_VI[Role(group)]
    except ValueError:
        return group


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


# --- the cycle board ----------------------------------------------------------------------------------------------


class CellState(enum.StrEnum):
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    OPEN = "open"
    OPEN_LATE = "open_late"
    NOT_REACHED = "not_reached"
    CANCELLED = "cancelled"  # the instance was stopped (a report never sent when the Committee decided)


@dataclass
class Cell:
    step_id: str
    state: CellState
    instance_id: int | None
    rounds: int = 0  # rows of the step: more than one after a return
    task_id: int | None = None  # the latest row
    due_on: date | None = None
    finished_on: date | None = None  # local date it was completed or stopped
    days_late: int = 0  # working days: to completion, or to today while open
    late: bool = False

    @property
    def decided(self) -> bool:
        """Whether the step's punctuality is known: finished, or already late."""
        return self.state in (CellState.DONE_ON_TIME, CellState.DONE_LATE) or self.late


@dataclass
class Column:
    step_id: str
    step_name: str
    role_label: str
    level: str  # "agency" (one cell per agency) or "cycle" (once for the province)
    counts: dict[str, int] = field(default_factory=dict)
    on_time: int = 0
    decided: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of steps done on time among those whose punctuality is known (done, or already late)."""
        return self.on_time / self.decided if self.decided else None


@dataclass
class AgencyRow:
    unit_code: str
    unit_name: str
    instance_id: int
    status: str
    cells: list[Cell]
    days_late: int  # over the agency's steps, each counted by its latest round
    accepted_on: date | None


@dataclass
class WeekPoint:
    week_start: date  # a Monday
    accepted: int  # agency reports accepted that week
    cumulative: int


@dataclass
class YearRate:
    year: int
    on_time: int
    decided: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.decided if self.decided else None


@dataclass
class CycleBoard:
    year: int
    today: date
    status: str
    report_due: date
    cycle_instance_id: int | None
    columns: list[Column]  # the agency steps, then the cycle-level steps
    rows: list[AgencyRow]
    cycle_cells: list[Cell]
    late_by_agency: list[AgencyRow]  # the most late agencies first, at most TOP_LATE_AGENCIES, only late ones
    progress: list[WeekPoint]
    years: list[YearRate]

    @property
    def agency_columns(self) -> list[Column]:
        return [c for c in self.columns if c.level == "agency"]

    @property
    def cycle_columns(self) -> list[Column]:
        return [c for c in self.columns if c.level == "cycle"]

    @property
    def accepted(self) -> int:
        return sum(1 for r in self.rows if r.accepted_on)

    @property
    def open_late(self) -> int:
        return sum(1 for r in self.rows for c in r.cells if c.state == CellState.OPEN_LATE) + sum(
            1 for c in self.cycle_cells if c.state == CellState.OPEN_LATE)


class _LocalDay(FunctionElement[date]):
    """In SQL: the calendar day in Vietnam of a timestamp stored in UTC (every write goes through runtime's UTC)."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(_LocalDay, "sqlite")
def _local_day_sqlite(element: _LocalDay, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the UTC wall clock as text; Vietnam has been on UTC+7, with no daylight saving, since 1975.
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


@compiles(_LocalDay, "postgresql")
def _local_day_postgresql(element: _LocalDay, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE '{LOCAL_TZ.key}') AS DATE)"


def _latest(cycle_ids: Any) -> Any:
    """(last_id, rounds) of every (instance, step) of the cycles CYCLE_IDS selects: the step's latest row.

    Instances come from the cycle index, their tasks from ix_task_instance; nothing reads a task of another year.
    """
    instances = select(ProcessInstance.id).where(ProcessInstance.cycle_id.in_(cycle_ids))
    return (select(func.max(HumanTask.id).label("last_id"), func.count(HumanTask.id).label("rounds"))
            .where(HumanTask.instance_id.in_(instances))
            .group_by(HumanTask.instance_id, HumanTask.step_id).subquery())


def _latest_rows(session: Session, cycle_id: int) -> list[Any]:
    latest = _latest([cycle_id])
    return list(session.connection().execute(
        select(HumanTask.id, HumanTask.instance_id, HumanTask.process_key, HumanTask.step_id, HumanTask.step_name,
               HumanTask.candidate_group, HumanTask.state, HumanTask.due_on, HumanTask.completed_at, latest.c.rounds)
        .join(latest, HumanTask.id == latest.c.last_id)
    ))


def _cell(row: Any, today: date, days_late: _DaysLate) -> Cell:
    cell = Cell(row.step_id, CellState.OPEN, row.instance_id, row.rounds, row.id, row.due_on)
    if row.state == TaskState.OPEN:
        cell.late = row.due_on is not None and row.due_on < today
        cell.state = CellState.OPEN_LATE if cell.late else CellState.OPEN
        cell.days_late = days_late(row.due_on, today) if cell.late else 0
        return cell
    # A step is on time when it was finished on or before its deadline day, in local time (DOMAIN.md §6).
    cell.finished_on = local_date(row.completed_at) if row.completed_at else None
    cell.late = row.due_on is not None and cell.finished_on is not None and cell.finished_on > row.due_on
    cell.days_late = days_late(row.due_on, cell.finished_on) if cell.late else 0
    if row.state == TaskState.CANCELLED:
        cell.state = CellState.CANCELLED
    else:
        cell.state = CellState.DONE_LATE if cell.late else CellState.DONE_ON_TIME
    return cell


def cycle_board(session: Session, viewer: User, year: int, today: date,
                calendar: WorkingCalendar | None = None) -> CycleBoard:
    """YEAR's agencies × steps matrix with counts per step, and the figures of the board's charts."""
    ensure_may_supervise(viewer)
    cycle = get_cycle(session, year)
    days_late = _DaysLate(calendar or WorkingCalendar.cached(session))
    latest = _latest_rows(session, cycle.id)
    cells = {(r.instance_id, r.step_id): _cell(r, today, days_late) for r in latest}
    columns = _columns(session, cycle, latest)
    instances = session.connection().execute(
        select(ProcessInstance.id, ProcessInstance.unit_code, ProcessInstance.status)
        .where(ProcessInstance.cycle_id == cycle.id, ProcessInstance.process_key == REPORT_PROCESS)
    ).all()
    names = {**all_unit_names(session), **_names_of_year(session, year)}
    rows = []
    for instance_id, unit_code, status in instances:
        row_cells = [cells.get((instance_id, c.step_id)) or Cell(c.step_id, CellState.NOT_REACHED, instance_id)
                     for c in columns if c.level == "agency"]
        finished = [c.finished_on for c in row_cells if c.finished_on]
        rows.append(AgencyRow(
            unit_code=unit_code, unit_name=names.get(unit_code, unit_code), instance_id=instance_id,
            status=status.value, cells=row_cells, days_late=sum(c.days_late for c in row_cells),
            accepted_on=max(finished) if status == InstanceStatus.COMPLETED and finished else None,
        ))
    rows.sort(key=lambda r: _name_key(r.unit_name))
    cycle_cells = [cells.get((cycle.instance_id, c.step_id)) or Cell(c.step_id, CellState.NOT_REACHED,
                                                                     cycle.instance_id)
                   for c in columns if c.level == "cycle"]
    for index, column in enumerate(c for c in columns if c.level == "agency"):
        _count(column, [r.cells[index] for r in rows])
    for column, cell in zip((c for c in columns if c.level == "cycle"), cycle_cells, strict=True):
        _count(column, [cell])
    late = sorted((r for r in rows if r.days_late > 0), key=lambda r: (-r.days_late, _name_key(r.unit_name)))
    return CycleBoard(
        year=year, today=today, status=cycle.status.value, report_due=cycle.report_due,
        cycle_instance_id=cycle.instance_id, columns=columns, rows=rows, cycle_cells=cycle_cells,
        late_by_agency=late[:TOP_LATE_AGENCIES],
        progress=_progress(cycle, rows, today),
        years=year_rates(session, today),
    )


def _columns(session: Session, cycle: Cycle, latest: list[Any]) -> list[Column]:
    """The steps as drawn in the year's pinned versions (the agency report's, then the cycle's), plus any step a row
    has that the drawing lacks."""
    cycle_version = session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == cycle.instance_id))
    levels: dict[str, list[Column]] = {"agency": [], "cycle": []}
    for version_id, level in ((cycle.report_version_id, "agency"), (cycle_version, "cycle")):
        if version_id is not None:
            levels[level] = [Column(step_id, name, role_label(group), level)
                             for step_id, name, group in _drawn_steps(session, version_id)]
    for r in sorted(latest, key=lambda r: r.id):
        level = "agency" if r.process_key == REPORT_PROCESS else "cycle"
        if all(c.step_id != r.step_id for c in levels[level]):
            levels[level].append(Column(r.step_id, r.step_name, role_label(r.candidate_group), level))
    return levels["agency"] + levels["cycle"]


def _drawn_steps(session: Session, version_id: int) -> list[tuple[str, str, str]]:
    """(step id, name, first candidate group) of each user task of a deployed version, in the order drawn.

    The walk of history.user_steps, for a given version rather than the latest: a year keeps its diagrams.
    """
    return [(step_id, name, groups[0]) for step_id, name, groups in engine.user_steps(spec_json(session, version_id))]


def _count(column: Column, cells: list[Cell]) -> None:
    column.counts = {state.value: 0 for state in CellState} | dict(Counter(c.state.value for c in cells))
    column.on_time = sum(1 for c in cells if c.state == CellState.DONE_ON_TIME)
    column.decided = sum(1 for c in cells if c.decided)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _progress(cycle: Cycle, rows: list[AgencyRow], today: date) -> list[WeekPoint]:
    """Agency reports accepted per week, from the week the cycle opened to the last acceptance (or today while
    reports are still out)."""
    start = _monday(local_date(cycle.opened_at))
    accepted = Counter(_monday(r.accepted_on) for r in rows if r.accepted_on)
    running = any(r.status == InstanceStatus.RUNNING for r in rows)
    end = _monday(today) if running else max(accepted, default=start)
    end = min(max(end, start), start + timedelta(weeks=MAX_WEEKS - 1))
    points, total, week = [], 0, start
    while week <= end:
        total += accepted.get(week, 0)
        points.append(WeekPoint(week, accepted.get(week, 0), total))
        week += timedelta(weeks=1)
    return points


# Rates of decided years, per database: a decided cycle's reports are stopped and its steps done, so its figures
# never change again, and the year-against-year chart need not recount years of history on every view.
_decided_rates: weakref.WeakKeyDictionary[Any, dict[int, YearRate]] = weakref.WeakKeyDictionary()


def year_rates(session: Session, today: date) -> list[YearRate]:
    """Each opened year's on-time rate over every step of its agencies and of the cycle, oldest year first.

    Counted in the database, as the board counts a cell: on time when finished by the end of the deadline day
    (local time); decided when finished, open past the deadline, or stopped after it.
    """
    cycles = session.execute(select(Cycle.id, Cycle.year, Cycle.status)).all()
    frozen = _decided_rates.setdefault(session.get_bind(), {})
    to_count = {c.id: c for c in cycles if c.year not in frozen or c.status != CycleStatus.DECIDED}
    counted: dict[int, YearRate] = {}
    if to_count:
        latest = _latest(list(to_count))
        finished = _LocalDay(HumanTask.completed_at)
        on_time = case((and_(HumanTask.state == TaskState.COMPLETED,
                             or_(HumanTask.due_on.is_(None), finished <= HumanTask.due_on)), 1), else_=0)
        decided = case((HumanTask.state == TaskState.COMPLETED, 1),
                       (and_(HumanTask.state == TaskState.OPEN, HumanTask.due_on < today), 1),
                       (and_(HumanTask.state == TaskState.CANCELLED, finished > HumanTask.due_on), 1), else_=0)
        counted = {year: YearRate(year, int(a or 0), int(b or 0)) for year, a, b in session.execute(
            select(HumanTask.year, func.sum(on_time), func.sum(decided))
            .join(latest, HumanTask.id == latest.c.last_id).group_by(HumanTask.year))}
    rates = []
    for cycle in sorted(cycles, key=lambda c: c.year):
        if cycle.id not in to_count:
            rates.append(frozen[cycle.year])
            continue
        rate = counted.get(cycle.year, YearRate(cycle.year, 0, 0))
        if cycle.status == CycleStatus.DECIDED:
            frozen[cycle.year] = rate
        rates.append(rate)
    return rates
