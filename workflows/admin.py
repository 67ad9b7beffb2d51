"""Administration as use cases: users (create, roles and agency, password, activation) and deputy assignments.

Each change is one transaction (`runtime.atomic`) that checks the form as a whole (every problem at once, by field),
writes the change and its audit event, and commits; a problem rolls everything back. The web layer only parses the
request and renders.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import accounts, history, permissions, runtime, users
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import DeputyAssignment, Role, User
from workflows.text import fold, sort_key
from workflows.units import all_unit_names

REPORT_PROCESS = "agency_report"


def ensure_admin(actor: User | None) -> None:
    if not permissions.may_manage_users(actor):
        raise NotAllowed(Text("Chỉ quản trị hệ thống được quản lý người dùng."))


# --- what the pages read ------------------------------------------------------------------------------------------


def unit_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every agency, in Vietnamese order of names."""
    return sorted(all_unit_names(session).items(), key=lambda item: sort_key(item[1]))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Text("Không tìm thấy người dùng #{id}.", id=user_id))
    return user


def matching_users(session: Session, query: str) -> list[User]:
    """Users whose username or name contains QUERY, ignoring case and diacritics ('nguyen van' finds 'Nguyễn Văn')."""
    everyone = session.scalars(select(User).order_by(User.username))
    needle = fold(query.strip())
    return [u for u in everyone if not needle or needle in fold(f"{u.username} {u.full_name}")]


def assignments_of(session: Session, user: User) -> list[DeputyAssignment]:
    """The deputy assignments USER is the deputy or the head of, newest first."""
    return list(session.scalars(
        select(DeputyAssignment).where((DeputyAssignment.deputy_id == user.id) | (DeputyAssignment.head_id == user.id))
        .order_by(DeputyAssignment.valid_from.desc())))


def all_assignments(session: Session) -> list[DeputyAssignment]:
    return list(session.scalars(
        select(DeputyAssignment).order_by(DeputyAssignment.unit_code, DeputyAssignment.valid_from.desc())))


def active_people(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.full_name)))


def head_steps(session: Session) -> list[tuple[str, str]]:
    """The agency report's steps a head answers for: what a deputy may be assigned to."""
    return [(step_id, name) for step_id, name, group in history.user_steps(session, REPORT_PROCESS)
            if group == Role.AGENCY_HEAD.value]


# --- users --------------------------------------------------------------------------------------------------------


def _roles_and_unit(session: Session, roles: list[str], unit_code: str | None,
                    errors: dict[str, Any]) -> list[Role]:
    chosen = []
    for value in roles:
        try:
            chosen.append(Role(value))
        except ValueError:
            errors["roles"] = Text("Vai trò không hợp lệ.")
    if not chosen and "roles" not in errors:
        errors["roles"] = Text("Chọn ít nhất một vai trò.")
    if unit_code is not None and unit_code not in all_unit_names(session):
        errors["unit_code"] = Text("Cơ quan không tồn tại.")
    return chosen


def _audit(session: Session, actor: User, kind: str, message: Text, data: dict[str, Any]) -> None:
    """Record an administrative change (no instance) and commit it with the change."""
    ctx = runtime.Context.create(session, actor)
    runtime.audit(ctx, kind, message, data=data)
    runtime.commit(ctx)


@runtime.atomic
def create_user(session: Session, actor: User, username: str, password: str, full_name: str, email: str,
                roles: list[str], unit_code: str | None) -> User:
    """Create a user with roles and agency (agency roles need one); every problem comes back by field."""
    ensure_admin(actor)
    errors: dict[str, Any] = {}
    if len(username) > 80:
        errors["username"] = Text("Tên đăng nhập tối đa 80 ký tự.")
    if not full_name:
        errors["full_name"] = Text("Nhập họ và tên.")
    elif len(full_name) > 200:
        errors["full_name"] = Text("Họ và tên tối đa 200 ký tự.")
    if email and ("@" not in email or len(email) > 200):
        errors["email"] = Text("Địa chỉ thư điện tử không hợp lệ.")
    chosen = _roles_and_unit(session, roles, unit_code, errors)
    user = None
    try:
        user = users.create_user(session, username, password, full_name, chosen, unit_code, email or None)
    except InvalidInput as error:
        errors = {**error.fields, **errors}
    if user is not None and not errors:
        try:
            users.set_roles(session, user, chosen, unit_code)
        except InvalidInput as error:
            errors = dict(error.fields)
    if errors or user is None:
        raise InvalidInput(Text("Không tạo được người dùng."), errors)
    _audit(session, actor, "user_created", Text("Tạo người dùng {username}", username=user.username),
           {"user": user.username, "full_name": user.full_name, "roles": [r.value for r in chosen],
            "unit_code": user.unit_code})
    return user


@runtime.atomic
def change_roles(session: Session, actor: User, target: User, roles: list[str], unit_code: str | None) -> None:
    """Replace TARGET's roles and agency; an administrator cannot drop their own administrator role."""
    ensure_admin(actor)
    errors: dict[str, Any] = {}
    chosen = _roles_and_unit(session, roles, unit_code, errors)
    if target.id == actor.id and Role.ADMIN not in chosen:
        errors["roles"] = Text("Bạn không thể tự bỏ vai trò quản trị của chính mình.")
    before = {"roles": sorted(r.value for r in target.role_set), "unit_code": target.unit_code}
    if not errors:
        try:
            users.set_roles(session, target, chosen, unit_code)
        except InvalidInput as error:
            errors = dict(error.fields)
    if errors:
        raise InvalidInput(Text("Chưa cập nhật được vai trò."), errors)
    _audit(session, actor, "user_changed", Text("Đổi vai trò, cơ quan của {username}", username=target.username),
           {"user": target.username, "before": before,
            "after": {"roles": sorted(r.value for r in chosen), "unit_code": unit_code}})


@runtime.atomic
def reset_password(session: Session, actor: User, target: User, password: str, confirmation: str) -> None:
    """Set a new password (the user's lock-out is lifted too); the password itself is never logged."""
    ensure_admin(actor)
    if password != confirmation:
        raise InvalidInput(Text("Chưa đặt lại được mật khẩu."),
                           {"password_confirm": Text("Hai lần nhập mật khẩu không khớp.")})
    try:
        accounts.reset_password(session, target, password)
    except InvalidInput as error:
        raise InvalidInput(Text("Chưa đặt lại được mật khẩu."), error.fields) from None
    _audit(session, actor, "password_reset", Text("Đặt lại mật khẩu cho {username}", username=target.username),
           {"user": target.username})


@runtime.atomic
def set_active(session: Session, actor: User, target: User, active: bool) -> None:
    """Deactivate TARGET (they can no longer log in; their history stays) or activate them again."""
    ensure_admin(actor)
    if target.id == actor.id and not active:
        raise InvalidInput(Text("Chưa khóa được tài khoản."),
                           {"active": Text("Bạn không thể tự khóa tài khoản của chính mình.")})
    target.is_active = active
    _audit(session, actor, "user_activated" if active else "user_deactivated",
           Text("Mở khóa tài khoản {username}", username=target.username) if active
           else Text("Khóa tài khoản {username}", username=target.username), {"user": target.username})


# --- deputy assignments -------------------------------------------------------------------------------------------


@runtime.atomic
def assign_deputy(session: Session, actor: User, head_id: int | None, deputy_id: int | None, document_number: str,
                  document_date: date | None, valid_from: date | None, valid_to: date | None,
                  scope: list[str]) -> DeputyAssignment:
    """Record a head's written assignment of a deputy (Điều 2.3): document number and date, period, steps.

    Dates the form could not read come as None and are reported as such.
    """
    ensure_admin(actor)
    errors: dict[str, Any] = {}
    head = session.get(User, head_id) if head_id is not None else None
    deputy = session.get(User, deputy_id) if deputy_id is not None else None
    if head is None:
        errors["head_id"] = Text("Chọn người đứng đầu.")
    elif Role.AGENCY_HEAD not in head.role_set:
        errors["head_id"] = Text("Người được chọn không có vai trò thủ trưởng cơ quan.")
    if deputy is None:
        errors["deputy_id"] = Text("Chọn cấp phó.")
    elif Role.DEPUTY not in deputy.role_set:
        errors["deputy_id"] = Text("Người được chọn không có vai trò cấp phó.")
    for key, value in (("document_date", document_date), ("valid_from", valid_from), ("valid_to", valid_to)):
        if value is None:
            errors[key] = Text("Nhập ngày dạng dd/mm/yyyy.")
    allowed = {step_id for step_id, _name in head_steps(session)}
    if not scope:
        errors["scope"] = Text("Chọn ít nhất một bước.")
    elif not set(scope) <= allowed:
        errors["scope"] = Text("Bước không hợp lệ.")
    if errors:
        raise InvalidInput(Text("Chưa ghi nhận được phân công."), errors)
    assert head is not None and deputy is not None and document_date and valid_from and valid_to
    try:
        assignment = users.assign_deputy(session, head, deputy, document_number, document_date, valid_from,
                                         valid_to, scope)
    except InvalidInput as error:
        raise InvalidInput(Text("Chưa ghi nhận được phân công."),
                           {("deputy_id" if k == "deputy" else k): v for k, v in error.fields.items()}) from None
    _audit(session, actor, "deputy_assigned",
           Text("Phân công {deputy} thay mặt {head}", deputy=deputy.full_name, head=head.full_name),
           {"head": head.username, "deputy": deputy.username, "unit_code": assignment.unit_code,
            "document_number": assignment.document_number, "document_date": assignment.document_date,
            "valid_from": assignment.valid_from, "valid_to": assignment.valid_to, "scope": assignment.scope})
    return assignment
