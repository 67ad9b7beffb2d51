"""Cycles and instances: the years, one year's progress and results, an instance's data and history."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.cycles import forms
from webapp.extensions import db
from webapp.security import requires
from workflows import cycle_view, cycles, history, permissions, results, unit_changes
from workflows import units as unit_list
from workflows.calendar import local_today
from workflows.errors import Conflict, InvalidInput

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


def _may_open() -> bool:
    return permissions.may_open_cycle(current_user)


def _render_index(values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, status: int = 200):
    values = values or {"year": str(local_today().year), "report_due": ""}
    return render_template("cycles/index.html", cycles=cycle_view.cycle_list(db.session), may_open=_may_open(),
                           values=values, errors=errors or {}, message=message), status


@bp.get("/")
@login_required
def index():
    """Every opened year; DIC and administrators also get the form to open a new one."""
    return _render_index()


@bp.post("/")
@requires(permissions.may_open_cycle)
def open_cycle():
    """Open a year: the cycle and one agency report per unit; errors come back next to the fields."""
    values = {"year": request.form.get("year", ""), "report_due": request.form.get("report_due", ""),
              "confirm_late": request.form.get("confirm_late") == "1"}
    year, report_due, errors = forms.open_cycle_form(request.form)
    if errors:
        return _render_index(values, errors, _("Không mở được kỳ đánh giá."), 422)
    try:
        cycle = cycles.open_cycle(db.session, year, report_due, current_user, confirm_late=values["confirm_late"])
    except InvalidInput as error:
        return _render_index(values, error.fields, error.message, 422)
    except Conflict as error:
        return _render_index(values, {}, error.message, 409)
    flash(_("Đã mở kỳ đánh giá năm %(year)s; hạn nộp báo cáo %(due)s.", year=cycle.year,
            due=cycle.report_due.strftime("%d/%m/%Y")))
    return redirect(url_for("cycles.show", year=cycle.year), code=303)


@bp.get("/<int:year>")
@login_required
def show(year: int):
    """One year: each agency's progress (an agency sees its own row) and, for central roles, the results."""
    page = cycle_view.cycle_page(db.session, year, current_user)
    return render_template("cycles/show.html", page=page)


def _render_instance(instance_id: int, body: str = "", task_id: str = "", errors: dict[str, str] | None = None,
                     message: str | None = None, status: int = 200):
    page = history.instance_page(db.session, instance_id, current_user, local_today())
    return render_template("cycles/instance.html", page=page, body=body, task_id=task_id, errors=errors or {},
                           message=message), status


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    """An instance: its data as it stands, the steps waiting, and its whole history with comments."""
    return _render_instance(instance_id)


@bp.post("/instances/<int:instance_id>/comments")
@login_required
def comment(instance_id: int):
    """Add a comment to the instance's history."""
    body = request.form.get("body", "")
    task_id = request.form.get("task_id", "")
    try:
        history.add_comment(db.session, instance_id, current_user, body, forms.parse_int(task_id))
    except InvalidInput as error:
        return _render_instance(instance_id, body, task_id, error.fields, error.message, 422)
    flash(_("Đã thêm bình luận."))
    return redirect(url_for("cycles.instance", instance_id=instance_id, _anchor="lich-su"), code=303)


@bp.route("/prior-ranks", methods=["GET", "POST"])
@requires(permissions.may_open_cycle)
def prior_ranks():
    """DIC imports an earlier year's ICT ranks from a CSV file: all rows or none, each bad row named by its line."""
    values = {"year": request.form.get("year", str(local_today().year - 1))}
    if request.method == "GET":
        return render_template("cycles/prior_ranks.html", values=values, errors={}, message=None)
    year = forms.parse_int(values["year"])
    upload = request.files.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else ""
    if year is None:
        return render_template("cycles/prior_ranks.html", values=values, errors={},
                               message=_("Năm đánh giá phải là số, ví dụ 2025.")), 422
    try:
        count = results.import_prior_ranks(db.session, year, text)
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        return render_template("cycles/prior_ranks.html", values=values, errors=error.fields,
                               message=error.message), 422
    flash(_("Đã nhập %(count)s xếp hạng của năm %(year)s.", count=count, year=year))
    return redirect(url_for("cycles.index"), code=303)


def _render_units(year: int, message: str | None = None, errors: dict | None = None, status: int = 200):
    return render_template("cycles/units.html", year=year, units=unit_list.units_of_year(db.session, year),
                           message=message, errors=errors or {}), status


@bp.route("/units", methods=["GET", "POST"])
@requires(permissions.may_manage_users)
def units():
    """The units of a year, and the administrator's record of a change (rename, merge, dissolve) with its document."""
    if request.method == "GET":
        return _render_units(forms.parse_int(request.args.get("year")) or local_today().year)
    on = forms.parse_date(request.form.get("effective_on"))
    codes = [c.strip().upper() for c in (request.form.get("codes") or "").split(",") if c.strip()]
    kind, document = request.form.get("kind"), request.form.get("document", "")
    year = on.year if on else local_today().year
    try:
        if on is None or not codes:
            raise InvalidInput(_("Chưa ghi được thay đổi đơn vị."),
                               {"effective_on" if on is None else "codes": _("Thiếu ngày hiệu lực hoặc mã đơn vị.")})
        if kind == "rename":
            unit_changes.rename(db.session, codes[0], on, request.form.get("name_vi", ""), "", document,
                                current_user)
        elif kind == "merge":
            into = (request.form.get("into") or "").strip().upper() or codes[-1]
            unit_changes.merge(db.session, codes, into, on, document, current_user,
                               name_vi=request.form.get("name_vi") or None)
        else:
            unit_changes.dissolve(db.session, codes[0], on, document, current_user)
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        return _render_units(year, error.message, error.fields, 422)
    flash(_("Đã ghi nhận thay đổi đơn vị."))
    return redirect(url_for("cycles.units", year=year), code=303)
