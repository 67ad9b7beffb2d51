"""Moving a running instance onto another version of its process, where the change allows it.

The engine decides what each step the instance stands at becomes (workflows.engine.migration); this module says it
in the owner's words, checks who may do it, and saves the moved instance with an audit event.
"""
from __future__ import annotations

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

STATE_VI = {"ready": "đang chờ xử lý", "waiting": "đang chờ sự kiện (hẹn giờ, message)", "running": "đang chạy"}
OUTCOME_VI = {"kept": "giữ nguyên", "changed": "giữ, áp dụng thay đổi", "removed": "không còn trong phiên bản mới"}
CHANGE_VI = {"name": "tên bước", "id": "mã bước", "formData": "trường biểu mẫu", "form": "trường biểu mẫu",
             "candidateGroups": "vai trò", "role": "vai trò (theo lane)", "dueDate": "hạn xử lý",
             "followUpDate": "ngày nhắc", "priority": "độ ưu tiên", "assignee": "người xử lý",
             "candidateUsers": "người được giao", "formKey": "trang nghiệp vụ", "flows": "luồng đi tiếp",
             "lane": "lane", "dueInWorkingDays": "số ngày làm việc", "documentation": "mô tả"}
BLOCKER_TEXT = {
    "step_removed": ("Bước '{step}' mà hồ sơ đang dừng ở đó không còn trong phiên bản {to}.",
                     "Step '{step}', where the instance stands now, is not in version {to}."),
    "step_type_changed": ("Bước '{step}' đổi loại trong phiên bản {to}.",
                          "Step '{step}' changes type in version {to}."),
    "waiting_step_changed": ("Bước '{step}' đang chờ hẹn giờ hoặc message và đã thay đổi; chuyển lúc này sẽ làm sai "
                             "thời điểm chờ.",
                             "Step '{step}' waits for a timer or message and has changed; moving now would upset "
                             "what it waits for."),
    "multi_instance": ("Bước '{step}' chạy nhiều lần song song; chưa hỗ trợ chuyển phiên bản khi đang ở bước này.",
                       "Step '{step}' runs as several parallel instances; moving is not supported while it runs."),
    "subprocess_removed": ("Quy trình con '{step}' đang chạy không còn trong phiên bản {to}.",
                           "The running sub-process '{step}' is not in version {to}."),
    "not_started": ("Hồ sơ chưa bắt đầu chạy.", "The instance has not started yet."),
    "not_comparable": ("Không so sánh được hai phiên bản: {step}", "The two versions cannot be compared: {step}"),
    "not_running": ("Hồ sơ đã kết thúc hoặc bị hủy; chỉ chuyển được hồ sơ đang chạy.",
                    "The instance has ended or was cancelled; only running instances can move."),
    "same_version": ("Hồ sơ đã ở phiên bản {to}.", "The instance is already on version {to}."),
}


@dataclass(frozen=True)
class StepRow:
    step_id: str
    old_name: str
    new_name: str | None
    state: str
    state_vi: str
    outcome: str
    outcome_vi: str
    changes: list[str]


@dataclass(frozen=True)
class Migration:
    instance_id: int
    process_key: str
    business_key: str
    from_version: int
    to_version: int
    allowed: bool
    reasons: list[str]
    reasons_en: list[str]
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
    reasons = [BLOCKER_TEXT[code][0].format(step=names.get(step, step), to=target.version) for code, step in blockers]
    reasons_en = [BLOCKER_TEXT[code][1].format(step=names.get(step, step), to=target.version)
                  for code, step in blockers]
    steps = [StepRow(s.step_id, s.old_name, s.new_name, s.state, STATE_VI.get(s.state, s.state), s.outcome,
                     OUTCOME_VI.get(s.outcome, s.outcome),
                     list(dict.fromkeys(CHANGE_VI.get(c, c) for c in s.changes)))
             for s in plan.steps]
    migration = Migration(instance.id, instance.process_key, instance.business_key, current.version, target.version,
                          not blockers, reasons, reasons_en, steps)
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
