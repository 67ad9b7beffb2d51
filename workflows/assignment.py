"""Reassigning a task within its role: a leader hands one person's (or the group's) task to another member.

Claiming and unclaiming are a person's own moves (workflows/tasks.py). Reassigning is a leader's: the head of an
agency for the agency's IT officers, DIC's leaders for DIC's officers and leaders, and supervisors for any step,
since chasing late work is their job. The new holder must be someone who could act on the task anyway, so a
reassignment never widens who may act: it only picks one of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import notifications, runtime
from workflows.errors import Conflict, InvalidInput, NotAllowed
from workflows.messages import Text
from workflows.models import DeputyAssignment, HumanTask, Role, TaskState, User, UserRole
from workflows.permissions import AGENCY_GROUPS, authority, may_reassign
from workflows.tasks import get_task
from workflows.text import sort_key

REASON_MAX = 500


@dataclass(frozen=True)
class Candidate:
    """Someone a task can be handed to, and the rule that lets them act on it."""

    id: int
    username: str
    full_name: str
    rule: str


def candidates(session: Session, task: HumanTask, today: date) -> list[Candidate]:
    """Active people who may act on TASK today, in Vietnamese alphabetical order; the current holder excluded."""
    group = task.candidate_group
    if group not in {role.value for role in Role}:
        return []
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(User.is_active.is_(True), UserRole.role == Role(group)))
    if group in AGENCY_GROUPS:
        query = query.where(User.unit_code == task.unit_code)
    people = set(session.scalars(query))
    if group == Role.AGENCY_HEAD.value and task.unit_code:
        # A deputy assigned for this step stands in for the head (Điều 2.3), so the head's work may go to them.
        people |= set(session.scalars(
            select(User).join(DeputyAssignment, DeputyAssignment.deputy_id == User.id)
            .where(User.is_active.is_(True), DeputyAssignment.unit_code == task.unit_code,
                   DeputyAssignment.valid_from <= today, DeputyAssignment.valid_to >= today)))
    found = []
    for person in people:
        if person.id == task.assignee_id:
            continue
        granted = authority(session, person, task, today)
        if granted is not None:
            found.append(Candidate(person.id, person.username, person.full_name, granted.rule))
    return sorted(found, key=lambda c: sort_key(c.full_name))


def candidates_for(session: Session, task_id: int, actor: User, today: date) -> list[Candidate]:
    """Who ACTOR may hand the task to; only those who lead its group may ask (NotAllowed otherwise)."""
    task = get_task(session, task_id)
    _require_leader(actor, task)
    return candidates(session, task, today)


def _require_leader(actor: User, task: HumanTask) -> None:
    if not may_reassign(actor, task):
        raise NotAllowed(Text("Chỉ lãnh đạo phụ trách hoặc người giám sát được giao lại công việc '{step}'.",
                              step=task.step_name))


@runtime.atomic
def reassign(session: Session, task_id: int, actor: User, assignee_username: str, reason: str,
             now: datetime | None = None) -> HumanTask:
    """Hand TASK to ASSIGNEE, who may act on it anyway: a leader's move, with a reason, audited, the holders told."""
    ctx = runtime.Context.create(session, actor, now)
    task = get_task(session, task_id)
    if task.state != TaskState.OPEN:
        raise Conflict(Text("Công việc '{step}' đã kết thúc; không giao lại được nữa.", step=task.step_name))
    _require_leader(actor, task)
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = Text("Nhập lý do giao lại.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = Text("Lý do tối đa {max} ký tự.", max=REASON_MAX)
    username = (assignee_username or "").strip()
    new_holder = session.scalar(select(User).where(User.username == username)) if username else None
    if not username:
        errors["assignee"] = Text("Chọn người nhận công việc.")
    elif new_holder is None or not new_holder.is_active:
        errors["assignee"] = Text("Không có người dùng đang hoạt động tên '{username}'.", username=username)
    elif new_holder.id == task.assignee_id:
        errors["assignee"] = Text("{name} đang giữ công việc này.", name=new_holder.full_name)
    elif authority(session, new_holder, task, ctx.today) is None:
        errors["assignee"] = Text("{name} không thuộc nhóm được xử lý bước này.", name=new_holder.full_name)
    if errors:
        raise InvalidInput(Text("Chưa giao lại được công việc."), errors)
    assert new_holder is not None
    previous = task.assignee
    runtime.write_row(ctx, task, {"assignee_id": new_holder.id}, only_if_open=True)
    runtime.audit(ctx, "task_reassigned",
                  Text("{name} giao lại '{step}' từ {previous} cho {holder}: {reason}", name=actor.full_name,
                       step=task.step_name, previous=previous.full_name if previous else Text("nhóm"),
                       holder=new_holder.full_name, reason=reason), task.instance, task,
                  data={"reason": reason, "from": previous.username if previous else None, "to": new_holder.username})
    told = [{
        "user_id": new_holder.id, "task_id": task.id, "kind": "reassigned", "due_on": task.due_on,
        "title": f"Bạn được giao xử lý: {task.step_name}"[:300],
        "body": f"{actor.full_name} giao công việc này cho bạn. Lý do: {reason}",
        "link": notifications.task_link(task.id), "created_at": ctx.now,
    }]
    if previous is not None and previous.id != actor.id:
        # The task leaves their inbox without their doing: tell them why.
        told.append({
            "user_id": previous.id, "task_id": task.id, "kind": "reassigned_away", "due_on": task.due_on,
            "title": f"Công việc đã được giao cho người khác: {task.step_name}"[:300],
            "body": f"{actor.full_name} giao công việc này cho {new_holder.full_name}. Lý do: {reason}",
            "link": notifications.task_link(task.id), "created_at": ctx.now,
        })
    notifications.create(session, told)
    runtime.commit(ctx)
    return task


@runtime.atomic
def ask_for(session: Session, task_id: int, actor: User, today: date) -> HumanTask:
    """ACTOR, who could act on TASK but another member of the group holds it, asks the holder to hand it back."""
    ctx = runtime.Context.create(session, actor)
    task = get_task(session, task_id)
    if task.assignee is None or task.assignee_id == actor.id or task.state != TaskState.OPEN:
        raise Conflict(Text("Công việc '{step}' không do người khác giữ; bạn có thể nhận xử lý ngay.",
                            step=task.step_name))
    if authority(session, actor, task, today) is None:
        raise NotAllowed(Text("Bạn không có quyền xử lý công việc '{step}'.", step=task.step_name))
    runtime.audit(ctx, "handover_requested", Text("{name} đề nghị {holder} trả '{step}' về nhóm", name=actor.full_name,
                                                  holder=task.assignee.full_name, step=task.step_name),
                  task.instance, task)
    notifications.create(session, [{
        "user_id": task.assignee_id, "task_id": task.id, "kind": "handover_requested", "due_on": task.due_on,
        "title": f"Đề nghị trả công việc về nhóm: {task.step_name}"[:300],
        "body": f"{actor.full_name} cần xử lý công việc bạn đang giữ. Nếu bạn chưa làm, hãy trả về nhóm.",
        "link": notifications.task_link(task.id), "created_at": ctx.now,
    }])
    runtime.commit(ctx)
    return task

