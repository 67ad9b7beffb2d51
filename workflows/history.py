"""What the instance page shows: an instance's data and open steps, its timeline (audit events merged with comments),
and adding a comment; role labels and a process's steps for the pages. The cycle pages are cycle_view.py, the
words for stored data readable.py. Read side only, apart from add_comment."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import engine, permissions, runtime
from workflows.calendar import local_today
from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, SECTION_TITLES, STATUSES
from workflows.definitions import latest_version
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import (
    AuditEvent,
    Comment,
    Cycle,
    DefinitionVersion,
    HumanTask,
    ProcessInstance,
    Report,
    TaskState,
    User,
)
from workflows.readable import Detail, local_time, money, utc, vocabulary
from workflows.units import unit_name
from workflows.vocabulary import CYCLE_DETAIL_LABELS as DETAIL
from workflows.vocabulary import (
    CYCLE_STATUS_LABELS,
    INSTANCE_STATUS_LABELS,
    NOT_ASSESSED,
    SYSTEM,
    deputy_for,
    role_label,
)

COMMENT_MAX = 4000


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    kind: str  # the audit event's kind, or "comment"
    who: str  # "cấp phó X thay mặt Y" when a deputy acted (a Text)
    message: str  # an event's Text when it kept its template (pages translate it), else as stored; a comment's body
    details: tuple[Detail, ...] = ()
    step_name: str | None = None

    @property
    def is_comment(self) -> bool:
        return self.kind == "comment"


@dataclass(frozen=True)
class OpenStep:
    task_id: int
    step_name: str
    holder: str  # the role, in Vietnamese
    assignee: str | None
    since: datetime
    due_on: date | None
    overdue: bool
    viewer_may_open: bool


@dataclass(frozen=True)
class CriterionRow:
    id: str
    title: str
    status: str
    note: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    submitted_at: datetime | None
    sections: tuple[tuple[str, tuple[CriterionRow, ...]], ...]
    figures: tuple[Detail, ...]
    budget: tuple[Detail, ...]
    budget_total: str


@dataclass(frozen=True)
class InstancePage:
    instance: ProcessInstance
    process_name: str
    version: int
    status: str
    unit_name: str | None
    report: ReportView | None
    cycle_details: tuple[Detail, ...]
    open_steps: tuple[OpenStep, ...]
    timeline: tuple[TimelineEntry, ...]


def can_view(session: Session, viewer: User, instance: ProcessInstance) -> bool:
    """Central roles see every instance; an agency's people see only their own agency's."""
    return permissions.may_read_instance(viewer, instance.unit_code)


def _visible_instance(session: Session, instance_id: int, viewer: User) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Text("Không tìm thấy hồ sơ #{id}.", id=instance_id))
    if not can_view(session, viewer, instance):
        raise NotAllowed(Text("Bạn không có quyền xem hồ sơ này."))
    return instance


def instance_page(session: Session, instance_id: int, viewer: User, today: date | None = None) -> InstancePage:
    """Everything the instance page shows, for VIEWER (NotAllowed when they may not see it)."""
    instance = _visible_instance(session, instance_id, viewer)
    today = today or local_today()
    version = session.get(DefinitionVersion, instance.version_id)
    assert version is not None
    report = session.scalar(select(Report).where(Report.instance_id == instance.id))
    cycle = session.scalar(select(Cycle).where(Cycle.instance_id == instance.id))
    return InstancePage(
        instance=instance,
        process_name=version.definition.name,
        version=version.version,
        status=INSTANCE_STATUS_LABELS.get(instance.status.value, instance.status.value),
        unit_name=unit_name(session, instance.unit_code, instance.year) if instance.unit_code else None,
        report=_report_view(session, report) if report is not None else None,
        cycle_details=_cycle_details(session, cycle) if cycle is not None else (),
        open_steps=_open_steps(session, instance, viewer, today),
        timeline=_timeline(session, instance),
    )


def report_view(session: Session, instance_id: int) -> ReportView | None:
    """The agency report of INSTANCE, for the head and DIC to read on their own steps (caller checks permission)."""
    report = session.scalar(select(Report).where(Report.instance_id == instance_id))
    return _report_view(session, report) if report is not None else None


def timeline(session: Session, instance_id: int, viewer: User) -> list[TimelineEntry]:
    """The instance's history, oldest first: every audit event and every comment."""
    return list(_timeline(session, _visible_instance(session, instance_id, viewer)))


def _timeline(session: Session, instance: ProcessInstance) -> tuple[TimelineEntry, ...]:
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id, AuditEvent.kind != "comment_added")
        .order_by(AuditEvent.at, AuditEvent.id)))
    comments = list(session.scalars(
        select(Comment).where(Comment.instance_id == instance.id).order_by(Comment.at, Comment.id)))
    user_ids = {e.actor_id for e in events} | {e.acting_for_id for e in events} | {c.author_id for c in comments}
    names = _user_names(session, {i for i in user_ids if i is not None})
    task_ids = {e.task_id for e in events} | {c.task_id for c in comments}
    steps = dict(session.execute(select(HumanTask.id, HumanTask.step_name)
                                 .where(HumanTask.id.in_({i for i in task_ids if i is not None}))).all())
    words = vocabulary(session, instance.version_id)
    rows: list[tuple[datetime, int, int, TimelineEntry]] = []
    for e in events:
        who = _who(names, e.actor_id, e.acting_for_id)
        details = words.details(e.data) if e.data else ()
        rows.append((utc(e.at), 0, e.id, TimelineEntry(utc(e.at), e.kind, who, _event_message(e), details,
                                                        steps.get(e.task_id))))
    for c in comments:
        rows.append((utc(c.at), 1, c.id, TimelineEntry(utc(c.at), "comment", names.get(c.author_id, "?"), c.body,
                                                        step_name=steps.get(c.task_id))))
    return tuple(row[3] for row in sorted(rows, key=lambda r: r[:3]))


def _who(names: Mapping[int, str], actor_id: int | None, acting_for_id: int | None) -> str:
    if actor_id is None:
        return SYSTEM
    if acting_for_id is not None:
        return deputy_for(names.get(actor_id, "?"), names.get(acting_for_id, "?"))
    return names.get(actor_id, "?")


def _event_message(event: AuditEvent) -> str:
    """EVENT's message: the Text it was written with, rebuilt from message_text, else the stored str (older events)."""
    if event.message_text:
        try:
            text = Text.from_json(event.message_text)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return event.message
        if text == event.message:  # the stored Vietnamese stays the record
            return text
    return event.message


@runtime.atomic
def add_comment(session: Session, instance_id: int, viewer: User, body: str, task_id: int | None = None,
                now: datetime | None = None) -> Comment:
    """Add VIEWER's comment to an instance they can see (optionally about one of its tasks); audited."""
    instance = _visible_instance(session, instance_id, viewer)
    body = (body or "").strip()
    if not body:
        raise InvalidInput(Text("Chưa nhập nội dung bình luận."), {"body": Text("Nhập nội dung bình luận.")})
    if len(body) > COMMENT_MAX:
        raise InvalidInput(Text("Bình luận quá dài."), {"body": Text("Bình luận tối đa {max} ký tự.", max=COMMENT_MAX)})
    task = None
    if task_id is not None:
        task = session.get(HumanTask, task_id)
        if task is None or task.instance_id != instance.id:
            raise InvalidInput(Text("Bước được chọn không thuộc hồ sơ này."),
                               {"task_id": Text("Chọn một bước của hồ sơ này.")})
    ctx = runtime.Context.create(session, viewer, now)
    comment = Comment(instance_id=instance.id, task_id=task.id if task else None, author_id=viewer.id, body=body,
                      at=ctx.now)
    session.add(comment)
    session.flush()
    runtime.audit(ctx, "comment_added", Text("{name} bình luận", name=viewer.full_name), instance, task,
                  data={"comment_id": comment.id, "body": body})
    runtime.commit(ctx)
    return comment


# --- the data as it stands ----------------------------------------------------------------------------------------


def _report_view(session: Session, report: Report) -> ReportView:
    sections = []
    for number, title in SECTION_TITLES.items():
        rows = []
        for c in (c for c in CRITERIA if c.section == number):
            entry = (report.criteria or {}).get(c.id) or {}
            rows.append(CriterionRow(c.id, c.title_vi, STATUSES.get(entry.get("status", ""), NOT_ASSESSED),
                                     str(entry.get("note") or ""), tuple(str(e) for e in entry.get("evidence") or ())))
        sections.append((title, tuple(rows)))
    words = vocabulary(session, report.instance.version_id)
    figures = tuple(Detail(words.label(k), words.scalar(k, v)) for k, v in (report.figures or {}).items())
    budget = tuple(Detail(BUDGET_CATEGORIES.get(k, k), money(v)) for k, v in (report.budget or {}).items())
    total = sum(v for v in (report.budget or {}).values() if isinstance(v, int))
    return ReportView(report.submitted_at and utc(report.submitted_at), tuple(sections), figures, budget,
                      money(total))


def _cycle_details(session: Session, cycle: Cycle) -> tuple[Detail, ...]:
    units = session.scalar(select(func.count(Report.id)).where(Report.year == cycle.year)) or 0
    opened_by = session.get(User, cycle.opened_by_id) if cycle.opened_by_id else None
    versions = dict(session.execute(select(DefinitionVersion.id, DefinitionVersion.version).where(
        DefinitionVersion.id.in_((cycle.report_version_id, cycle.evaluation_version_id)))).all())
    return (
        Detail(DETAIL["year"], str(cycle.year)),
        Detail(DETAIL["status"], CYCLE_STATUS_LABELS.get(cycle.status.value, cycle.status.value)),
        Detail(DETAIL["report_due"], f"{cycle.report_due:%d/%m/%Y}"),
        Detail(DETAIL["units"], str(units)),
        Detail(DETAIL["opened_by"], opened_by.full_name if opened_by else SYSTEM),
        Detail(DETAIL["opened_at"], local_time(cycle.opened_at)),
        Detail(DETAIL["report_version"], str(versions.get(cycle.report_version_id, "—"))),
        Detail(DETAIL["evaluation_version"], str(versions.get(cycle.evaluation_version_id, "—"))),
        Detail(DETAIL["decision_number"], cycle.decision_number or "—"),
        Detail(DETAIL["decision_date"], f"{cycle.decision_date:%d/%m/%Y}" if cycle.decision_date else "—"),
    )


def _open_steps(session: Session, instance: ProcessInstance, viewer: User, today: date) -> tuple[OpenStep, ...]:
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.state == TaskState.OPEN).order_by(HumanTask.id)))
    names = _user_names(session, {t.assignee_id for t in rows if t.assignee_id is not None})
    return tuple(
        OpenStep(t.id, t.step_name, role_label(t.candidate_group), names.get(t.assignee_id) if t.assignee_id else None,
                 utc(t.created_at), t.due_on, t.due_on is not None and t.due_on < today,
                 permissions.may_view(session, viewer, t, today))
        for t in rows
    )


def user_steps(session: Session, process_key: str) -> list[tuple[str, str, str]]:
    """(step id, name, candidate group) of each user task in the latest version of PROCESS_KEY, as drawn."""
    spec = runtime.spec_json(session, latest_version(session, process_key).id)
    return [(step_id, name, groups[0]) for step_id, name, groups in engine.user_steps(spec)]


# --- labels ----------------------------------------------------------------------------------------------------------


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())
