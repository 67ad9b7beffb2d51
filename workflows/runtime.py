"""Instance persistence: start, load and save engine state, keep the task table and the audit log in step with it.

Nothing here commits: callers (the use-case functions in tasks.py, cycles.py, timers.py) commit once per action.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import engine
from workflows.calendar import WorkingCalendar, local_today
from workflows.errors import EngineError
from workflows.models import (
    AuditEvent,
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskState,
    User,
    utcnow,
)

_spec_cache: dict[int, str] = {}


def spec_json(session: Session, version_id: int) -> str:
    """A version's spec, cached per process: versions are immutable, so the cache never goes stale."""
    cached = _spec_cache.get(version_id)
    if cached is None:
        cached = session.scalar(select(DefinitionVersion.spec_json).where(DefinitionVersion.id == version_id))
        if cached is None:
            raise EngineError(f"Definition version {version_id} does not exist")
        _spec_cache[version_id] = cached
    return cached


@dataclass
class Context:
    """What one unit of work knows: the session, who acts, the time, and the working-day calendar."""

    session: Session
    actor: User | None
    now: datetime
    calendar: WorkingCalendar
    acting_for: User | None = None

    @property
    def today(self) -> date:
        return local_today(self.now)

    @classmethod
    def create(cls, session: Session, actor: User | None, now: datetime | None = None) -> Context:
        # Always UTC inside: SQLite keeps a datetime's wall clock and drops its zone.
        moment = (now or utcnow()).astimezone(timezone.utc)
        return cls(session, actor, moment, WorkingCalendar.load(session))


def audit(
    ctx: Context,
    kind: str,
    message: str,
    instance: ProcessInstance | None = None,
    task: HumanTask | None = None,
    step_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    ctx.session.add(
        AuditEvent(
            instance_id=instance.id if instance else None,
            task_id=task.id if task else None,
            at=ctx.now,
            actor_id=ctx.actor.id if ctx.actor else None,
            acting_for_id=ctx.acting_for.id if ctx.acting_for else None,
            kind=kind,
            step_id=step_id or (task.step_id if task else None),
            message=message,
            data=dict(data) if data is not None else None,
        )
    )


def start(
    ctx: Context,
    version: DefinitionVersion,
    data: Mapping[str, Any],
    business_key: str,
    year: int,
    unit_code: str | None = None,
    cycle_id: int | None = None,
    handler: engine.TopicHandler | None = None,
) -> tuple[ProcessInstance, engine.Run]:
    """Create an instance of VERSION with DATA and run it to its first wait state (not committed)."""
    run = engine.Run.start(spec_json(ctx.session, version.id), data)
    instance = ProcessInstance(
        version_id=version.id,
        process_key=version.definition.key,
        business_key=business_key,
        cycle_id=cycle_id,
        year=year,
        unit_code=unit_code,
        state=b"",
        started_by_id=ctx.actor.id if ctx.actor else None,
        created_at=ctx.now,
    )
    ctx.session.add(instance)
    ctx.session.flush()
    audit(ctx, "instance_started", f"Bắt đầu {version.definition.name} (phiên bản {version.version})", instance,
          data=_jsonable(data))
    if handler is not None:
        run.advance(handler, ctx.now)
    else:
        run.advance(now=ctx.now)
    save(ctx, instance, run)
    return instance, run


def load(ctx: Context, instance: ProcessInstance) -> engine.Run:
    return engine.Run.load(spec_json(ctx.session, instance.version_id), instance.state)


def save(ctx: Context, instance: ProcessInstance, run: engine.Run, return_reason: str | None = None) -> None:
    """Store RUN's state on INSTANCE and bring its task rows up to date (not committed)."""
    instance.state = run.dumps()
    next_timer = run.next_timer_at()
    instance.next_timer_at = next_timer.astimezone(timezone.utc) if next_timer else None
    instance.updated_at = ctx.now
    if run.is_completed and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.COMPLETED
        audit(ctx, "instance_completed", "Quy trình đã kết thúc", instance)
    _sync_tasks(ctx, instance, run, return_reason)


def cancel(ctx: Context, instance: ProcessInstance, reason: str) -> None:
    """Stop INSTANCE for REASON; its open tasks are withdrawn from every inbox (not committed)."""
    run = load(ctx, instance)
    run.cancel()
    instance.status = InstanceStatus.CANCELLED
    audit(ctx, "instance_cancelled", reason, instance)
    save(ctx, instance, run)


def _sync_tasks(ctx: Context, instance: ProcessInstance, run: engine.Run, return_reason: str | None) -> None:
    open_rows = {
        row.task_uuid: row
        for row in ctx.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.OPEN)
        )
    }
    ready = {view.uuid: view for view in run.ready_user_tasks()}
    for uuid, row in open_rows.items():
        if uuid not in ready:
            row.state = TaskState.CANCELLED
            row.completed_at = ctx.now
            audit(ctx, "task_cancelled", f"Bước '{row.step_name}' không còn hiệu lực", instance, row)
    for uuid, view in ready.items():
        if uuid in open_rows:
            continue
        due_on, due_source = _due_date(ctx, view)
        groups = view.candidate_groups
        if not groups:
            raise EngineError(f"Step '{view.step_id}' has no camunda:candidateGroups, so no one could work on it")
        row = HumanTask(
            instance_id=instance.id,
            task_uuid=uuid,
            process_key=instance.process_key,
            step_id=view.step_id,
            step_name=view.step_name,
            lane=view.lane,
            candidate_group=groups[0],
            form_key=view.form_key,
            unit_code=instance.unit_code,
            year=instance.year,
            created_at=ctx.now,
            due_on=due_on,
            due_source=due_source,
            return_reason=return_reason,
        )
        ctx.session.add(row)
        ctx.session.flush()
        audit(ctx, "task_created", f"Bước '{view.step_name}' chờ xử lý", instance, row)


def _due_date(ctx: Context, view: engine.TaskView) -> tuple[date | None, str | None]:
    """The step's deadline: its camunda:dueDate expression, else its dueInWorkingDays property."""
    if view.due_expression:
        value = engine.evaluate_expression(view.due_expression, view.data)
        if value in (None, ""):
            return None, None
        due = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return ctx.calendar.roll_forward(due), f"camunda:dueDate {view.due_expression}"
    if view.due_in_working_days is not None:
        return (
            ctx.calendar.add_working_days(ctx.today, view.due_in_working_days),
            f"dueInWorkingDays={view.due_in_working_days}",
        )
    return None, None


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in data.items()}
