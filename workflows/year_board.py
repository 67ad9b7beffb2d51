"""The cycle board: a year's agencies × steps matrix (one grouped query on the task table), counts per step, accepted
reports per week, and every year's on-time rate against the others."""
from __future__ import annotations

import enum
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from workflows import engine
from workflows.boards import _DaysLate, _name_key, _names_of_year, ensure_may_supervise, local_date
from workflows.calendar import LOCAL_TZ, WorkingCalendar
from workflows.cycles import REPORT_PROCESS, get_cycle
from workflows.models import Cycle, CycleStatus, HumanTask, InstanceStatus, ProcessInstance, TaskState, User
from workflows.runtime import spec_json
from workflows.units import all_unit_names
from workflows.vocabulary import role_label

TOP_LATE_AGENCIES = 15
MAX_WEEKS = 78  # a cycle runs November to April; the progress line stops after a year and a half whatever happens


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
    # A step is on time when it was finished on or before its deadline day, in local time (docs/RULES.md §6).
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
