"""Human tasks: completing them, claiming, drafts, a task's page and the short inbox (who may act: permissions.py)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from workflows import forms, permissions, readable, return_notices, runtime, steps, task_schema, topics
from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.instance_items import InstanceItem, instance_item
from workflows.messages import Text
from workflows.models import AuditEvent, HumanTask, TaskState, User
from workflows.results import evaluations_of_year
from workflows.units import unit_name
from workflows.vocabulary import deputy_for, due_source_text

# Built once: every task action starts here, and building the query (or session.get's own) cost more than the SELECT.
_TASK_WITH_INSTANCE = select(HumanTask).options(joinedload(HumanTask.instance)).where(HumanTask.id == bindparam("id"))


def get_task(session: Session, task_id: int) -> HumanTask:
    task = session.execute(_TASK_WITH_INSTANCE, {"id": task_id}).scalar_one_or_none()
    if task is None:
        raise NotFound(Text("Không tìm thấy công việc #{id}.", id=task_id))
    return task


_TASK_TO_COMPLETE: dict[int, Any] = {}  # by topics.TAKE_TURNS_WITHIN


def _task_to_complete(session: Session, task_id: int) -> HumanTask:
    """get_task for a completion. On PostgreSQL the same SELECT takes the review of one of the year's last reports
    its turn on the cycle row (topics.cycle_turn), so that the acceptance's count of reports still out, later in this
    transaction, sees every acceptance committed before it; it costs no statement of its own."""
    if session.get_bind().dialect.name != "postgresql":
        return get_task(session, task_id)
    if topics.TAKE_TURNS_WITHIN not in _TASK_TO_COMPLETE:
        _TASK_TO_COMPLETE[topics.TAKE_TURNS_WITHIN] = _TASK_WITH_INSTANCE.add_columns(topics.cycle_turn())
    found = session.execute(_TASK_TO_COMPLETE[topics.TAKE_TURNS_WITHIN], {"id": task_id}).first()
    if found is None:
        raise NotFound(Text("Không tìm thấy công việc #{id}.", id=task_id))
    return found[0]


def _ensure_open(task: HumanTask) -> None:
    """Only for handing a task back to the group (its holder, who need not act on it any more); every other action
    checks with permissions.authority_to_work."""
    if task.state != TaskState.OPEN:
        raise Conflict(Text("Công việc '{step}' đã được xử lý; không thể trả về nhóm.", step=task.step_name))


@runtime.atomic
def complete_task(
    session: Session, task_id: int, actor: User, data: Mapping[str, Any], now: datetime | None = None,
    answer: str = "",
) -> HumanTask:
    """Validate DATA, complete ACTOR's task and run the engine to the next wait state; one transaction.

    ANSWER is ACTOR's reply to the return that re-opened the task: the next reviewer reads it on their page."""
    ctx = runtime.Context.create(session, actor, now)
    task = _task_to_complete(session, task_id)
    granted = permissions.authority_to_work(session, actor, task, ctx.today)
    ctx.acting_for = granted.acting_for
    instance = task.instance
    run = runtime.load(ctx, instance)
    view = run.task_view(task.task_uuid)
    field_ids = {f.id for f in view.form_fields}
    extra = {k: v for k, v in data.items() if k not in field_ids}
    step_handler = steps.HANDLERS.get(view.form_key or "")
    if extra and step_handler is None:
        raise InvalidInput(Text("Dữ liệu có trường lạ."),
                           {k: Text("Trường này không có trong biểu mẫu của bước.") for k in extra})
    # Report the drawn fields' errors and the purpose-built part's errors together, so nothing needs two tries.
    form_error: InvalidInput | None = None
    try:
        values = forms.validate(view.form_fields, {k: v for k, v in data.items() if k in field_ids}, view.data)
    except InvalidInput as error:
        if step_handler is None:
            raise
        form_error, values = error, {}
    engine_values = dict(values)
    if step_handler is not None:
        try:
            engine_values.update(step_handler(steps.StepContext(ctx, task, instance, values), extra) or {})
        except InvalidInput as error:
            if form_error is None:
                raise
            raise InvalidInput(error.message, {**form_error.fields, **error.fields}) from None
    if form_error is not None:
        raise form_error
    run.complete(task.task_uuid, engine_values, ctx.now)
    run.advance(topics.dispatcher(ctx, instance), ctx.now)
    runtime.complete_row(ctx, task, {  # at commit, with the new task rows
        "state": TaskState.COMPLETED, "completed_at": ctx.now, "completed_by_id": actor.id,
        "acting_for_id": granted.acting_for.id if granted.acting_for else None, "draft": None,
    })
    returned, reason = is_return(view.form_fields, values), return_reason_of(view.form_fields, values)
    runtime.audit(ctx, "task_completed", _done_message(task, actor, granted, returned, reason), instance, task,
                  data={**data, "_authority": granted.rule, **({"_returned": True} if returned else {})})
    answer = (answer or "").strip()[:ANSWER_MAX]
    if answer and task.return_reason:
        runtime.audit(ctx, "return_answered", Text("Trả lời ý kiến trả lại tại '{step}': {answer}",
                                                   step=task.step_name, answer=answer), instance, task,
                      data={"answer": answer, "return_reason": task.return_reason})
    runtime.save(ctx, instance, run, return_reason=reason)
    topics.after_save(ctx, instance, run)
    runtime.commit(ctx)
    if returned:  # the re-opened rows exist (with ids) only after the commit above
        return_notices.tell_receivers(ctx, task, reason)
        ctx.session.commit()
    return task


ANSWER_MAX = 4000


def is_return(fields: list, values: Mapping[str, Any]) -> bool:
    """Whether VALUES send the work back: a decision field (an enum) set to one of its 'return…' options."""
    return any(f.type == "enum" and str(values.get(f.id) or "").startswith("return") for f in fields)


def _done_message(task: HumanTask, actor: User, granted: permissions.Authority, returned: bool,
                  reason: str | None) -> Text:
    # A return reads as a return, with its reason in full; a deputy's act names the head it acted for.
    acting = deputy_for(actor.full_name, granted.acting_for.full_name) if granted.acting_for else None
    if returned:
        return Text("Trả lại '{step}'{deputy}. Lý do: {reason}", step=task.step_name,
                    deputy=Text(" ({acting})", acting=acting) if acting else "", reason=reason or "—")
    if acting:
        return Text("Hoàn thành '{step}' ({acting})", step=task.step_name, acting=acting)
    return Text("Hoàn thành '{step}'", step=task.step_name)


def return_reason_of(fields: list, values: Mapping[str, Any]) -> str | None:
    """When a decision field sends work back ('return…'), the reason travels to the re-opened task."""
    if not is_return(fields, values):
        return None
    for f in fields:
        if f.properties.get("requiredWhen") and values.get(f.id):
            return str(values[f.id])
    return None


@runtime.atomic
def save_draft(session: Session, task_id: int, actor: User, data: Mapping[str, Any]) -> HumanTask:
    """Keep what ACTOR typed so far, unvalidated; submitting later validates it.

    Saving a draft of a group task claims it: from then on the rest of the group sees it read-only, held by ACTOR, so
    two officers never edit one draft in turn."""
    ctx = runtime.Context.create(session, actor)
    task = get_task(session, task_id)
    permissions.authority_to_work(session, actor, task, ctx.today, drafting=True)
    if task.assignee_id is None:
        task.assignee_id = actor.id
        runtime.audit(ctx, "task_claimed", Text("{name} nhận xử lý '{step}' khi lưu nháp", name=actor.full_name,
                                                step=task.step_name), task.instance, task)
    task.draft = dict(data)
    runtime.audit(ctx, "draft_saved", Text("Lưu nháp '{step}'", step=task.step_name), task.instance, task)
    runtime.commit(ctx)
    return task


@runtime.atomic
def claim(session: Session, task_id: int, actor: User, reason: str = "") -> HumanTask:
    """Take a group task into ACTOR's own inbox."""
    ctx = runtime.Context.create(session, actor)
    task = get_task(session, task_id)
    permissions.authority_to_work(session, actor, task, ctx.today)
    task.assignee_id = actor.id
    runtime.audit(ctx, "task_claimed", Text("{name} nhận xử lý '{step}'", name=actor.full_name, step=task.step_name),
                  task.instance, task, data={"reason": reason} if reason else None)
    runtime.commit(ctx)
    return task


@runtime.atomic
def unclaim(session: Session, task_id: int, actor: User, reason: str = "") -> HumanTask:
    """Put ACTOR's claimed task back in the group's inbox."""
    ctx = runtime.Context.create(session, actor)
    task = get_task(session, task_id)
    if task.assignee_id != actor.id:
        raise NotAllowed(Text("Chỉ người đang nhận xử lý mới có thể trả công việc về nhóm."))
    _ensure_open(task)
    task.assignee_id = None
    runtime.audit(ctx, "task_unclaimed", Text("{name} trả '{step}' về nhóm", name=actor.full_name, step=task.step_name),
                  task.instance, task, data={"reason": reason} if reason else None)
    runtime.commit(ctx)
    return task


def inbox(session: Session, user: User, today: date, state: TaskState = TaskState.OPEN,
          limit: int = 50) -> list[HumanTask]:
    """Tasks USER may act on, unclaimed or claimed by them, soonest deadline first (the worker's and feed's view)."""
    query = (
        select(HumanTask)
        .where(HumanTask.state == state, permissions.actionable(session, user, today),
               or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == user.id))
        .order_by(HumanTask.due_on.is_(None), HumanTask.due_on, HumanTask.id)
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass
class TaskPage:
    """What a task's page shows: the task, its form as drawn, the values so far, and what the viewer may do."""

    task: HumanTask
    fields: list
    values: dict[str, Any]
    data: dict[str, Any]
    may_act: bool
    why: str
    acting_for: User | None
    may_reassign: bool = False
    held_since: datetime | None = None  # when the holder (task.assignee) took it: claimed, by a draft, or handed over
    answer: AuditEvent | None = None  # the reply to this step's last return, for the reviewer who returned it
    unit_name: str | None = None  # the agency's name in the task's year (the header shows it, not the code)
    submitted: tuple[readable.Detail, ...] = ()  # what was submitted, once the task is completed
    due_source: str | None = None  # where the deadline comes from, in words
    shows_codes: bool = False  # process owners also see the engine's own terms (dueDate, reason codes)
    schema: dict[str, Any] | None = None  # the JSON Schema of the data `complete` accepts (open tasks; if asked)
    may_ask: bool = False  # the viewer could act but another member of the group holds it: they may ask for it
    instance_item: InstanceItem | None = None  # which item of its loop a multi-instance task works on


def task_page(session: Session, task_id: int, viewer: User, today: date, with_schema: bool = False) -> TaskPage:
    """Load TASK for VIEWER: those who may act, who completed it, or who supervise; anyone else gets NotAllowed.

    WITH_SCHEMA adds the JSON Schema of the data (the API's; the web pages do not show it, and at 280 units the
    consolidation's schema costs more than the rest of the page)."""
    task = get_task(session, task_id)
    granted = permissions.authority(session, viewer, task, today)
    if not permissions.may_view(session, viewer, task, today, granted):
        raise NotAllowed(Text("Bạn không có quyền xem công việc '{step}'.", step=task.step_name))
    ctx = runtime.Context.create(session, viewer)
    fields: list = []
    data: dict[str, Any] = {}
    if task.state == TaskState.OPEN:
        view = runtime.load(ctx, task.instance).task_view(task.task_uuid)
        fields, data = view.form_fields, dict(view.data)
    values = {f.id: forms.default_value(f, data) for f in fields}
    if task.draft:
        values.update({k: v for k, v in task.draft.items() if k in values})
    may_act = permissions.may_act(granted, viewer, task)
    return TaskPage(task, fields, values, data, may_act=may_act,
                    why=permissions.why(session, viewer, task, today),
                    acting_for=granted.acting_for if granted else None,
                    may_reassign=permissions.may_reassign(viewer, task), held_since=held_since(session, task),
                    may_ask=granted is not None and not may_act and task.state == TaskState.OPEN,
                    answer=answer_to_return(session, task) if task.state == TaskState.OPEN else None,
                    unit_name=unit_name(session, task.unit_code, task.year) if task.unit_code else None,
                    submitted=_submitted(session, task) if task.state == TaskState.COMPLETED else (),
                    due_source=due_source_text(task.due_source), shows_codes=permissions.shows_codes(viewer),
                    schema=_schema(session, task, fields) if with_schema and task.state == TaskState.OPEN else None,
                    instance_item=instance_item(session, task.instance_item))


def _schema(session: Session, task: HumanTask, fields: list) -> dict[str, Any]:
    evaluations = evaluations_of_year(session, task.year) if task.form_key in task_schema.STEP_SCHEMAS else {}
    return task_schema.task_schema(fields, task.form_key, evaluations)


def _submitted(session: Session, task: HumanTask) -> tuple[readable.Detail, ...]:
    """The data the completion of TASK carried, as the instance's history shows it."""
    data = session.scalar(select(AuditEvent.data).where(AuditEvent.task_id == task.id,
                                                        AuditEvent.kind == "task_completed").limit(1))
    if not data:
        return ()
    shown = {k: v for k, v in data.items() if not k.startswith("_")}
    return readable.vocabulary(session, task.instance.version_id).details(shown)


def answer_to_return(session: Session, task: HumanTask) -> AuditEvent | None:
    """The reply given since this step last sent the work back (it was completed before, in this instance)."""
    returned_at = session.scalar(select(HumanTask.completed_at).where(
        HumanTask.instance_id == task.instance_id, HumanTask.step_id == task.step_id,
        HumanTask.state == TaskState.COMPLETED, HumanTask.id != task.id)
        .order_by(HumanTask.completed_at.desc()).limit(1))
    if returned_at is None:
        return None
    return session.scalar(select(AuditEvent).where(
        AuditEvent.instance_id == task.instance_id, AuditEvent.kind == "return_answered", AuditEvent.at >= returned_at)
        .order_by(AuditEvent.id.desc()).limit(1))


def held_since(session: Session, task: HumanTask) -> datetime | None:
    """When TASK's holder took it (the last claim or hand-over in the audit log), or None when nobody holds it."""
    if task.assignee_id is None:
        return None
    return session.scalar(select(AuditEvent.at).where(
        AuditEvent.task_id == task.id, AuditEvent.kind.in_(("task_claimed", "task_reassigned")))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
