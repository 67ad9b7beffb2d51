"""Users, roles and deputy assignments; passwords hashed with the standard library's scrypt."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.errors import InvalidInput, NotFound
from workflows.messages import Text
from workflows.models import DeputyAssignment, Role, User, UserRole
from workflows.passwords import password_problem
from workflows.permissions import needs_agency

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def create_user(
    session: Session,
    username: str,
    password: str,
    full_name: str,
    roles: list[Role],
    unit_code: str | None = None,
    email: str | None = None,
    demo: bool = False,
) -> User:
    """Create a user with ROLES; usernames are unique and case-insensitive.

    DEMO accounts (seed-demo, the simulation) share one published password, so the password policy would only get in
    the way; every other account gets it.
    """
    username = username.strip().lower()
    errors = {}
    if not username:
        errors["username"] = Text("Tên đăng nhập là bắt buộc.")
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = Text("Tên đăng nhập đã tồn tại.")
    if not demo and (problem := password_problem(password, username, full_name)):
        errors["password"] = problem
    if errors:
        raise InvalidInput(Text("Không tạo được người dùng."), errors)
    user = User(username=username, password_hash=hash_password(password), full_name=full_name,
                unit_code=unit_code, email=email)
    user.roles = [UserRole(role=r) for r in roles]
    session.add(user)
    session.flush()
    return user


def get_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(Text("Không có người dùng '{username}'.", username=username))
    return user


def assign_deputy(
    session: Session,
    head: User,
    deputy: User,
    document_number: str,
    document_date: date,
    valid_from: date,
    valid_to: date,
    scope: list[str] | None = None,
) -> DeputyAssignment:
    """Record a head's written assignment of a deputy (Điều 2.3): document number, date and period."""
    errors = {}
    if not document_number.strip():
        errors["document_number"] = Text("Cần số văn bản phân công.")
    if valid_to < valid_from:
        errors["valid_to"] = Text("Ngày kết thúc phải sau ngày bắt đầu.")
    if head.unit_code != deputy.unit_code:
        errors["deputy"] = Text("Cấp phó phải cùng cơ quan với người đứng đầu.")
    if errors:
        raise InvalidInput(Text("Không ghi nhận được phân công."), errors)
    assignment = DeputyAssignment(
        deputy_id=deputy.id, head_id=head.id, unit_code=head.unit_code, document_number=document_number.strip(),
        document_date=document_date, valid_from=valid_from, valid_to=valid_to, scope=scope or ["approve_report"],
    )
    session.add(assignment)
    session.flush()
    return assignment


def set_roles(session: Session, user: User, roles: list[Role], unit_code: str | None) -> None:
    """Replace USER's roles and agency; agency roles need an agency."""
    if needs_agency(roles) and not unit_code:
        raise InvalidInput(Text("Vai trò của cơ quan cần chọn cơ quan."), {"unit_code": Text("Chọn cơ quan.")})
    user.roles = [UserRole(role=r) for r in dict.fromkeys(roles)]
    user.unit_code = unit_code
    session.flush()
