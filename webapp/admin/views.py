"""Administration: users, roles, agencies and deputy assignments. Each change is one `workflows.admin` use case
(checked, audited and committed there); these views parse the form and render."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.cycles.forms import parse_date
from webapp.extensions import db
from webapp.security import requires
from workflows import admin, permissions
from workflows.calendar import local_today
from workflows.errors import InvalidInput
from workflows.models import Role
from workflows.vocabulary import ROLE_LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")
SEARCH_LIMIT = 100


def _user_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in ("username", "full_name", "email")}
    values["password"] = form.get("password", "")
    values["roles"], values["unit_code"] = form.getlist("roles"), form.get("unit_code") or None
    return values


# --- users --------------------------------------------------------------------------------------------------------


def _render_users(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, status: int = 200):
    query = request.args.get("q", "")
    found = admin.matching_users(db.session, query)
    units = admin.unit_choices(db.session)
    return render_template(
        "admin/users.html", users=found[:SEARCH_LIMIT], total=len(found), query=query, units=units,
        unit_names=dict(units), role_labels=ROLE_LABELS, values=values or {"roles": [], "unit_code": None},
        errors=errors or {}, message=message,
    ), status


@bp.get("/users", endpoint="users")
@requires(permissions.may_manage_users)
def users_list():
    """Every user, searchable by username or name; and the form to create one."""
    return _render_users()


@bp.post("/users")
@requires(permissions.may_manage_users)
def create_user():
    """Create a user with roles and agency; problems come back next to the fields."""
    values = _user_values(request.form)
    try:
        user = admin.create_user(db.session, current_user, values["username"], values["password"],
                                 values["full_name"], values["email"], values["roles"], values["unit_code"])
    except InvalidInput as error:
        return _render_users(values, error.fields, _("Không tạo được người dùng."), 422)
    flash(_("Đã tạo người dùng %(username)s.", username=user.username))
    return redirect(url_for("admin.user", user_id=user.id), code=303)


def _render_user(user: Any, errors: dict[str, str] | None = None, message: str | None = None, status: int = 200):
    units = admin.unit_choices(db.session)
    return render_template("admin/user.html", user=user, units=units, unit_names=dict(units),
                           role_labels=ROLE_LABELS, assignments=admin.assignments_of(db.session, user),
                           errors=errors or {}, message=message), status


@bp.get("/users/<int:user_id>")
@requires(permissions.may_manage_users)
def user(user_id: int):
    """One user: roles and agency, password reset, activation."""
    return _render_user(admin.get_user(db.session, user_id))


@bp.post("/users/<int:user_id>/roles")
@requires(permissions.may_manage_users)
def update_roles(user_id: int):
    """Replace a user's roles and agency."""
    target = admin.get_user(db.session, user_id)
    try:
        admin.change_roles(db.session, current_user, target, request.form.getlist("roles"),
                           request.form.get("unit_code") or None)
    except InvalidInput as error:
        return _render_user(target, error.fields, _("Chưa cập nhật được vai trò."), 422)
    flash(_("Đã cập nhật vai trò và cơ quan của %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<int:user_id>/password")
@requires(permissions.may_manage_users)
def reset_password(user_id: int):
    """Set a new password (the user's lock-out is lifted too); the password itself is never logged."""
    target = admin.get_user(db.session, user_id)
    try:
        admin.reset_password(db.session, current_user, target, request.form.get("password", ""),
                             request.form.get("password_confirm", ""))
    except InvalidInput as error:
        return _render_user(target, error.fields, _("Chưa đặt lại được mật khẩu."), 422)
    flash(_("Đã đặt lại mật khẩu cho %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<int:user_id>/active")
@requires(permissions.may_manage_users)
def set_active(user_id: int):
    """Deactivate a user (they can no longer log in; their history stays) or activate them again."""
    target = admin.get_user(db.session, user_id)
    active = request.form.get("active") == "1"
    try:
        admin.set_active(db.session, current_user, target, active)
    except InvalidInput as error:
        return _render_user(target, error.fields, _("Chưa khóa được tài khoản."), 422)
    flash(_("Đã mở khóa tài khoản %(username)s.", username=target.username) if active
          else _("Đã khóa tài khoản %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


# --- deputy assignments -------------------------------------------------------------------------------------------


def _render_deputies(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                     message: str | None = None, status: int = 200):
    people = admin.active_people(db.session)
    return render_template(
        "admin/deputies.html", assignments=admin.all_assignments(db.session), today=local_today(),
        unit_names=dict(admin.unit_choices(db.session)),
        heads=[u for u in people if Role.AGENCY_HEAD in u.role_set],
        deputies=[u for u in people if Role.DEPUTY in u.role_set], steps=admin.head_steps(db.session),
        values=values or {"scope": ["approve_report"]}, errors=errors or {}, message=message,
    ), status


@bp.get("/deputies")
@requires(permissions.may_manage_users)
def deputies():
    """Deputy assignments (Điều 2.3) and the form to record one."""
    return _render_deputies()


@bp.post("/deputies")
@requires(permissions.may_manage_users)
def create_deputy():
    """Record a head's written assignment of a deputy: document number and date, period, steps."""
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in (
        "head_id", "deputy_id", "document_number", "document_date", "valid_from", "valid_to")}
    values["scope"] = form.getlist("scope")
    try:
        assignment = admin.assign_deputy(
            db.session, current_user,
            int(values["head_id"]) if values["head_id"].isdigit() else None,
            int(values["deputy_id"]) if values["deputy_id"].isdigit() else None,
            values["document_number"], parse_date(values["document_date"]), parse_date(values["valid_from"]),
            parse_date(values["valid_to"]), values["scope"])
    except InvalidInput as error:
        return _render_deputies(values, error.fields, _("Chưa ghi nhận được phân công."), 422)
    flash(_("Đã ghi nhận phân công cấp phó theo văn bản %(number)s.", number=assignment.document_number))
    return redirect(url_for("admin.deputies"), code=303)
