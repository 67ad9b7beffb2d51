"""Users, roles and deputy assignments; passwords hashed with the standard library's scrypt."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import ApiToken, DeputyAssignment, Role, User, UserRole, utcnow
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
) -> User:
    """Create a user with ROLES; usernames are unique and case-insensitive."""
    username = username.strip().lower()
    errors = {}
    if not username:
        errors["username"] = Text("Tên đăng nhập là bắt buộc.")
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = Text("Tên đăng nhập đã tồn tại.")
    if len(password) < 8:
        errors["password"] = Text("Mật khẩu cần ít nhất 8 ký tự.")
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


MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
TOKEN_LIFETIME = timedelta(hours=12)


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """Check a login; after MAX_FAILED_LOGINS failures the account is locked for LOCKOUT. Commits the counters."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is not None and user.locked_until is not None and _aware(user.locked_until) > now:
        minutes = max(1, int((_aware(user.locked_until) - now).total_seconds() // 60) + 1)
        raise NotAllowed(Text("Tài khoản tạm khóa do đăng nhập sai nhiều lần; thử lại sau {minutes} phút.",
                              minutes=minutes))
    if user is None or not user.is_active or not check_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
            session.commit()
        wrong = Text("Tên đăng nhập hoặc mật khẩu không đúng.")
        raise InvalidInput(wrong, {"password": wrong})
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
        session.commit()
    return user


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def issue_token(session: Session, user: User, now: datetime | None = None) -> str:
    """A new random API bearer token for USER; only its SHA-256 is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=now, expires_at=now + TOKEN_LIFETIME))
    session.commit()
    return token


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    # One query for the token, its user and the user's roles: it runs on every API request.
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
        .options(joinedload(ApiToken.user).selectinload(User.roles))
    ).first()
    if row is None or _aware(row.expires_at) <= (now or utcnow()) or not row.user.is_active:
        return None
    return row.user


def reset_password(session: Session, user: User, new_password: str) -> None:
    if len(new_password) < 8:
        raise InvalidInput(Text("Mật khẩu cần ít nhất 8 ký tự."), {"password": Text("Mật khẩu cần ít nhất 8 ký tự.")})
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until = 0, None
    session.flush()


def set_roles(session: Session, user: User, roles: list[Role], unit_code: str | None) -> None:
    """Replace USER's roles and agency; agency roles need an agency."""
    if needs_agency(roles) and not unit_code:
        raise InvalidInput(Text("Vai trò của cơ quan cần chọn cơ quan."), {"unit_code": Text("Chọn cơ quan.")})
    user.roles = [UserRole(role=r) for r in dict.fromkeys(roles)]
    user.unit_code = unit_code
    session.flush()
