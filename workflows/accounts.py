"""Signing in and staying signed in: sign-in throttling, session versions, API token lifecycle, new passwords.

Throttling. Every sign-in attempt first reserves a try on two counters in `login_throttle`, one for the client address
and one for the username (known or not, so an unknown name behaves exactly like a known one). A reservation is one
conditional UPDATE … RETURNING: the first FREE_ATTEMPTS failures are free; the reservation that reaches the limit
also closes the counter until the outcome is known, after which each further failure doubles the wait (1 s, 2 s,
4 s, … at most MAX_DELAY). So 40 parallel guesses get at most FREE_ATTEMPTS password checks, and five wrong passwords
cost the owner of the account one second, not a quarter of an hour. The counters live in the database, so several app
servers share them.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session, joinedload

from workflows import dialects, permissions, runtime, users
from workflows.errors import InvalidInput, NotFound
from workflows.messages import Text
from workflows.models import ApiToken, LoginThrottle, User, utcnow
from workflows.passwords import check_password_policy

FREE_ATTEMPTS = 5
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a counter untouched this long starts again from zero
# A well-formed hash no password matches: unknown names cost one scrypt like known ones (no timing difference).
_DUMMY_HASH = "scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
WRONG = Text("Tên đăng nhập hoặc mật khẩu không đúng.")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _delay(failures: int) -> timedelta:
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_ATTEMPTS, 20)), MAX_DELAY)


def _reserve(session: Session, key: str, now: datetime) -> bool:
    """Take one try on KEY's counter in a single statement; False when the counter says wait."""
    session.execute(dialects.insert(session, LoginThrottle)
                    .values(key=key, failures=0, next_allowed_at=now, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    stale = LoginThrottle.updated_at < now - FORGET_AFTER
    failures = case((stale, 1), else_=LoginThrottle.failures + 1)
    row = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key,
               or_(stale, LoginThrottle.next_allowed_at <= now))
        .values(failures=failures, updated_at=now,
                # the try that reaches the limit closes the counter until its outcome sets the real wait
                next_allowed_at=case((failures >= FREE_ATTEMPTS, now + MAX_DELAY), else_=now))
        .returning(LoginThrottle.failures)
    ).first()
    session.commit()
    return row is not None


def _settle(session: Session, key: str, failed: bool, now: datetime) -> None:
    if failed:
        # Below the limit the reservation already left the counter open. At or above it, the wait follows the count;
        # the UPDATE applies only if the count is still the one read, so a slow settlement never reopens a counter
        # that later reservations closed (the latest reservation settles it).
        failures = session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) or 0
        if failures >= FREE_ATTEMPTS:
            session.execute(update(LoginThrottle).where(LoginThrottle.key == key, LoginThrottle.failures == failures)
                            .values(next_allowed_at=now + _delay(failures), updated_at=now))
    else:
        session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                        .values(failures=0, next_allowed_at=now, updated_at=now))
    session.commit()


def authenticate(session: Session, username: str, password: str, address: str | None = None,
                 now: datetime | None = None) -> User:
    """Check a sign-in from ADDRESS. Wrong, unknown, inactive and throttled accounts all get the same answer."""
    now = now or utcnow()
    name = username.strip().lower()
    address_key, user_key = f"addr:{address or '-'}", f"user:{name[:190]}"
    if not _reserve(session, address_key, now):
        raise InvalidInput(WRONG, {"password": WRONG})
    if not _reserve(session, user_key, now):
        _settle(session, address_key, True, now)
        raise InvalidInput(WRONG, {"password": WRONG})
    user = session.scalar(select(User).where(User.username == name))
    valid = users.check_password(user.password_hash if user is not None else _DUMMY_HASH, password)
    ok = valid and user is not None and user.is_active
    _settle(session, address_key, not ok, now)
    _settle(session, user_key, not ok, now)
    if not ok:
        raise InvalidInput(WRONG, {"password": WRONG})
    return user


def clear_throttle(session: Session, username: str) -> None:
    """An administrator's reset lifts the account's wait (the address counters stay)."""
    session.execute(update(LoginThrottle).where(LoginThrottle.key == f"user:{username}")
                    .values(failures=0, next_allowed_at=utcnow()))


# --- sessions ----------------------------------------------------------------------------------------------------


def load_user(session: Session, user_id: int) -> User | None:
    """USER_ID's user with its roles in ONE statement (a LEFT JOIN): every request loads its user this way."""
    return session.get(User, user_id, options=[joinedload(User.roles)])


def user_for_session(session: Session, session_id: str) -> User | None:
    """The user of a session or remember cookie "<id>:<version>"; None once the version moved on."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit() or len(user_id) > 12 or len(version) > 12:
        return None
    user = load_user(session, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def end_all_sessions(session: Session, user: User) -> None:
    """Every session and remember cookie of USER stops working (logout, password change, admin reset)."""
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    session.refresh(user)


def end_everything(session: Session, user: User) -> int:
    """Sign USER out everywhere, revoke every API token and retire the calendar-feed URLs; the tokens revoked."""
    end_all_sessions(session, user)
    session.execute(update(User).where(User.id == user.id)
                    .values(credentials_version=User.credentials_version + 1))
    session.refresh(user)
    return revoke_all_tokens(session, user)


# --- API tokens --------------------------------------------------------------------------------------------------

TOKEN_LIFETIME = timedelta(hours=12)
MAX_TOKEN_LIFETIME = timedelta(days=90)
LAST_USED_EVERY = timedelta(minutes=5)  # write last_used_at at most this often: it is read on every API request


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str = "", lifetime: timedelta = TOKEN_LIFETIME,
                now: datetime | None = None) -> str:
    """A new random bearer token for USER; only its SHA-256 is stored, so the token is shown this once."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash(token), name=name.strip()[:100], created_at=now,
                         expires_at=now + min(lifetime, MAX_TOKEN_LIFETIME)))
    session.commit()
    return token


# One statement for the user, the user's roles and the token's columns (a JOIN and a LEFT JOIN): it runs on every API
# request, so the token is read as plain columns, not as a second mapped object (a third less CPU), and the query is
# built once (building it took twice as long as running it).
_USER_BY_TOKEN = (select(User, ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)
                  .join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("token_hash"))
                  .options(joinedload(User.roles)))


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    row = session.execute(_USER_BY_TOKEN, {"token_hash": _hash(token)}).unique().first()
    if row is None:
        return None
    user, token_id, revoked_at, expires_at, last_used_at = row
    if revoked_at is not None or _aware(expires_at) <= now or not user.is_active:
        return None
    if last_used_at is None or _aware(last_used_at) <= now - LAST_USED_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.commit()
    return user


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    active: bool


def list_tokens(session: Session, owner: User, now: datetime | None = None) -> list[TokenView]:
    """OWNER's tokens not yet revoked, newest first (the token itself is never stored, so never shown)."""
    now = now or utcnow()
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return [TokenView(r.id, r.name, r.created_at, r.expires_at, r.last_used_at, _aware(r.expires_at) > now)
            for r in rows]


def revoke_token(session: Session, token_id: int, actor: User, now: datetime | None = None) -> None:
    """The owner or an administrator revokes one token; someone else's token is "not found", not "forbidden"."""
    row = session.get(ApiToken, token_id)
    if (row is None or row.revoked_at is not None
            or (row.user_id != actor.id and not permissions.may_manage_users(actor))):
        raise NotFound(Text("Không có mã truy cập này."))
    row.revoked_at = now or utcnow()
    session.flush()


def revoke_all_tokens(session: Session, owner: User, now: datetime | None = None) -> int:
    result = session.execute(update(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow()))
    return result.rowcount


# --- new passwords -----------------------------------------------------------------------------------------------


def reset_password(session: Session, user: User, new_password: str) -> None:
    """A new password ends everything the old one opened: sessions, remember cookies, API tokens, calendar-feed URLs;
    lifts the wait."""
    check_password_policy(new_password, user.username, user.full_name)
    user.password_hash = users.hash_password(new_password)
    end_everything(session, user)
    clear_throttle(session, user.username)
    session.flush()


def change_own_password(session: Session, user: User, current: str, new: str, confirmation: str,
                        address: str | None = None) -> None:
    """USER's own new password: the current one first (throttled like a sign-in, so a borrowed session cannot guess
    it), then the policy, typed twice. Like a reset it ends every session, API token and calendar-feed URL; the page
    signs this session in again. Audited, never the password itself."""
    try:
        authenticate(session, user.username, current, address)
    except InvalidInput:
        raise InvalidInput(Text("Chưa đổi được mật khẩu."),
                           {"current_password": Text("Mật khẩu hiện tại không đúng.")}) from None
    if new != confirmation:
        raise InvalidInput(Text("Chưa đổi được mật khẩu."),
                           {"password_confirm": Text("Hai lần nhập mật khẩu không khớp.")})
    try:
        reset_password(session, user, new)
    except InvalidInput as error:
        raise InvalidInput(Text("Chưa đổi được mật khẩu."), error.fields) from None
    ctx = runtime.Context.create(session, user)
    runtime.audit(ctx, "password_changed", Text("{username} đổi mật khẩu của mình", username=user.username),
                  data={"user": user.username})
    runtime.commit(ctx)
