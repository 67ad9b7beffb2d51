"""The working-day calendar for administrators: a year's days off, and the overrides of the annual notice."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.cycles.forms import parse_date, parse_int
from webapp.extensions import db
from webapp.security import requires
from workflows import deadlines, permissions
from workflows.calendar import local_today
from workflows.errors import InvalidInput, NotFound

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")


def _year(value: str | None) -> int:
    year = parse_int(value)
    return year if year is not None and 2013 <= year <= 2100 else local_today().year


def _render(year: int, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
            message: str | None = None, status: int = 200):
    return render_template(
        "calendar_admin/index.html", calendar=deadlines.year_calendar(db.session, year),
        kinds=deadlines.OVERRIDE_KINDS, values=values or {"kind": "compensatory"}, errors=errors or {},
        message=message,
    ), status


@bp.get("/")
@requires(permissions.may_edit_calendar)
def index():
    """A year's days off and swapped working days, with their sources; and the form to add an override."""
    return _render(_year(request.args.get("year")))


@bp.post("/")
@requires(permissions.may_edit_calendar)
def add():
    """Record one day of the Government's annual notice."""
    values = {k: request.form.get(k, "").strip() for k in ("day", "kind", "name_vi", "source_doc")}
    day = parse_date(values["day"])
    try:
        deadlines.add_override(db.session, day, values["kind"], values["name_vi"], values["source_doc"],
                               current_user)
    except InvalidInput as error:
        return _render(day.year if day else _year(request.args.get("year")), values, error.fields, error.message,
                       422)
    assert day is not None
    flash(_("Đã ghi nhận ngày %(day)s.", day=f"{day:%d/%m/%Y}"))
    return redirect(url_for("calendar_admin.index", year=day.year), code=303)


@bp.post("/<day>/delete")
@requires(permissions.may_edit_calendar)
def remove(day: str):
    """Remove an override; the day goes back to what the weekend and the Labour Code make it."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise NotFound(_("Ngày không hợp lệ.")) from None
    deadlines.remove_override(db.session, parsed, current_user)
    flash(_("Đã bỏ điều chỉnh ngày %(day)s.", day=f"{parsed:%d/%m/%Y}"))
    return redirect(url_for("calendar_admin.index", year=parsed.year), code=303)
