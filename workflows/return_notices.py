"""Telling people that work came back to them: a return re-opens a step, and whoever can act on it hears why."""
from __future__ import annotations

from sqlalchemy import select

from workflows import notifications, runtime
from workflows.models import HumanTask, TaskState
from workflows.worker import Directory


def tell_receivers(ctx: runtime.Context, returned_from: HumanTask, reason: str | None) -> int:
    """Notify everyone who may act on the steps RETURNED_FROM re-opened (same instance, opened now); no commit.

    The note names the re-opened step, who returned it and the reason in full (the body is not cut short), so the
    person can start on the correction from the notification or the digest alone. Returns the notes created.
    """
    reopened = list(ctx.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == returned_from.instance_id,
                                HumanTask.state == TaskState.OPEN, HumanTask.created_at >= ctx.now)
        .order_by(HumanTask.id)
    ))
    if not reopened:
        return 0
    directory = Directory.load(ctx.session, ctx.today)
    who = ctx.actor.full_name if ctx.actor else "Hệ thống"
    rows = [
        {"user_id": person.id, "task_id": task.id, "kind": "returned", "due_on": task.due_on,
         "title": f"Công việc bị trả lại: {task.step_name}"[:300],
         "body": f"{who} trả lại tại bước '{returned_from.step_name}'. Lý do: {reason or '—'}",
         "link": notifications.task_link(task.id), "created_at": ctx.now}
        for task in reopened for person in directory.actors(task)
    ]
    return len(notifications.create(ctx.session, rows))
