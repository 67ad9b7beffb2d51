"""Notifications: in-app messages, the daily e-mail digest per person, and a personal calendar feed of deadlines.

Creating a notification is idempotent on its unique key (person, task, kind, deadline), so however many workers
run, and however often a pass is repeated, a person gets one reminder of a kind for a task and deadline.
"""
from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

import icalendar
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from workflows import dialects, permissions
from workflows.calendar import LOCAL_TZ, local_today
from workflows.errors import NotFound
from workflows.messages import Text
from workflows.models import HumanTask, Notification, TaskState, User, utcnow
from workflows.units import all_unit_names
from workflows.vocabulary import due_source_text, notification_kind_label

TASK_LINK = "/tasks/{task_id}"  # the task page of webapp/tasks; links are stored relative to PUBLIC_BASE_URL
NOTIFICATIONS_PATH, PREFERENCES_PATH = "/notifications/", "/notifications/preferences"
_KEY = ("user_id", "task_id", "kind", "due_on")
_COLUMNS = (*_KEY, "title", "body", "link", "created_at")
log = logging.getLogger(__name__)
_CHUNK = 200  # rows per INSERT: 8 parameters each stays far below SQLite's limit


def task_link(task_id: int) -> str:
    return TASK_LINK.format(task_id=task_id)


# --- creating ------------------------------------------------------------------------------------------------------


def create(session: Session, rows: Iterable[Mapping[str, Any]]) -> list[tuple[int, int | None, str]]:
    """Insert ROWS, skipping any whose key (user, task, kind, deadline) exists; return the keys inserted (no commit).

    The dialect's own `INSERT … ON CONFLICT (key) DO NOTHING` on both PostgreSQL and SQLite, rather than SQLite's
    `INSERT OR IGNORE`: OR IGNORE would also swallow NOT NULL and CHECK violations, so a bug would lose messages
    silently. Under PostgreSQL a concurrent insert of the same key waits for the other transaction and then does
    nothing, so two workers never both count (or send) the same notification.
    """
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        values = {"body": "", "link": None, "created_at": utcnow(), **row}
        unique.setdefault(tuple(values[k] for k in _KEY), {c: values[c] for c in _COLUMNS})
    # A fixed order: two transactions inserting overlapping keys then take the index locks in the same order.
    ordered = [unique[k] for k in sorted(unique, key=lambda k: tuple((v is None, str(v)) for v in k))]
    created: list[tuple[int, int | None, str]] = []
    for start in range(0, len(ordered), _CHUNK):
        statement = (
            dialects.insert(session, Notification).values(ordered[start:start + _CHUNK])
            .on_conflict_do_nothing(index_elements=list(_KEY))
            .returning(Notification.user_id, Notification.task_id, Notification.kind)
        )
        created.extend(tuple(r) for r in session.execute(statement))
    return created


# --- reading and marking read --------------------------------------------------------------------------------------


def list_for_user(session: Session, user: User, limit: int = 100) -> list[Notification]:
    """USER's notifications, unread first, newest first within each."""
    query = (
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, user: User, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of USER's notifications read; someone else's is NotFound, as if it did not exist."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound(Text("Không tìm thấy thông báo #{id}.", id=notification_id))
    if note.read_at is None:
        note.read_at = (now or utcnow()).astimezone(UTC)
    session.commit()
    return note


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of USER read; return how many."""
    result = session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=(now or utcnow()).astimezone(UTC))
    )
    session.commit()
    return result.rowcount or 0


def set_email_digest(session: Session, user: User, enabled: bool) -> None:
    """Opt USER in to or out of the daily e-mail digest (in-app notifications always stay)."""
    user.email_digest = enabled
    session.commit()


# --- the daily digest ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """Where e-mail goes: SMTP when `server` is set, else .eml files in `outbox_dir` (development)."""

    server: str | None
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    outbox_dir: Path | None
    base_url: str

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MailSettings:
        outbox = settings.get("MAIL_OUTBOX_DIR")
        return cls(
            server=settings.get("MAIL_SERVER") or None,
            port=int(settings.get("MAIL_PORT", 587)),
            use_tls=bool(settings.get("MAIL_USE_TLS", True)),
            username=settings.get("MAIL_USERNAME") or None,
            password=settings.get("MAIL_PASSWORD") or None,
            sender=settings.get("MAIL_SENDER") or "khong-tra-loi@bacninh.gov.vn",
            outbox_dir=Path(outbox) if outbox else None,
            base_url=str(settings.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        )


class _Mailer:
    """One SMTP connection per digest run, opened at the first message; or the outbox folder."""

    def __init__(self, mail: MailSettings) -> None:
        self.mail = mail
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, filename: str) -> None:
        if self.mail.server:
            if self._smtp is None:
                self._smtp = smtplib.SMTP(self.mail.server, self.mail.port, timeout=30)
                if self.mail.use_tls:
                    self._smtp.starttls()
                if self.mail.username:
                    self._smtp.login(self.mail.username, self.mail.password or "")
            self._smtp.send_message(message)
            return
        if self.mail.outbox_dir is None:
            raise RuntimeError("Set MAIL_SERVER, or MAIL_OUTBOX_DIR for development")
        self.mail.outbox_dir.mkdir(parents=True, exist_ok=True)
        # Named by person and day, written then renamed: a digest re-sent after a crash replaces, never doubles.
        target = self.mail.outbox_dir / filename
        partial = target.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, target)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                pass
            self._smtp = None


def digest_message(user: User, items: list[Notification], now: datetime, mail: MailSettings) -> EmailMessage:
    """The digest e-mail for USER: every item with a direct link, in Vietnamese."""
    today = local_today(now)
    lines = [
        f"Kính gửi {user.full_name},",
        "",
        f"Hệ thống đánh giá trách nhiệm người đứng đầu về ứng dụng CNTT (QĐ 358/2013/QĐ-UBND) có {len(items)} "
        "thông báo mới cho đồng chí:",
        "",
    ]
    for number, note in enumerate(items, start=1):
        lines.append(f"{number}. [{notification_kind_label(note.kind)}] {note.title}")
        if note.body:
            lines.append(f"   {note.body}")
        if note.link:
            lines.append(f"   Xem công việc: {mail.base_url}{note.link}")
        lines.append("")
    lines += [
        f"Xem tất cả thông báo: {mail.base_url}{NOTIFICATIONS_PATH}",
        f"Để ngừng nhận thư tóm tắt hằng ngày, vào {mail.base_url}{PREFERENCES_PATH}",
        "",
        "Thư này được gửi tự động, vui lòng không trả lời.",
    ]
    message = EmailMessage()
    message["Subject"] = f"[Đánh giá CNTT Bắc Ninh] {len(items)} thông báo mới ngày {today:%d/%m/%Y}"
    message["From"] = formataddr(("Hệ thống đánh giá CNTT Bắc Ninh", mail.sender))
    message["To"] = formataddr((user.full_name, user.email or ""))
    message["Date"] = format_datetime(now.astimezone(LOCAL_TZ))
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    return message


def send_digests(session: Session, now: datetime | None, settings: Mapping[str, Any]) -> int:
    """Send each person one digest a day of their unread, not yet e-mailed notifications; return digests sent.

    Each person is one transaction: the items are claimed (emailed_at set where still empty), the message is sent,
    then the claim commits. A crash after sending and before the commit sends again on the next pass (to the same
    outbox file), which is better than losing a message. Opted-out people and people without an address get none.
    """
    now = (now or utcnow()).astimezone(UTC)
    today = local_today(now)
    since = datetime.combine(today, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    mail = MailSettings.from_settings(settings)
    postgres = session.get_bind().dialect.name == "postgresql"
    pending = exists().where(Notification.user_id == User.id, Notification.read_at.is_(None),
                             Notification.emailed_at.is_(None))
    candidates = list(session.scalars(
        select(User.id).where(User.is_active.is_(True), User.email_digest.is_(True), User.email.is_not(None),
                              User.email != "", pending, ~_emailed_since(since, User.id)).order_by(User.id)
    ))
    mailer, sent = _Mailer(mail), 0
    try:
        for user_id in candidates:
            if _send_one(session, user_id, now, today, since, mail, mailer, postgres):
                sent += 1
    finally:
        mailer.close()
    return sent


def _emailed_since(since: datetime, user: Any) -> Any:
    """Whether USER (a column to correlate with, or an id) was sent a digest since SINCE."""
    return exists().where(Notification.user_id == user, Notification.emailed_at >= since)


def _send_one(session: Session, user_id: int, now: datetime, today: date, since: datetime, mail: MailSettings,
              mailer: _Mailer, postgres: bool) -> bool:
    query = select(User).where(User.id == user_id)
    if postgres:
        # NO KEY UPDATE: it keeps out another digest sender but not the workers inserting notifications for this
        # person (their foreign key takes KEY SHARE on the user row, which a plain FOR UPDATE would block).
        query = query.with_for_update(skip_locked=True, key_share=True)
    user = session.scalar(query.execution_options(populate_existing=True))
    if user is None or session.scalar(select(_emailed_since(since, user_id))):
        session.rollback()
        return False
    items = list(session.scalars(
        select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None),
                                   Notification.emailed_at.is_(None))
        .order_by(Notification.created_at, Notification.id)
    ))
    ids = [n.id for n in items]
    claimed = session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.emailed_at.is_(None)).values(emailed_at=now)
    ).rowcount if ids else 0
    if not ids or claimed != len(ids):  # another worker took them first
        session.rollback()
        return False
    try:
        mailer.send(digest_message(user, items, now, mail), f"digest-{today.isoformat()}-user{user_id}.eml")
    except (OSError, smtplib.SMTPException) as error:
        log.warning("Digest for user %s not sent, kept for the next pass: %r", user_id, error)
        session.rollback()
        mailer.close()
        return False
    session.commit()
    return True


# --- the calendar feed ---------------------------------------------------------------------------------------------


def calendar_feed(session: Session, user: User, now: datetime | None, base_url: str) -> str:
    """An iCalendar (RFC 5545) feed of the deadlines of USER's open tasks: one all-day event on each due date.

    Written by the icalendar package, which escapes the text and folds long lines at 75 octets.
    """
    now = (now or utcnow()).astimezone(UTC)
    base_url = base_url.rstrip("/")
    names = all_unit_names(session)
    feed = icalendar.Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", "-//UBND tinh Bac Ninh//Danh gia trach nhiem CNTT//VI")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", "Hạn công việc – " + user.full_name)
    feed.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for task in _open_tasks_of(session, user, local_today(now)):
        feed.add_component(_event(task, names, now, base_url))
    return feed.to_ical().decode("utf-8")


def _open_tasks_of(session: Session, user: User, today: date, limit: int = 500) -> list[HumanTask]:
    # The tasks of USER's inbox that have a deadline (unclaimed or claimed by USER), asked of permissions directly:
    # going through workflows.tasks would make a cycle (tasks tells the receivers of a return through this module).
    return list(session.scalars(
        select(HumanTask)
        .where(HumanTask.state == TaskState.OPEN, HumanTask.due_on.is_not(None),
               permissions.actionable(session, user, today),
               or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == user.id))
        .order_by(HumanTask.due_on, HumanTask.id).limit(limit)
    ))


def _event(task: HumanTask, names: Mapping[str, str], now: datetime, base_url: str) -> icalendar.Event:
    assert task.due_on is not None
    unit = names.get(task.unit_code, task.unit_code) if task.unit_code else None
    summary = f"Hạn: {task.step_name}" + (f" – {unit}" if unit else "")
    link = f"{base_url}{task_link(task.id)}"
    description = (f"{task.step_name} (năm {task.year}). Hạn cuối 23:59 ngày {task.due_on:%d/%m/%Y}"
                   f" (theo {due_source_text(task.due_source) or 'không rõ nguồn'}).\nMở công việc: {link}")
    event = icalendar.Event()
    event.add("uid", f"task-{task.id}@bacninh-cntt")
    event.add("dtstamp", now)
    event.add("dtstart", task.due_on)
    event.add("dtend", task.due_on + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", link)
    event.add("transp", "TRANSPARENT")
    return event
