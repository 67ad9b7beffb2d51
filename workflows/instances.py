"""One process instance as readers see it: its state, the steps waiting now, and its history (from the audit log).

Reads only the task table and the audit log: the engine state is never loaded here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflows.errors import NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, TaskState, User
from workflows.permissions import may_read_instance


@dataclass(frozen=True)
class CurrentStep:
    task_id: int
    step_id: str
    step_name: str
    candidate_group: str
    unit_code: str | None
    assignee: str | None
    created_at: datetime
    due_on: date | None
    return_reason: str | None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str
    message: str
    step_id: str | None
    task_id: int | None
    actor: str | None
    acting_for: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    business_key: str
    year: int
    unit_code: str | None
    status: InstanceStatus
    version_id: int
    created_at: datetime
    updated_at: datetime
    current: list[CurrentStep]
    history: list[HistoryEntry]


def instance_view(session: Session, instance_id: int, viewer: User) -> InstanceView:
    """INSTANCE's status, its open steps and its audit history, for VIEWER (NotFound / NotAllowed otherwise)."""
    row = session.execute(
        select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key, ProcessInstance.year,
               ProcessInstance.unit_code, ProcessInstance.status, ProcessInstance.version_id,
               ProcessInstance.created_at, ProcessInstance.updated_at)
        .where(ProcessInstance.id == instance_id)
    ).one_or_none()
    if row is None:
        raise NotFound(Text("Không tìm thấy quy trình #{id}.", id=instance_id))
    if not may_read_instance(viewer, row.unit_code):
        raise NotAllowed(Text("Bạn không có quyền xem quy trình #{id}.", id=instance_id))
    current = [
        CurrentStep(t.id, t.step_id, t.step_name, t.candidate_group, t.unit_code, username, t.created_at, t.due_on,
                    t.return_reason)
        for t, username in session.execute(
            select(HumanTask, User.username).outerjoin(User, HumanTask.assignee_id == User.id)
            .where(HumanTask.instance_id == instance_id, HumanTask.state == TaskState.OPEN)
            .order_by(HumanTask.id)
        )
    ]
    actor, acting_for = aliased(User), aliased(User)
    history = [
        HistoryEntry(e.at, e.kind, e.message, e.step_id, e.task_id, actor_name, acting_name, e.data)
        for e, actor_name, acting_name in session.execute(
            select(AuditEvent, actor.username, acting_for.username)
            .outerjoin(actor, AuditEvent.actor_id == actor.id)
            .outerjoin(acting_for, AuditEvent.acting_for_id == acting_for.id)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    ]
    return InstanceView(row.id, row.process_key, row.business_key, row.year, row.unit_code, row.status,
                        row.version_id, row.created_at, row.updated_at, current, history)
