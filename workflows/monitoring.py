"""Watching deployed processes run: the processes and their versions, open, late and completed tasks per step across a
version or a cycle year, and one instance's completed, current and late steps, for the process pages and diagrams.

Everything here reads the task table and the audit log (no engine state is loaded). The decision tables of a version
and testing one of them live in workflows.dmn_tables; `test_decision` is re-exported here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from workflows.dmn_tables import DecisionTable, decision_tables, parse_xml
from workflows.dmn_tables import test_decision as test_decision
from workflows.errors import NotAllowed, NotFound
from workflows.history import can_view
from workflows.messages import Text
from workflows.models import (
    AuditEvent,
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    TaskState,
    User,
)
from workflows.versions import get_version

# Audit events that mean a step ran to its end; human tasks also count through their completed rows.
_DONE_EVENTS = ("task_completed", "external_task")


# --- versions and their files ---------------------------------------------------------------------------------------


def version_file(version: DefinitionVersion, filename: str) -> str:
    """The text of FILENAME exactly as deployed with VERSION (NotFound if the version has no such file)."""
    if filename not in version.files:
        raise NotFound(Text("Phiên bản {version} không có tệp '{filename}'.", version=version.version,
                            filename=filename))
    return version.files[filename]


def main_diagram(version: DefinitionVersion) -> str:
    """The name of the .bpmn file of VERSION that holds its process."""
    bpmn = sorted(name for name in version.files if name.endswith(".bpmn"))
    if not bpmn:
        raise NotFound(Text("Phiên bản {version} không có sơ đồ BPMN.", version=version.version))
    return next((name for name in bpmn if _process_node(version, name) is not None), bpmn[0])


def diagram_steps(version: DefinitionVersion) -> list[tuple[str, str]]:
    """(id, name) of each user task of VERSION's process, in the order they are drawn in the file."""
    name = main_diagram(version)
    process = _process_node(version, name)
    root = process if process is not None else parse_xml(version.files[name])
    return [(t.get("id"), t.get("name") or t.get("id")) for t in root.iter("{*}userTask")]


def _process_node(version: DefinitionVersion, filename: str) -> Any:
    key = version.definition.key
    return next((p for p in parse_xml(version.files[filename]).iter("{*}process") if p.get("id") == key), None)


# --- counts per step ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepCount:
    process_key: str
    step_id: str
    step_name: str
    open: int
    late: int  # open and past its due date
    completed: int


def years_of_version(session: Session, version_id: int) -> list[int]:
    """The cycle years that have instances on VERSION_ID, newest first."""
    return list(session.scalars(select(ProcessInstance.year).where(ProcessInstance.version_id == version_id)
                                .distinct().order_by(ProcessInstance.year.desc())))


def step_counts(session: Session, today: dt.date, version_id: int | None = None,
                year: int | None = None) -> list[StepCount]:
    """Open, late and completed tasks per step, for the instances of VERSION_ID and/or the cycle YEAR."""
    is_open = HumanTask.state == TaskState.OPEN
    query = (
        select(HumanTask.process_key, HumanTask.step_id, func.max(HumanTask.step_name),
               func.sum(case((is_open, 1), else_=0)),
               func.sum(case((and_(is_open, HumanTask.due_on < today), 1), else_=0)),
               func.sum(case((HumanTask.state == TaskState.COMPLETED, 1), else_=0)))
        .group_by(HumanTask.process_key, HumanTask.step_id)
        .order_by(func.min(HumanTask.id))
    )
    if version_id is not None:
        query = query.join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id) \
            .where(ProcessInstance.version_id == version_id)
    if year is not None:
        query = query.where(HumanTask.year == year)
    return [StepCount(key, step, name, int(n_open or 0), int(n_late or 0), int(n_done or 0))
            for key, step, name, n_open, n_late, n_done in session.execute(query)]


@dataclass(frozen=True)
class StepRow:
    step_id: str
    step_name: str
    open: int
    late: int
    completed: int
    drawn: bool  # the step is a user task of this version's diagram (else it only has tasks from elsewhere)


@dataclass(frozen=True)
class VersionOverview:
    version: DefinitionVersion
    diagram_file: str
    years: tuple[int, ...]
    year: int | None  # None: every year
    steps: tuple[StepRow, ...]
    tables: tuple[DecisionTable, ...]

    @property
    def marks(self) -> dict[str, str]:
        return marks({s.step_id for s in self.steps if s.completed}, {s.step_id for s in self.steps if s.open},
                     {s.step_id for s in self.steps if s.late})

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return {s.step_id: {"open": s.open, "late": s.late} for s in self.steps if s.open}


def version_overview(session: Session, key: str, number: int, today: dt.date, year: int | None = None,
                     all_years: bool = False) -> VersionOverview:
    """Version NUMBER of KEY with its tasks per step in YEAR (default: its newest year) or in every year."""
    version = get_version(session, key, number)
    years = tuple(years_of_version(session, version.id))
    if year is None and not all_years and years:
        year = years[0]
    counted = {c.step_id: c for c in step_counts(session, today, version.id, None if all_years else year)
               if c.process_key == key}
    drawn = diagram_steps(version)
    steps = [StepRow(i, name, *_numbers(counted.get(i)), drawn=True) for i, name in drawn]
    steps += [StepRow(c.step_id, c.step_name, c.open, c.late, c.completed, drawn=False)
              for c in counted.values() if c.step_id not in dict(drawn)]
    return VersionOverview(version, main_diagram(version), years, None if all_years else year, tuple(steps),
                           tuple(decision_tables(version)))


def _numbers(count: StepCount | None) -> tuple[int, int, int]:
    return (count.open, count.late, count.completed) if count else (0, 0, 0)


def marks(completed: set[str] | frozenset[str], current: set[str] | frozenset[str],
          late: set[str] | frozenset[str]) -> dict[str, str]:
    """One mark per step for the diagram: late over current over completed."""
    result = {step: "completed" for step in completed}
    result.update({step: "current" for step in current})
    result.update({step: "late" for step in late})
    return result


@dataclass(frozen=True)
class VersionRow:
    id: int
    version: int
    created_at: dt.datetime
    created_by: str | None
    comment: str | None
    is_current: bool  # the version new cycles start on
    instances: int
    running: int


@dataclass(frozen=True)
class ProcessRow:
    key: str
    name: str
    versions: tuple[VersionRow, ...]  # newest first


def processes(session: Session) -> list[ProcessRow]:
    """Every deployed process with its versions and how many instances run on each."""
    tally = {(v, s): n for v, s, n in session.execute(
        select(ProcessInstance.version_id, ProcessInstance.status, func.count())
        .group_by(ProcessInstance.version_id, ProcessInstance.status))}
    definitions = list(session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)))
    authors = {v.created_by_id for d in definitions for v in d.versions if v.created_by_id is not None}
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(authors))).all())
    rows = []
    for definition in definitions:
        versions = sorted(definition.versions, key=lambda v: v.version, reverse=True)
        current = definition.current_version_id or (versions[0].id if versions else None)
        rows.append(ProcessRow(definition.key, definition.name, tuple(
            VersionRow(v.id, v.version, v.created_at, names.get(v.created_by_id) if v.created_by_id else None,
                       v.comment, v.id == current, sum(n for (vid, _), n in tally.items() if vid == v.id),
                       tally.get((v.id, InstanceStatus.RUNNING), 0))
            for v in versions)))
    return rows


# --- one instance ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceSteps:
    instance: ProcessInstance
    version: DefinitionVersion
    diagram_file: str
    completed: frozenset[str]
    current: frozenset[str]
    late: frozenset[str]  # current steps with an open task past its due date
    late_task_ids: frozenset[int]
    open_tasks: tuple[HumanTask, ...]
    done_tasks: tuple[HumanTask, ...]
    counts: dict[str, dict[str, int]]  # step id -> open and late tasks

    @property
    def marks(self) -> dict[str, str]:
        return marks(self.completed, self.current, self.late)


def instance_steps(session: Session, instance_id: int, viewer: User, today: dt.date) -> InstanceSteps:
    """The completed, current and late steps of an instance VIEWER may see (NotFound / NotAllowed otherwise)."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Text("Không tìm thấy hồ sơ #{id}.", id=instance_id))
    if not can_view(session, viewer, instance):
        raise NotAllowed(Text("Bạn không có quyền xem hồ sơ này."))
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.created_at, HumanTask.id)))
    open_rows = tuple(t for t in rows if t.state == TaskState.OPEN)
    done_rows = tuple(t for t in rows if t.state == TaskState.COMPLETED)
    done_events = session.scalars(select(AuditEvent.step_id).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind.in_(_DONE_EVENTS), AuditEvent.step_id.is_not(None)))
    late_ids = frozenset(t.id for t in open_rows if t.due_on is not None and t.due_on < today)
    counts: dict[str, dict[str, int]] = {}
    for task in open_rows:
        entry = counts.setdefault(task.step_id, {"open": 0, "late": 0})
        entry["open"] += 1
        entry["late"] += int(task.id in late_ids)
    return InstanceSteps(
        instance=instance,
        version=instance.version,
        diagram_file=main_diagram(instance.version),
        completed=frozenset({t.step_id for t in done_rows} | set(done_events)),
        current=frozenset(counts),
        late=frozenset(step for step, n in counts.items() if n["late"]),
        late_task_ids=late_ids,
        open_tasks=open_rows,
        done_tasks=done_rows,
        counts=counts,
    )
