"""Administration: users, roles, agencies and deputy assignments; every change is recorded in the audit log."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.cycles.forms import parse_date
from webapp.extensions import db
from webapp.security import roles_required
from workflows import history, runtime, users
from workflows.calendar import local_today
from workflows.errors import InvalidInput, NotFound
from workflows.messages import Text
from workflows.models import DeputyAssignment, Role, User
from workflows.text import fold, sort_key
from workflows.units import all_unit_names

bp = Blueprint("admin", __name__, url_prefix="/admin")
SEARCH_LIMIT = 100
REPORT_PROCESS = "agency_report"


# --- reading the forms --------------------------------------------------------------------------------------------


def _units() -> list[tuple[str, str]]:
    return sorted(all_unit_names(db.session).items(), key=lambda item: sort_key(item[1]))


def _roles_and_unit(form: Any, errors: dict[str, str]) -> tuple[list[Role], str | None]:
    roles = []
    for value in form.getlist("roles"):
        try:
            roles.append(Role(value))
        except ValueError:
            errors["roles"] = _("Vai trò không hợp lệ.")
    if not roles and "roles" not in errors:
        errors["roles"] = _("Chọn ít nhất một vai trò.")
    unit_code = form.get("unit_code") or None
    if unit_code is not None and unit_code not in dict(_units()):
        errors["unit_code"] = _("Cơ quan không tồn tại.")
    return roles, unit_code


def _user_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    values = {k: form.get(k, "").strip() for k in ("username", "full_name", "email")}
    values["password"] = form.get("password", "")
    if len(values["username"]) > 80:
        errors["username"] = _("Tên đăng nhập tối đa 80 ký tự.")
    if not values["full_name"]:
        errors["full_name"] = _("Nhập họ và tên.")
    elif len(values["full_name"]) > 200:
        errors["full_name"] = _("Họ và tên tối đa 200 ký tự.")
    if values["email"] and ("@" not in values["email"] or len(values["email"]) > 200):
        errors["email"] = _("Địa chỉ thư điện tử không hợp lệ.")
    values["roles"], values["unit_code"] = _roles_and_unit(form, errors)
    return values, errors


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("Không tìm thấy người dùng #%(id)s.", id=user_id))
    return user


def _matching(query: str) -> list[User]:
    """Users whose username or name contains QUERY, ignoring case and diacritics ('nguyen van' finds 'Nguyễn Văn')."""
    everyone = db.session.scalars(select(User).order_by(User.username))
    needle = fold(query.strip())
    return [u for u in everyone if not needle or needle in fold(f"{u.username} {u.full_name}")]


def _audit(kind: str, message: Text, data: dict[str, Any]) -> None:
    """Record an administrative change (no instance) and commit it."""
    ctx = runtime.Context.create(db.session, current_user)
    runtime.audit(ctx, kind, message, data=data)
    runtime.commit(ctx)


# --- users --------------------------------------------------------------------------------------------------------


def _render_users(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, status: int = 200):
    query = request.args.get("q", "")
    found = _matching(query)
    return render_template(
        "admin/users.html", users=found[:SEARCH_LIMIT], total=len(found), query=query, units=_units(),
        unit_names=dict(_units()), role_labels=history.ROLE_VI, values=values or {"roles": [], "unit_code": None},
        errors=errors or {}, message=message,
    ), status


@bp.get("/users", endpoint="users")
@roles_required(Role.ADMIN)
def users_list():
    """Every user, searchable by username or name; and the form to create one."""
    return _render_users()


@bp.post("/users")
@roles_required(Role.ADMIN)
def create_user():
    """Create a user with roles and agency; problems come back next to the fields."""
    values, errors = _user_form(request.form)
    user = None
    try:
        user = users.create_user(db.session, values["username"], values["password"], values["full_name"],
                                 values["roles"], values["unit_code"], values["email"] or None)
    except InvalidInput as error:
        errors = {**error.fields, **errors}
    if user is not None and not errors:
        try:
            users.set_roles(db.session, user, values["roles"], values["unit_code"])  # agency roles need an agency
        except InvalidInput as error:
            errors = dict(error.fields)
    if errors:
        db.session.rollback()
        return _render_users(values, errors, _("Không tạo được người dùng."), 422)
    assert user is not None
    _audit("user_created", Text("Tạo người dùng {username}", username=user.username),
           {"user": user.username, "full_name": user.full_name, "roles": [r.value for r in values["roles"]],
            "unit_code": user.unit_code})
    flash(_("Đã tạo người dùng %(username)s.", username=user.username))
    return redirect(url_for("admin.user", user_id=user.id), code=303)


def _render_user(user: User, errors: dict[str, str] | None = None, message: str | None = None, status: int = 200):
    assignments = db.session.scalars(
        select(DeputyAssignment).where((DeputyAssignment.deputy_id == user.id) | (DeputyAssignment.head_id == user.id))
        .order_by(DeputyAssignment.valid_from.desc()))
    return render_template("admin/user.html", user=user, units=_units(), unit_names=dict(_units()),
                           role_labels=history.ROLE_VI, assignments=list(assignments), errors=errors or {},
                           message=message), status


@bp.get("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def user(user_id: int):
    """One user: roles and agency, password reset, activation."""
    return _render_user(_get_user(user_id))


@bp.post("/users/<int:user_id>/roles")
@roles_required(Role.ADMIN)
def update_roles(user_id: int):
    """Replace a user's roles and agency."""
    target = _get_user(user_id)
    errors: dict[str, str] = {}
    roles, unit_code = _roles_and_unit(request.form, errors)
    if target.id == current_user.id and Role.ADMIN not in roles:
        errors["roles"] = _("Bạn không thể tự bỏ vai trò quản trị của chính mình.")
    before = {"roles": sorted(r.value for r in target.role_set), "unit_code": target.unit_code}
    if not errors:
        try:
            users.set_roles(db.session, target, roles, unit_code)
        except InvalidInput as error:
            errors = dict(error.fields)
    if errors:
        db.session.rollback()
        return _render_user(target, errors, _("Chưa cập nhật được vai trò."), 422)
    _audit("user_changed", Text("Đổi vai trò, cơ quan của {username}", username=target.username),
           {"user": target.username, "before": before,
            "after": {"roles": sorted(r.value for r in roles), "unit_code": unit_code}})
    flash(_("Đã cập nhật vai trò và cơ quan của %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int):
    """Set a new password (the user's lock-out is lifted too); the password itself is never logged."""
    target = _get_user(user_id)
    password = request.form.get("password", "")
    if password != request.form.get("password_confirm", ""):
        return _render_user(target, {"password_confirm": _("Hai lần nhập mật khẩu không khớp.")},
                            _("Chưa đặt lại được mật khẩu."), 422)
    try:
        users.reset_password(db.session, target, password)
    except InvalidInput as error:
        db.session.rollback()
        return _render_user(target, error.fields, _("Chưa đặt lại được mật khẩu."), 422)
    _audit("password_reset", Text("Đặt lại mật khẩu cho {username}", username=target.username),
           {"user": target.username})
    flash(_("Đã đặt lại mật khẩu cho %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def set_active(user_id: int):
    """Deactivate a user (they can no longer log in; their history stays) or activate them again."""
    target = _get_user(user_id)
    active = request.form.get("active") == "1"
    if target.id == current_user.id and not active:
        return _render_user(target, {"active": _("Bạn không thể tự khóa tài khoản của chính mình.")},
                            _("Chưa khóa được tài khoản."), 422)
    target.is_active = active
    if active:
        target.failed_logins, target.locked_until = 0, None
    _audit("user_activated" if active else "user_deactivated",
           Text("Mở khóa tài khoản {username}", username=target.username) if active
           else Text("Khóa tài khoản {username}", username=target.username), {"user": target.username})
    flash(_("Đã mở khóa tài khoản %(username)s.", username=target.username) if active
          else _("Đã khóa tài khoản %(username)s.", username=target.username))
    return redirect(url_for("admin.user", user_id=target.id), code=303)


# --- deputy assignments -------------------------------------------------------------------------------------------


def _head_steps() -> list[tuple[str, str]]:
    """The agency report's steps a head answers for: what a deputy may be assigned to."""
    return [(step_id, name) for step_id, name, group in history.user_steps(db.session, REPORT_PROCESS)
            if group == Role.AGENCY_HEAD.value]


def _render_deputies(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                     message: str | None = None, status: int = 200):
    people = list(db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.full_name)))
    assignments = list(db.session.scalars(
        select(DeputyAssignment).order_by(DeputyAssignment.unit_code, DeputyAssignment.valid_from.desc())))
    return render_template(
        "admin/deputies.html", assignments=assignments, today=local_today(), unit_names=dict(_units()),
        heads=[u for u in people if Role.AGENCY_HEAD in u.role_set],
        deputies=[u for u in people if Role.DEPUTY in u.role_set], steps=_head_steps(),
        values=values or {"scope": ["approve_report"]}, errors=errors or {}, message=message,
    ), status


@bp.get("/deputies")
@roles_required(Role.ADMIN)
def deputies():
    """Deputy assignments (Điều 2.3) and the form to record one."""
    return _render_deputies()


def _deputy_form(form: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    values = {k: form.get(k, "").strip() for k in ("head_id", "deputy_id", "document_number", "document_date",
                                                   "valid_from", "valid_to")}
    values["scope"] = form.getlist("scope")
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, label in (("head_id", _("Chọn người đứng đầu.")), ("deputy_id", _("Chọn cấp phó."))):
        chosen = db.session.get(User, int(values[key])) if values[key].isdigit() else None
        if chosen is None:
            errors[key] = label
        parsed[key] = chosen
    if parsed.get("head_id") is not None and Role.AGENCY_HEAD not in parsed["head_id"].role_set:
        errors["head_id"] = _("Người được chọn không có vai trò thủ trưởng cơ quan.")
    if parsed.get("deputy_id") is not None and Role.DEPUTY not in parsed["deputy_id"].role_set:
        errors["deputy_id"] = _("Người được chọn không có vai trò cấp phó.")
    for key in ("document_date", "valid_from", "valid_to"):
        parsed[key] = parse_date(values[key])
        if parsed[key] is None:
            errors[key] = _("Nhập ngày dạng dd/mm/yyyy.")
    allowed = {step_id for step_id, _name in _head_steps()}
    if not values["scope"]:
        errors["scope"] = _("Chọn ít nhất một bước.")
    elif not set(values["scope"]) <= allowed:
        errors["scope"] = _("Bước không hợp lệ.")
    return values, parsed, errors


@bp.post("/deputies")
@roles_required(Role.ADMIN)
def create_deputy():
    """Record a head's written assignment of a deputy: document number and date, period, steps."""
    values, parsed, errors = _deputy_form(request.form)
    assignment = None
    if not errors:
        try:
            assignment = users.assign_deputy(
                db.session, parsed["head_id"], parsed["deputy_id"], values["document_number"],
                parsed["document_date"], parsed["valid_from"], parsed["valid_to"], values["scope"])
        except InvalidInput as error:
            errors = {("deputy_id" if k == "deputy" else k): v for k, v in error.fields.items()}
    if assignment is None:
        db.session.rollback()
        return _render_deputies(values, errors, _("Chưa ghi nhận được phân công."), 422)
    head, deputy = parsed["head_id"], parsed["deputy_id"]
    _audit("deputy_assigned", Text("Phân công {deputy} thay mặt {head}", deputy=deputy.full_name, head=head.full_name),
           {"head": head.username, "deputy": deputy.username, "unit_code": assignment.unit_code,
            "document_number": assignment.document_number, "document_date": assignment.document_date,
            "valid_from": assignment.valid_from, "valid_to": assignment.valid_to, "scope": assignment.scope})
    flash(_("Đã ghi nhận phân công cấp phó theo văn bản %(number)s.", number=assignment.document_number))
    return redirect(url_for("admin.deputies"), code=303)
