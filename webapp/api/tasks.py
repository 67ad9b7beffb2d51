"""The caller's tasks: inbox, one task with its form, claim, unclaim, complete; a leader's reassignment."""
from __future__ import annotations

from typing import Any

from webapp.api.base import caller, make_blueprint
from webapp.api.schemas import (
    CompleteSchema,
    InboxArgsSchema,
    InboxPageSchema,
    ReasonSchema,
    ReassignCandidateSchema,
    ReassignSchema,
    TaskDetailSchema,
    TaskSchema,
)
from webapp.extensions import db
from workflows import assignment, inbox, tasks
from workflows.calendar import local_today
from workflows.models import HumanTask

bp = make_blueprint("tasks", "/tasks", "The caller's inbox and task actions")


@bp.get("")
@bp.arguments(InboxArgsSchema, location="query")
@bp.response(200, InboxPageSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
def list_tasks(args: dict[str, Any]) -> inbox.InboxPage:
    """One page of an inbox tab (mine, group, done) with the page's filters, and the count of every tab."""
    query = inbox.InboxQuery(
        tab=args["tab"], step=args.get("step"), unit_code=args.get("unit"), year=args.get("year"),
        overdue=args["overdue"], search=args.get("q"), sort=args["sort"], page=args["page"],
        per_page=args["per_page"],
    )
    return inbox.list_inbox(db.session, caller(), query, local_today())


@bp.get("/<int:task_id>")
@bp.response(200, TaskDetailSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def get_task(task_id: int) -> tasks.TaskPage:
    """A task, why it is in the caller's inbox, and its form fields with their current values."""
    return tasks.task_page(db.session, task_id, caller(), local_today(), with_schema=True)


@bp.post("/<int:task_id>/claim")
@bp.arguments(ReasonSchema, required=False)
@bp.response(200, TaskSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def claim(body: dict[str, Any], task_id: int) -> HumanTask:
    """Take a group task into the caller's own inbox."""
    return tasks.claim(db.session, task_id, caller(), body["reason"])


@bp.post("/<int:task_id>/unclaim")
@bp.arguments(ReasonSchema, required=False)
@bp.response(200, TaskSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def unclaim(body: dict[str, Any], task_id: int) -> HumanTask:
    """Put the caller's claimed task back in the group's inbox."""
    return tasks.unclaim(db.session, task_id, caller(), body["reason"])


@bp.post("/<int:task_id>/complete")
@bp.arguments(CompleteSchema)
@bp.response(200, TaskSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def complete(body: dict[str, Any], task_id: int) -> HumanTask:
    """Validate the data, complete the task and run the process to its next wait state, all or nothing."""
    return tasks.complete_task(db.session, task_id, caller(), body["data"])


@bp.get("/<int:task_id>/candidates")
@bp.response(200, ReassignCandidateSchema(many=True))
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def reassign_candidates(task_id: int) -> list[assignment.Candidate]:
    """Who a leader may hand the task to: active members of its role (and agency), with the rule that lets them act."""
    return assignment.candidates_for(db.session, task_id, caller(), local_today())


@bp.post("/<int:task_id>/reassign")
@bp.arguments(ReassignSchema)
@bp.response(200, TaskSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def reassign(body: dict[str, Any], task_id: int) -> HumanTask:
    """Hand the task to another member of its role (leaders of the role and supervisors); the reason is required."""
    return assignment.reassign(db.session, task_id, caller(), body["assignee"], body["reason"])
