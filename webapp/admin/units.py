"""Administration of units: the list and its history, every change kind with its document, the 2025 changes on request,
and the heads' dates of office (A15). Each change is one `workflows.unit_admin` or `workflows.office_terms` use case
(checked, audited and committed there); these views parse the form and render."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin.views import bp
from webapp.cycles.forms import parse_date
from webapp.extensions import db
from webapp.security import requires
from workflows import admin, office_terms, permissions, unit_admin
from workflows.errors import InvalidInput
from workflows.models import Block
from workflows.vocabulary import BLOCK_LABELS

CHANGE_FIELDS = ("code", "name_vi", "name_en", "block", "document", "effective_on", "continuation")
SUCCESSOR_ROWS = 4


def _render_units(kind: str | None = None, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, import_text: str = "", import_errors: dict[str, str] | None = None,
                  status: int = 200):
    return render_template(
        "admin/units.html", lines=unit_admin.unit_lines(db.session), changes=unit_admin.recorded_changes(db.session),
        known=unit_admin.known_changes(db.session), kinds=unit_admin.KIND_LABELS, open_kind=kind,
        values=values or {}, errors=errors or {}, message=message, blocks=[(b.value, BLOCK_LABELS[b]) for b in Block],
        unit_names=dict(admin.unit_choices(db.session)), successor_rows=SUCCESSOR_ROWS, import_text=import_text,
        import_errors=import_errors or {}, columns=",".join(office_terms.CSV_COLUMNS)), status


@bp.get("/units", endpoint="units")
@requires(permissions.may_manage_users)
def units():
    """The units, their periods and successors, the changes recorded, and the forms to record one."""
    return _render_units()


@bp.post("/units/changes")
@requires(permissions.may_manage_users)
def change_units():
    """Record one change (rename, merge, split, dissolve, establish) with its date and document."""
    form = request.form
    kind = form.get("kind", "")
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in CHANGE_FIELDS}
    for key in ("from_codes", "successor_code", "successor_name_vi", "successor_name_en"):
        values[key] = form.getlist(key)
    try:
        change = unit_admin.apply_change(db.session, current_user, kind, values, parse_date(values["effective_on"]))
    except InvalidInput as error:
        return _render_units(kind, values, error.fields, _("Chưa ghi được thay đổi đơn vị."), status=422)
    flash(_("Đã ghi thay đổi đơn vị theo văn bản %(document)s.", document=change.document))
    return redirect(url_for("admin.units"), code=303)


@bp.post("/units/known-changes")
@requires(permissions.may_manage_users)
def load_known_changes():
    """Record the 2025 changes docs/RULES.md §8 lists (with their sources) that are not recorded yet."""
    count = unit_admin.load_known(db.session, current_user)
    flash(_("Đã nạp %(num)s thay đổi đơn vị năm 2025.", num=count) if count
          else _("Các thay đổi năm 2025 đã được ghi từ trước."))
    return redirect(url_for("admin.units"), code=303)


@bp.post("/units/terms/import")
@requires(permissions.may_manage_users)
def import_terms():
    """Import heads' terms from CSV text or a file: all rows or none, each bad row named by its line."""
    upload = request.files.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload and upload.filename else \
        request.form.get("csv", "")
    try:
        count = office_terms.import_terms(db.session, current_user, text)
    except InvalidInput as error:
        return _render_units(message=_("Chưa nhập được tệp nhiệm kỳ."), import_text=text,
                             import_errors=error.fields, status=422)
    flash(_("Đã nhập %(num)s nhiệm kỳ thủ trưởng.", num=count))
    return redirect(url_for("admin.units"), code=303)


def _render_unit(code: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 message: str | None = None, status: int = 200):
    history = unit_admin.unit_history(db.session, code)
    people = [u for u in admin.active_people(db.session) if u.unit_code == code]
    return render_template("admin/unit.html", code=code, history=history,
                           terms=office_terms.terms_of(db.session, code), people=people, values=values or {},
                           errors=errors or {}, message=message, block_labels=BLOCK_LABELS), status


@bp.get("/units/<code>")
@requires(permissions.may_manage_users)
def unit(code: str):
    """One unit: its periods, and the heads' dates of office with the form to record one."""
    return _render_unit(code.upper())


@bp.post("/units/<code>/terms")
@requires(permissions.may_manage_users)
def add_term(code: str):
    """Record a head's term of office: the person (a login or a name), from, to (empty while in office), document."""
    code = code.upper()
    values = {k: request.form.get(k, "").strip() for k in ("username", "person_name", "valid_from", "valid_to",
                                                            "document")}
    valid_to = parse_date(values["valid_to"])
    try:
        if values["valid_to"] and valid_to is None:
            raise InvalidInput(_("Chưa ghi được nhiệm kỳ."), {"valid_to": _("Nhập ngày dạng dd/mm/yyyy.")})
        office_terms.add_term(db.session, current_user, code, values["person_name"], values["username"],
                              parse_date(values["valid_from"]), valid_to, values["document"])
    except InvalidInput as error:
        return _render_unit(code, values, error.fields, _("Chưa ghi được nhiệm kỳ."), 422)
    flash(_("Đã ghi nhiệm kỳ thủ trưởng."))
    return redirect(url_for("admin.unit", code=code), code=303)


@bp.post("/units/terms/<int:term_id>/delete")
@requires(permissions.may_manage_users)
def delete_term(term_id: int):
    """Delete a term entered by mistake (the audit keeps what it said)."""
    term = office_terms.remove_term(db.session, current_user, term_id)
    flash(_("Đã xóa nhiệm kỳ của %(name)s.", name=term.person_name))
    return redirect(url_for("admin.unit", code=term.unit_code), code=303)
