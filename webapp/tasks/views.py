"""Task inbox and task pages: thin views over workflows.inbox and workflows.tasks."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.i18n import localize
from webapp.security import requires
from webapp.tasks.pages import page_for
from webapp.terms import term
from workflows import assignment, deadlines, history, permissions, tasks
from workflows import evidence as evidence_files
from workflows import inbox as inbox_service
from workflows.calendar import local_today
from workflows.errors import Conflict, InvalidInput

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def parse_inbox_query(args: Any) -> inbox_service.InboxQuery:
    """Inbox filters from a query string; anything unreadable falls back to the default."""

    def number(name: str, default: int | None) -> int | None:
        try:
            return int(args.get(name)) if args.get(name) not in (None, "") else default
        except ValueError:
            return default

    return inbox_service.InboxQuery(
        tab=args.get("tab", ""),
        step=args.get("step") or None,
        unit_code=args.get("unit") or None,
        year=number("year", None),
        overdue=args.get("overdue") in ("1", "true", "on"),
        search=args.get("q") or None,
        sort=args.get("sort") if args.get("sort") in inbox_service.SORTS else "due",
        page=number("page", 1) or 1,
        per_page=number("per_page", 25) or 25,
    )


@bp.get("/")
@login_required
def inbox():
    """The three tabs of the user's inbox, with filters, search and paging."""
    query = parse_inbox_query(request.args)
    page = inbox_service.list_inbox(db.session, current_user, query, local_today())
    return render_template("tasks/inbox.html", page=page, units=inbox_service.visible_units(db.session, current_user))


@bp.get("/<int:task_id>")
@login_required
def show(task_id: int):
    return _render_task(task_id)


def _render_task(task_id: int, submitted: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                 message: str | None = None, status: int = 200, reassign: dict[str, Any] | None = None):
    view = tasks.task_page(db.session, task_id, current_user, local_today())
    page = page_for(view.task.form_key)
    values = {**view.values, **(submitted or {})}
    extra = page.context(db.session, view.task, current_user) if page else {}
    if view.task.process_key == "agency_report" and view.task.step_id != "draft_report":
        extra["report"] = history.report_view(db.session, view.task.instance_id)  # what the head or DIC judges
    if submitted is None and view.task.draft:
        extra["draft"] = view.task.draft
    elif submitted is not None:
        extra["draft"] = submitted
    extra["may_change_due"] = permissions.may_change_deadlines(current_user) and view.task.state.value == "open"
    if view.may_reassign:
        extra["reassign"] = {"candidates": assignment.candidates(db.session, view.task, local_today()),
                             "values": {}, "errors": {}, **(reassign or {})}
    return render_template("tasks/task.html", view=view, values=values, errors=errors or {}, message=message,
                           form_template=page.template if page else "tasks/forms/_generic.html", **extra), status


def _generic_values(fields: list, form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        if "readonly" in field.constraints:
            continue
        if field.type == "boolean":
            values[field.id] = field.id in form and form.get(field.id) not in ("", "false", "0")
        elif field.id in form:
            values[field.id] = form.get(field.id)
    return values


@bp.post("/<int:task_id>")
@login_required
def submit(task_id: int):
    """Save a draft or submit the task; invalid input comes back with every field's problem and nothing lost."""
    view = tasks.task_page(db.session, task_id, current_user, local_today())
    data = _generic_values(view.fields, request.form)
    page = page_for(view.task.form_key)
    if page is not None:
        data.update(page.parse(db.session, view.task, current_user, request.form, request.files))
    try:
        if request.form.get("action") == "draft":
            tasks.save_draft(db.session, task_id, current_user, data)
            flash(_("Đã lưu nháp."))
            return redirect(url_for("tasks.show", task_id=task_id))
        tasks.complete_task(db.session, task_id, current_user, data, answer=request.form.get("return_answer", ""))
    except InvalidInput as error:
        return _render_task(task_id, submitted=data, errors=error.fields, message=error.message, status=422)
    except Conflict as error:
        flash(localize(error.message), "error")  # a flash outlives the request: store it translated
        return redirect(url_for("tasks.show", task_id=task_id), code=303)
    if tasks.is_return(view.fields, data):
        flash(_("Đã trả lại: %(step)s. Lý do: %(reason)s", step=term(view.task.step_name),
                reason=tasks.return_reason_of(view.fields, data) or "—"))
    else:
        flash(_("Đã hoàn thành: %(step)s.", step=term(view.task.step_name)))
    return redirect(url_for("tasks.inbox"))


@bp.post("/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    tasks.claim(db.session, task_id, current_user, request.form.get("reason", ""))
    flash(_("Bạn đã nhận xử lý công việc."))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    tasks.unclaim(db.session, task_id, current_user, request.form.get("reason", ""))
    flash(_("Công việc đã được trả về nhóm."))
    return redirect(url_for("tasks.inbox", tab="group"))


@bp.post("/<int:task_id>/ask")
@login_required
def ask(task_id: int):
    """Ask the member of the group who holds the task to hand it back."""
    task = assignment.ask_for(db.session, task_id, current_user, local_today())
    flash(_("Đã gửi đề nghị tới %(name)s.", name=task.assignee.full_name if task.assignee else ""))
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


@bp.post("/<int:task_id>/reassign")
@login_required
def reassign(task_id: int):
    """A leader hands the task to another member of its role; the reason is required and audited."""
    values = {"assignee": request.form.get("assignee", ""), "reason": request.form.get("reason", "")}
    try:
        task = assignment.reassign(db.session, task_id, current_user, values["assignee"], values["reason"])
    except InvalidInput as error:
        return _render_task(task_id, message=error.message, status=422,
                            reassign={"values": values, "errors": error.fields})
    flash(_("Đã giao công việc cho %(name)s.", name=task.assignee.full_name if task.assignee else values["assignee"]))
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


@bp.get("/evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    """An evidence file, for anyone who may see the report it belongs to."""
    path, filename, content_type = evidence_files.open_for_download(
        db.session, evidence_id, current_user, current_app.config["UPLOAD_DIR"])
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:task_id>/due")
@requires(permissions.may_change_deadlines)
def change_due(task_id: int):
    """A supervisor moves an open task's deadline; the reason is required and the change is audited."""
    try:
        deadlines.change_due_date(db.session, task_id, _parse_day(request.form.get("due_on", "")),
                                  request.form.get("reason", ""), current_user)
    except InvalidInput as error:
        flash(" ".join(localize(text) for text in [error.message, *error.fields.values()]), "error")
    else:
        flash(_("Đã điều chỉnh hạn xử lý."))
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


def _parse_day(text: str):
    from datetime import date

    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None
