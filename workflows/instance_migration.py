"""Moving a running instance onto another version of its process, where the change allows it.

The engine decides what each step the instance stands at becomes (workflows.engine.migration); this module says it
in the owner's words, checks who may do it, and saves the moved instance with an audit event.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import engine, runtime
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.messages import Text
from workflows.models import (
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskState,
    User,
)
from workflows.versions import MAX_REASON, get_version, require_owner
from workflows.vocabulary import MIGRATION_CHANGE_LABELS, MIGRATION_OUTCOME_LABELS, MIGRATION_STATE_LABELS

# Why a move is refused (the engine's blocker codes), for STEP (its name) and version TO.
BLOCKERS: dict[str, Callable[[str, int], Text]] = {
    "step_removed": lambda step, to: Text(
        "Bước '{step}' mà hồ sơ đang dừng ở đó không còn trong phiên bản {to}.", step=step, to=to),
    "step_type_changed": lambda step, to: Text("Bước '{step}' đổi loại trong phiên bản {to}.", step=step, to=to),
    "waiting_step_changed": lambda step, to: Text(
        "Bước '{step}' đang chờ hẹn giờ hoặc message và đã thay đổi; chuyển lúc này sẽ làm sai thời điểm chờ.",
        step=step),
    "multi_instance": lambda step, to: Text(
        "Bước '{step}' chạy nhiều lần song song; chưa hỗ trợ chuyển phiên bản khi đang ở bước này.", step=step),
    "subprocess_removed": lambda step, to: Text(
        "Quy trình con '{step}' đang chạy không còn trong phiên bản {to}.", step=step, to=to),
    "not_started": lambda step, to: Text("Hồ sơ chưa bắt đầu chạy."),
    "not_comparable": lambda step, to: Text("Không so sánh được hai phiên bản: {step}", step=step),
    "not_running": lambda step, to: Text("Hồ sơ đã kết thúc hoặc bị hủy; chỉ chuyển được hồ sơ đang chạy."),
    "same_version": lambda step, to: Text("Hồ sơ đã ở phiên bản {to}.", to=to),
}


@dataclass(frozen=True)
class StepRow:
    step_id: str
    old_name: str
    new_name: str | None
    state: str
    state_label: str  # a Text of workflows/vocabulary.py, or the engine's code when the vocabulary lacks it
    outcome: str
    outcome_label: str
    changes: list[str]  # what changed in the step, in words (Text)


@dataclass(frozen=True)
class Migration:
    instance_id: int
    process_key: str
    business_key: str
    from_version: int
    to_version: int
    allowed: bool
    reasons: list[str]  # Text: why the move is refused
    steps: list[StepRow]


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Text("Không có hồ sơ #{id}.", id=instance_id))
    return instance


def _plan(session: Session, instance: ProcessInstance, target: DefinitionVersion,
          ctx: runtime.Context) -> tuple[Migration, engine.Run | None]:
    current = session.get(DefinitionVersion, instance.version_id)
    assert current is not None
    blockers: list[tuple[str, str]] = []
    run = None
    plan = engine.MigrationPlan((), ())
    if instance.status != InstanceStatus.RUNNING:
        blockers.append(("not_running", ""))
    elif target.id == current.id:
        blockers.append(("same_version", ""))
    else:
        run = runtime.load(ctx, instance)
        plan = run.migration_plan(runtime.spec_json(session, target.id))
        blockers += list(plan.blockers)
    names = {s.step_id: s.old_name for s in plan.steps}
    reasons = [BLOCKERS[code](names.get(step, step), target.version) for code, step in blockers]
    steps = [StepRow(s.step_id, s.old_name, s.new_name, s.state, MIGRATION_STATE_LABELS.get(s.state, s.state),
                     s.outcome, MIGRATION_OUTCOME_LABELS.get(s.outcome, s.outcome),
                     list(dict.fromkeys(MIGRATION_CHANGE_LABELS.get(c, c) for c in s.changes)))
             for s in plan.steps]
    migration = Migration(instance.id, instance.process_key, instance.business_key, current.version, target.version,
                          not blockers, reasons, steps)
    return migration, run


def migration_plan(session: Session, instance_id: int, target_number: int) -> Migration:
    """Whether instance INSTANCE_ID can move to version TARGET_NUMBER of its process, and what would happen."""
    instance = _instance(session, instance_id)
    target = get_version(session, instance.process_key, target_number)
    ctx = runtime.Context.create(session, None)
    return _plan(session, instance, target, ctx)[0]


@runtime.atomic
def migrate_instance(session: Session, instance_id: int, target_number: int, actor: User, reason: str) -> Migration:
    """Move a running instance to version TARGET_NUMBER where the change allows it; needs and records a reason."""
    require_owner(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(Text("Cần ghi lý do chuyển phiên bản."),
                           {"reason": Text("Ghi lý do chuyển hồ sơ sang phiên bản mới.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput(Text("Lý do quá dài."), {"reason": Text("Tối đa {max} ký tự.", max=MAX_REASON)})
    instance = _instance(session, instance_id)
    target = get_version(session, instance.process_key, target_number)
    ctx = runtime.Context.create(session, actor)
    migration, run = _plan(session, instance, target, ctx)
    if not migration.allowed or run is None:
        raise Conflict(Text("Không chuyển được hồ sơ sang phiên bản mới: {reasons}",
                            reasons=" ".join(migration.reasons)))
    run.migrate(runtime.spec_json(session, target.id))
    runtime.write_row(ctx, instance, {"version_id": target.id})
    views = {view.uuid: view for view in run.ready_user_tasks()}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.state == TaskState.OPEN)):
        view = views.get(row.task_uuid)
        if view is None:
            continue
        values = {"step_id": view.step_id, "step_name": view.step_name, "lane": view.lane,
                  "candidate_group": (view.candidate_groups or [row.candidate_group])[0], "form_key": view.form_key}
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            runtime.write_row(ctx, row, changed)
    runtime.audit(ctx, "instance_migrated",
                  Text("Chuyển hồ sơ từ phiên bản {old} sang {new}: {reason}", old=migration.from_version,
                       new=migration.to_version, reason=reason), instance,
                  data={"from": migration.from_version, "to": migration.to_version, "reason": reason,
                        "steps": [{"step": s.step_id, "state": s.state, "outcome": s.outcome, "changes": s.changes}
                                  for s in migration.steps]})
    runtime.save(ctx, instance, run)
    runtime.commit(ctx)
    return migration


@dataclass(frozen=True)
class RunningInstance:
    id: int
    business_key: str
    unit_code: str | None
    year: int
    version: int
    steps: list[str]


def running_instances(session: Session, key: str, limit: int = 200) -> list[RunningInstance]:
    """Running instances of KEY with their version and the steps open now (for the migration links)."""
    rows = session.execute(
        select(ProcessInstance, DefinitionVersion.version)
        .join(DefinitionVersion, ProcessInstance.version_id == DefinitionVersion.id)
        .where(ProcessInstance.process_key == key, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id).limit(limit)).all()
    open_steps: dict[int, list[str]] = {}
    for instance_id, step_name in session.execute(
            select(HumanTask.instance_id, HumanTask.step_name)
            .where(HumanTask.instance_id.in_([r[0].id for r in rows]), HumanTask.state == TaskState.OPEN)):
        open_steps.setdefault(instance_id, []).append(step_name)
    return [RunningInstance(i.id, i.business_key, i.unit_code, i.year, number, open_steps.get(i.id, []))
            for i, number in rows]
