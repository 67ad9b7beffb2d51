"""The timer worker: one pass fires due BPMN timers, reminds, marks overdue, escalates, then sends the digest.

`run_pass` is safe to run from several processes at once and to kill at any moment:
- open tasks are handled in batches, each its own transaction; on PostgreSQL a batch's rows are locked with
  `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent workers share the work instead of repeating it;
- every notification is inserted with `ON CONFLICT DO NOTHING` on its unique key (person, task, kind, deadline), so
  a batch repeated after a crash, or by a worker that read the task list before another committed, adds nothing;
- what a batch did (notifications, audit events) commits together, so a killed pass leaves no half-done batch and
  the next pass does exactly what is missing.
Deadlines and lateness are counted in working days on the calendar of docs/RULES.md §6; the escalation ladder and the
reminder days are configuration (REMINDER_WORKING_DAYS, ESCALATION_LADDER), not timers drawn in each diagram.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from workflows import cycles, notifications, runtime
from workflows.calendar import LOCAL_TZ, WorkingCalendar, forget_cached, local_today
from workflows.errors import Conflict, WorkflowError
from workflows.messages import Text
from workflows.models import (
    DeputyAssignment,
    HumanTask,
    Notification,
    ProcessInstance,
    Role,
    TaskState,
    User,
    UserRole,
    utcnow,
)
from workflows.permissions import AGENCY_GROUPS
from workflows.units import all_unit_names
from workflows.vocabulary import ROLE_LABELS, due_source_text

TIMER_ATTEMPTS = 3


@dataclass(frozen=True)
class Plan:
    """What a pass does, from configuration: reminder days (largest first), the escalation ladder, sizes, hours."""

    reminder_days: tuple[int, ...] = (5, 1)
    ladder: tuple[tuple[int, Role], ...] = ((1, Role.AGENCY_HEAD), (5, Role.SUPERVISOR))
    batch_size: int = 200
    digest_hour: int = 7  # local time; the day's digest goes out at the first pass from this hour

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Plan:
        default = cls()
        days = settings.get("REMINDER_WORKING_DAYS", default.reminder_days)
        ladder = settings.get("ESCALATION_LADDER", default.ladder)
        return cls(
            reminder_days=tuple(sorted({int(d) for d in days if int(d) >= 0}, reverse=True)),
            # Role(...) refuses a misspelt role when the worker starts, not silently at the first late task.
            ladder=tuple(sorted((int(n), Role(role)) for n, role in ladder)),
            batch_size=max(1, int(settings.get("WORKER_BATCH_SIZE", default.batch_size))),
            digest_hour=int(settings.get("DIGEST_HOUR", default.digest_hour)),
        )


@dataclass
class PassCounts:
    """What one pass did: instances moved on by timers, notifications created by kind, digests sent."""

    timers: int = 0
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    digests: int = 0
    tasks: int = 0  # open tasks looked at (due within the reminder window or late)
    errors: list[str] = field(default_factory=list)  # what failed and was left for the next pass

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "errors"}

    def __str__(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.as_dict().items())


def run_pass(session: Session, now: datetime | None = None, settings: Mapping[str, Any] | None = None) -> PassCounts:
    """One pass of the worker at NOW: timers, reminders, overdue notices, escalation, then the digest if due."""
    settings = settings or {}
    now = (now or utcnow()).astimezone(UTC)
    plan = Plan.from_settings(settings)
    counts = PassCounts()
    forget_cached(session)  # an administrator may have edited the calendar in the web process: read it once per pass
    try:
        counts.timers = _fire_timers(session, now)
    except WorkflowError as error:
        # One instance the engine cannot move must not silence every reminder: report it, go on, retry next pass.
        session.rollback()
        counts.errors.append(f"timers: {error.message}")
    _notify_open_tasks(session, now, plan, counts)
    if now.astimezone(LOCAL_TZ).hour >= plan.digest_hour:
        counts.digests = notifications.send_digests(session, now, settings)
    return counts


def _fire_timers(session: Session, now: datetime) -> int:
    moved = 0
    for _ in range(TIMER_ATTEMPTS):
        try:
            return moved + cycles.fire_due(session, now)
        except Conflict:
            # Another worker moved the same instance first (SQLite has no SKIP LOCKED); the rest are still due.
            session.rollback()
    return moved


# --- who is told -----------------------------------------------------------------------------------------------------


class Person(NamedTuple):
    id: int
    full_name: str
    unit_code: str | None


class Directory:
    """Active people by role and agency, and today's deputy assignments: read once per pass, asked per task.

    Plain tuples, not ORM objects: the pass commits per batch, and expired objects would reload one by one.
    """

    def __init__(self, roles: list[tuple[Person, str]], deputies: list[tuple[int, str, list[Any]]]) -> None:
        self.by_id: dict[int, Person] = {}
        self.by_role: dict[str, list[Person]] = {}
        self.by_role_unit: dict[tuple[str, str | None], list[Person]] = {}
        for person, role in roles:
            self.by_id[person.id] = person
            self.by_role.setdefault(role, []).append(person)
            self.by_role_unit.setdefault((role, person.unit_code), []).append(person)
        deputy_ids = {p.id for p in self.by_role.get(Role.DEPUTY.value, [])}
        self.deputies: dict[str, list[tuple[Person, list[Any]]]] = {}
        for deputy_id, unit_code, scope in deputies:
            if deputy_id in deputy_ids:
                self.deputies.setdefault(unit_code, []).append((self.by_id[deputy_id], scope or []))

    @classmethod
    def load(cls, session: Session, today: date) -> Directory:
        roles = session.execute(
            select(User.id, User.full_name, User.unit_code, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id).where(User.is_active.is_(True)).order_by(User.id)
        )
        deputies = session.execute(
            select(DeputyAssignment.deputy_id, DeputyAssignment.unit_code, DeputyAssignment.scope)
            .where(DeputyAssignment.valid_from <= today, DeputyAssignment.valid_to >= today)
        )
        return cls([(Person(i, n, u), Role(r).value) for i, n, u, r in roles], [tuple(d) for d in deputies])

    def actors(self, task: HumanTask) -> list[Person]:
        """Who may act on TASK (as permissions.authority decides, for a whole pass at once): its assignee once
        claimed, else its group; "deputy" is never a group of its own (a deputy acts for a head by assignment)."""
        if task.assignee_id is not None and task.assignee_id in self.by_id:
            return [self.by_id[task.assignee_id]]
        group = task.candidate_group
        if group in AGENCY_GROUPS:
            people = list(self.by_role_unit.get((group, task.unit_code), []))
            if group == Role.AGENCY_HEAD.value and task.unit_code:
                people += [d for d, scope in self.deputies.get(task.unit_code, []) if task.step_id in scope]
            return _unique(people)
        if group == Role.DEPUTY.value:
            return []
        return list(self.by_role.get(group, []))

    def escalation(self, task: HumanTask, role: Role, actors: list[Person]) -> list[Person]:
        """Who hears of TASK's lateness at the rung ROLE; never those who already hold the task.

        An agency role means that role in the agency holding the task: the task's own agency for agency steps, the
        agency of the people who hold it otherwise (DIC's review of a unit's report is late at DIC, not at the unit).
        """
        if role.value in AGENCY_GROUPS:
            if task.candidate_group in AGENCY_GROUPS:
                units = {task.unit_code}
            else:
                units = {p.unit_code for p in actors if p.unit_code}
            people = [p for unit in sorted(units, key=str) for p in self.by_role_unit.get((role.value, unit), [])]
        else:
            people = list(self.by_role.get(role.value, []))
        holders = {p.id for p in actors}
        return [p for p in _unique(people) if p.id not in holders]


def _unique(people: list[Person]) -> list[Person]:
    return list({p.id: p for p in people}.values())


# --- what they are told --------------------------------------------------------------------------------------------


@dataclass
class Notice:
    kind: str
    people: list[Person]
    title: str
    body: str
    audit_kind: str | None = None  # overdue and escalations also go in the instance's history
    audit_message: str = ""  # a Text: the history shows it in the reader's language
    data: dict[str, Any] = field(default_factory=dict)


def escalation_kind(role: Role) -> str:
    return "escalate_head" if role is Role.AGENCY_HEAD else f"escalate_{role.value}"


def notices(task: HumanTask, today: date, calendar: WorkingCalendar, plan: Plan, directory: Directory,
            unit_names: Mapping[str, str]) -> list[Notice]:
    """The notices TASK calls for TODAY: a reminder before its deadline, or the overdue notice and escalations."""
    assert task.due_on is not None
    due = task.due_on
    actors = directory.actors(task)
    what = task.step_name + (f" – {unit_names.get(task.unit_code, task.unit_code)}" if task.unit_code else "")
    if today <= due:
        left = calendar.working_days_between(today, due)
        created = local_today(_aware(task.created_at))
        # Only the reminders the task lived to see: a step received with 3 working days left gets no "5 days" one.
        at_creation = calendar.working_days_between(created, due)
        eligible = [n for n in plan.reminder_days if left <= n < at_creation]
        if not eligible:
            return []
        when = (f"Hôm nay ({due:%d/%m/%Y}) là hạn cuối, hết 23:59." if left == 0 else
                f"Còn {left} ngày làm việc, hạn cuối 23:59 ngày {due:%d/%m/%Y}.")
        source = f" (hạn theo {due_source_text(task.due_source)})" if task.due_source else ""
        return [Notice(f"remind_{min(eligible)}", actors, f"Sắp đến hạn: {what}", when + source)]
    late = calendar.working_days_between(due, today)
    late_text = f"{late} ngày làm việc" if late else "từ hôm nay"
    found = [Notice(
        "overdue", actors, f"Quá hạn: {what}",
        f"Hạn xử lý là ngày {due:%d/%m/%Y}; công việc đã quá hạn {late_text}. Đề nghị hoàn thành ngay.",
        "task_overdue", Text("Quá hạn '{step}' (hạn {due})", step=task.step_name, due=f"{due:%d/%m/%Y}"),
        {"due_on": due},
    )]
    holders = ", ".join(p.full_name for p in actors[:3]) + ("…" if len(actors) > 3 else "") or "chưa có người xử lý"
    for days, role in plan.ladder:
        if late >= days:
            found.append(Notice(
                escalation_kind(role), directory.escalation(task, role, actors),
                f"Quá hạn {late} ngày làm việc: {what}",
                f"Công việc '{task.step_name}' (người xử lý: {holders}) chưa hoàn thành, hạn {due:%d/%m/%Y}. "
                f"Thông báo để {ROLE_LABELS[role].lower()} đôn đốc.",
                "task_escalated",
                Text("Báo cáo quá hạn '{step}' lên {role} ({days} ngày làm việc)", step=task.step_name,
                     role=ROLE_LABELS[role], days=late),
                {"due_on": due, "working_days_late": days, "role": role.value},
            ))
    return found


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- the pass over open tasks --------------------------------------------------------------------------------------


def _notify_open_tasks(session: Session, now: datetime, plan: Plan, counts: PassCounts) -> None:
    ctx = runtime.Context.create(session, None, now)
    today, calendar = ctx.today, ctx.calendar
    directory = Directory.load(session, today)
    unit_names = all_unit_names(session)
    # The last due date that already needs a reminder; anything due later has nothing to say yet.
    horizon = calendar.add_working_days(today, max(plan.reminder_days, default=0) + 1) - timedelta(days=1)
    postgres = session.get_bind().dialect.name == "postgresql"
    last_id = 0
    while True:
        query = (
            select(HumanTask)
            .where(HumanTask.state == TaskState.OPEN, HumanTask.due_on.is_not(None), HumanTask.due_on <= horizon,
                   HumanTask.id > last_id)
            .order_by(HumanTask.id).limit(plan.batch_size)
            .execution_options(populate_existing=True)
        )
        if postgres:
            # Rows another worker holds are skipped, not waited for: it is handling them. NO KEY UPDATE still lets
            # notification and audit rows reference these tasks (their foreign keys take KEY SHARE).
            query = query.with_for_update(skip_locked=True, key_share=True)
        batch = list(session.scalars(query))
        if not batch:
            session.commit()  # end the read transaction
            return
        last_id = batch[-1].id
        counts.tasks += len(batch)
        _notify_batch(ctx, batch, calendar, plan, directory, unit_names, counts)
        runtime.commit(ctx)


def _notify_batch(ctx: runtime.Context, batch: list[HumanTask], calendar: WorkingCalendar, plan: Plan,
                  directory: Directory, unit_names: Mapping[str, str], counts: PassCounts) -> None:
    session = ctx.session
    existing = {tuple(row) for row in session.execute(
        select(Notification.user_id, Notification.task_id, Notification.kind, Notification.due_on)
        .where(Notification.task_id.in_([t.id for t in batch]))
    )}
    told_before = {(task_id, kind, due_on) for _user, task_id, kind, due_on in existing}
    rows: list[dict[str, Any]] = []
    to_audit: list[tuple[HumanTask, Notice]] = []
    for task in batch:
        for notice in notices(task, ctx.today, calendar, plan, directory, unit_names):
            rows += [
                {"user_id": p.id, "task_id": task.id, "kind": notice.kind, "due_on": task.due_on,
                 "title": notice.title[:300], "body": notice.body,
                 "link": notifications.task_link(task.id), "created_at": ctx.now}
                for p in notice.people if (p.id, task.id, notice.kind, task.due_on) not in existing
            ]
            if notice.audit_kind and (task.id, notice.kind, task.due_on) not in told_before:
                to_audit.append((task, notice))
    created = notifications.create(session, rows) if rows else []
    for _user, _task, kind in created:
        if kind.startswith("remind_"):
            counts.reminders += 1
        elif kind == "overdue":
            counts.overdue += 1
        else:
            counts.escalations += 1
    # History records an event once: when this batch created its first notification, not at every repeat.
    created_events = {(task_id, kind) for _user, task_id, kind in created}
    to_audit = [(t, n) for t, n in to_audit if (t.id, n.kind) in created_events]
    if to_audit:
        instances = {i.id: i for i in session.scalars(
            select(ProcessInstance).options(load_only(ProcessInstance.id))
            .where(ProcessInstance.id.in_({t.instance_id for t, _n in to_audit}))
        )}
        for task, notice in to_audit:
            told = sorted(p.full_name for p in notice.people)
            assert notice.audit_kind is not None
            runtime.audit(ctx, notice.audit_kind, notice.audit_message, instances[task.instance_id], task,
                          data={**notice.data, "notified": told})
