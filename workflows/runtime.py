"""Instance persistence: start, load and save engine state, keep the task table and the audit log in step with it.

Nothing here commits: callers (the use-case functions in tasks.py, cycles.py, assignment.py, …) commit once per action.
"""
from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflows import audit as audit_chain
from workflows import engine, permissions, row_writes
from workflows.cache import DatabaseCache
from workflows.calendar import WorkingCalendar, local_today
from workflows.errors import Conflict, EngineError
from workflows.messages import Text
from workflows.models import (
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskState,
    User,
    utcnow,
)

# Per database: version ids are only unique within one database (tests open many in one process).
_spec_cache: DatabaseCache[str] = DatabaseCache("definition specs", max_entries=64)


def spec_json(session: Session, version_id: int) -> str:
    """A version's spec, cached per process and database: versions are immutable, so the cache never goes stale."""

    def load() -> str:
        found = session.scalar(select(DefinitionVersion.spec_json).where(DefinitionVersion.id == version_id))
        if found is None:
            raise EngineError(f"Definition version {version_id} does not exist")
        return found

    return _spec_cache.get(session, version_id, load)


_files_cache: DatabaseCache[dict[str, Any]] = DatabaseCache("definition files", max_entries=64)


def version_files(session: Session, version_id: int) -> dict[str, Any]:
    """A version's deployed files (name -> text), cached like its spec: a version never changes. Do not modify."""
    return _files_cache.get(session, version_id, lambda: session.scalar(
        select(DefinitionVersion.files).where(DefinitionVersion.id == version_id)) or {})


@dataclass
class Context:
    """What one unit of work knows: the session, who acts, the time, and the working-day calendar."""

    session: Session
    actor: User | None
    now: datetime
    acting_for: User | None = None
    _calendar: WorkingCalendar | None = None
    # Rows only ever inserted during a unit of work go in at commit as two bulk INSERTs: the ORM's per-object
    # flush bookkeeping was most of the cost of a task completion (see bench/benchmark.py).
    _new_tasks: list[dict[str, Any]] = field(default_factory=list)
    _audit: list[dict[str, Any]] = field(default_factory=list)
    # Written at commit too: the task rows completed (with the new rows, one statement) and the instances saved
    # (their state and audit chain head, one conditional UPDATE each).
    _completed: list[tuple[HumanTask, dict[str, Any]]] = field(default_factory=list)
    _saves: dict[int, tuple[ProcessInstance, dict[str, Any]]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return local_today(self.now)

    @property
    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = WorkingCalendar.cached(self.session)
        return self._calendar

    @classmethod
    def create(cls, session: Session, actor: User | None, now: datetime | None = None) -> Context:
        # Always UTC inside: SQLite keeps a datetime's wall clock and drops its zone.
        return cls(session, actor, (now or utcnow()).astimezone(UTC))


def audit(
    ctx: Context,
    kind: str,
    message: str,  # a Text, so that pages can translate it; a plain str is shown as written
    instance: ProcessInstance | None = None,
    task: HumanTask | int | None = None,
    step_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Append an audit event; written at commit(). TASK may be a row or the index of a task created in this work.

    A MESSAGE built as a Text also keeps its template and parameters (message_text), so the history can show it in
    the reader's language; `message` is the Vietnamese str either way.
    """
    ctx._audit.append({
        "instance_id": instance.id if instance else None,
        "task": task,
        "at": ctx.now,
        "actor_id": ctx.actor.id if ctx.actor else None,
        "acting_for_id": ctx.acting_for.id if ctx.acting_for else None,
        "kind": kind,
        "step_id": step_id or (task.step_id if isinstance(task, HumanTask) else None),
        "message": message,
        "message_text": message.to_json() if isinstance(message, Text) else None,  # every row has the same keys
        "data": _jsonable(data) if data is not None else None,
    })


CONFLICT_MESSAGE = row_writes.CONFLICT_MESSAGE
P = ParamSpec("P")
R = TypeVar("R")


def atomic(action: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """Make a use case all-or-nothing: any failure rolls back everything it did; a lost race becomes a Conflict."""

    @wraps(action)
    def run(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return action(session, *args, **kwargs)
        except (StaleDataError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                raise
            raise Conflict(CONFLICT_MESSAGE) from None
        except BaseException:
            session.rollback()
            raise

    return run


# A fault for bench/faults.py and tests/test_faults.py, off unless set: the probability (0-1) that a process kills
# itself (SIGKILL) at a commit, after the engine step and every write, before the transaction commits.
_FAULT = float(os.environ.get("FAULT_AFTER_ENGINE_STEP") or 0)


def commit(ctx: Context) -> None:
    """Write everything this unit of work did in one transaction.

    Order: the ORM's pending changes; the task rows (completed and new, one statement when both); the audit chain
    (the saved instances' heads as read with them); each saved instance's conditional UPDATE, which also moves its
    chain's head on; the audit events (with the UPDATE, one statement, when one instance is saved: a completion). A lost
    race fails a conditional statement: Conflict, nothing written.
    """
    session = ctx.session
    try:
        session.flush()
        new_ids = row_writes.write_tasks(session, ctx._completed, ctx._new_tasks)
        rows = []
        for event in ctx._audit:
            task = event.pop("task")
            event["task_id"] = new_ids[task] if isinstance(task, int) else (task.id if task else None)
            rows.append(event)
        read = {key: instance.audit_head for key, (instance, _) in ctx._saves.items()}
        heads = audit_chain.chain(session, rows, read) if rows else dict(read)
        together = bool(rows) and len(ctx._saves) == 1
        for key, (instance, values) in ctx._saves.items():
            together = _save_row(ctx, instance, values, read[key], heads[key], rows, together)
        if rows and not together:  # Core, not the ORM's bulk path: every row in one executemany, None as NULL
            session.execute(row_writes.AUDIT_INSERT, rows)
        if _FAULT and random.random() < _FAULT:  # bench/faults.py: die with everything written but not committed
            os.kill(os.getpid(), signal.SIGKILL)
        session.commit()
    finally:
        ctx._new_tasks.clear()
        ctx._audit.clear()
        ctx._completed.clear()
        ctx._saves.clear()


def _save_row(ctx: Context, instance: ProcessInstance, values: dict[str, Any], head: str, new_head: str,
              rows: list[dict[str, Any]], together: bool) -> bool:
    """The instance's conditional UPDATE (lock_version and audit head as read, both moved on); TOGETHER: with the
    events' INSERT, one statement (row_writes.save_with_events). Returns whether the events went in with it. When
    only the head moved (a claim, a comment meanwhile), the row is locked, this work's events chained again from
    the real head, and the UPDATE retried alone."""
    version = instance.lock_version
    columns = tuple(sorted({*values, "audit_head"}))
    statement = row_writes.update_statement(ProcessInstance.__table__, columns, False, True)
    params = {**values, "_id": instance.id, "_version": version, "lock_version": version + 1, "_head": head,
              "audit_head": new_head}
    if not (row_writes.save_with_events(ctx.session, columns, params, rows) if together
            else ctx.session.execute(statement, params).rowcount == 1):
        together = False
        found = ctx.session.execute(select(ProcessInstance.lock_version, ProcessInstance.audit_head)
                                    .where(ProcessInstance.id == instance.id).with_for_update()).first()
        if found is None or found.lock_version != version:
            raise Conflict(CONFLICT_MESSAGE)
        mine = [row for row in rows if row["instance_id"] == instance.id]
        params.update(_head=found.audit_head, audit_head=audit_chain.link(mine, {instance.id: found.audit_head})
                      [instance.id])
        if ctx.session.execute(statement, params).rowcount != 1:
            raise Conflict(CONFLICT_MESSAGE)
    for key in (*values, "lock_version", "audit_head"):
        set_committed_value(instance, key, params[key])
    return together


def start(
    ctx: Context,
    version: DefinitionVersion,
    data: Mapping[str, Any],
    business_key: str,
    year: int,
    unit_code: str | None = None,
    cycle_id: int | None = None,
    handler: Callable[[ProcessInstance], engine.TopicHandler] | None = None,
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
        audit_head=audit_chain.GENESIS,
        started_by_id=ctx.actor.id if ctx.actor else None,
        created_at=ctx.now,
    )
    ctx.session.add(instance)
    ctx.session.flush()  # an id for its tasks, and a persisted row for save()'s conditional UPDATE
    audit(ctx, "instance_started", Text("Bắt đầu {process} (phiên bản {version})", process=version.definition.name,
                                        version=version.version), instance, data=_jsonable(data))
    run.advance(handler(instance) if handler else None, ctx.now)
    save(ctx, instance, run)
    return instance, run


def load(ctx: Context, instance: ProcessInstance) -> engine.Run:
    return engine.Run.load(spec_json(ctx.session, instance.version_id), instance.state)


def save(ctx: Context, instance: ProcessInstance, run: engine.Run, return_reason: str | None = None) -> None:
    """Store RUN's state on INSTANCE and bring its task rows up to date (not committed).

    The UPDATE is conditional on the lock version the instance was loaded with: of two actions that loaded the
    same state, the second to write finds no row and gets a Conflict, so no completion overwrites another.
    """
    next_timer = run.next_timer_at()
    values: dict[str, Any] = {
        "state": run.dumps(),
        "next_timer_at": next_timer.astimezone(UTC) if next_timer else None,
        "updated_at": ctx.now,
        "status": instance.status,
    }
    if run.is_completed and instance.status == InstanceStatus.RUNNING:
        values["status"] = InstanceStatus.COMPLETED
        audit(ctx, "instance_completed", Text("Quy trình đã kết thúc"), instance)
    # Written at commit, in one UPDATE with the audit chain's head; the loaded object shows the new state already.
    earlier = ctx._saves.get(instance.id, (instance, {}))[1]
    ctx._saves[instance.id] = (instance, {**earlier, **values})
    for key, value in values.items():
        set_committed_value(instance, key, value)
    _sync_tasks(ctx, instance, run, return_reason)


def complete_row(ctx: Context, task: HumanTask, values: dict[str, Any]) -> None:
    """Mark TASK's row with VALUES (completed) at commit, conditional on its lock_version and on its being open."""
    ctx._completed.append((task, values))


def write_row(ctx: Context, obj: ProcessInstance | HumanTask, values: dict[str, Any],
              only_if_open: bool = False) -> None:
    """UPDATE one versioned row in place now (row_writes.update_row); ONLY_IF_OPEN adds `state = 'open'`."""
    row_writes.update_row(ctx.session, obj, values, only_if_open)


def cancel(ctx: Context, instance: ProcessInstance, reason: str) -> None:
    """Stop INSTANCE for REASON; its open tasks are withdrawn from every inbox (not committed)."""
    run = load(ctx, instance)
    run.cancel()
    set_committed_value(instance, "status", InstanceStatus.CANCELLED)  # written with the state by save's UPDATE
    audit(ctx, "instance_cancelled", reason, instance)
    save(ctx, instance, run)


def _sync_tasks(ctx: Context, instance: ProcessInstance, run: engine.Run, return_reason: str | None) -> None:
    # The open rows of this instance are exactly the user tasks that were ready when the run began (every save
    # keeps them so), which saves a query per completion; the rare vanished task is looked up by its uuid.
    ready = {view.uuid: view for view in run.ready_user_tasks()}
    open_rows = run.ready_at_start - run.completed_here
    vanished = open_rows - set(ready)
    if vanished:
        for row in ctx.session.scalars(select(HumanTask).where(HumanTask.task_uuid.in_(vanished),
                                                               HumanTask.state == TaskState.OPEN)):
            write_row(ctx, row, {"state": TaskState.CANCELLED, "completed_at": ctx.now})
            audit(ctx, "task_cancelled", Text("Bước '{step}' không còn hiệu lực", step=row.step_name), instance, row)
    for uuid, view in ready.items():
        if uuid in open_rows or any(t["task_uuid"] == uuid for t in ctx._new_tasks):
            continue
        with ctx.session.no_autoflush:
            due_on, due_source = _due_date(ctx, view)
            follow_up_on = _follow_up_date(ctx, view)
        groups = view.candidate_groups
        if not groups:
            raise EngineError(f"Step '{view.step_id}' has no camunda:candidateGroups, so no one could work on it")
        ctx._new_tasks.append({
            "instance_id": instance.id,
            "task_uuid": uuid,
            "process_key": instance.process_key,
            "step_id": view.step_id,
            "step_name": view.step_name,
            "lane": view.lane,
            "candidate_group": groups[0],
            "form_key": view.form_key,
            "unit_code": instance.unit_code,
            "year": instance.year,
            "state": TaskState.OPEN,
            "created_at": ctx.now,
            "due_on": due_on,
            "due_source": due_source,
            "priority": view.priority,
            "follow_up_on": follow_up_on,
            "assignee_id": None,
            "return_reason": return_reason,
            "instance_item": view.instance_item,
            "lock_version": 1,
        })
        audit(ctx, "task_created", Text("Bước '{step}' chờ xử lý", step=view.step_name), instance,
              len(ctx._new_tasks) - 1, step_id=view.step_id)
        if view.assignee:
            _preassign(ctx, instance, view, ctx._new_tasks[-1], len(ctx._new_tasks) - 1)


def _preassign(ctx: Context, instance: ProcessInstance, view: engine.TaskView, row: dict[str, Any],
               index: int) -> None:
    """camunda:assignee puts the new task straight into that person's inbox, if they may act on it.

    The step's role still decides who may act: a named person outside it (or unknown, or inactive) does not get the
    task; it stays with the role, and the audit log says why, so a process owner can see the name was not used.
    """
    username = view.assignee or ""
    person = ctx.session.scalar(select(User).where(User.username == username.strip().lower()))
    probe = HumanTask(candidate_group=row["candidate_group"], unit_code=row["unit_code"], step_id=row["step_id"])
    granted = person is not None and person.is_active and permissions.authority(ctx.session, person, probe, ctx.today)
    if person is not None and granted:
        row["assignee_id"] = person.id
        audit(ctx, "task_preassigned", Text("Bước '{step}' giao cho {name} theo camunda:assignee", step=view.step_name,
                                            name=person.full_name),
              instance, index, step_id=view.step_id, data={"assignee": person.username})
        return
    why = Text("không có người dùng đang hoạt động với tên này") if person is None or not person.is_active \
        else Text("{name} không thuộc vai trò '{group}' của bước", name=person.full_name, group=row["candidate_group"])
    audit(ctx, "assignee_ignored", Text("Bước '{step}' vẫn giao cho cả nhóm: camunda:assignee '{username}' — {why}",
                                        step=view.step_name, username=username, why=why),
          instance, index, step_id=view.step_id, data={"assignee": username})


def _due_date(ctx: Context, view: engine.TaskView) -> tuple[date | None, str | None]:
    """The step's deadline: its camunda:dueDate expression, else its dueInWorkingDays property."""
    if view.due_expression:
        working = ctx.calendar.add_working_days if view.due_date_in_working_days else None
        with engine.clock.at(ctx.now), engine.dates.working_days(working):  # from this unit of work's moment
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


def _follow_up_date(ctx: Context, view: engine.TaskView) -> date | None:
    """camunda:followUpDate: when to look at the task again (shown to its holders; it changes no permission)."""
    if not view.follow_up_expression:
        return None
    with engine.clock.at(ctx.now):
        value = engine.evaluate_expression(view.follow_up_expression, view.data)
    if value in (None, ""):
        return None
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in data.items()}
