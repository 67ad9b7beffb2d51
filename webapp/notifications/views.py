"""Notifications: the list (unread first), marking read, the digest preference, the bell's count, the ICS feed."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.extensions import db
from workflows import notifications
from workflows.errors import NotAllowed
from workflows.models import User
from workflows.vocabulary import notification_kind_label

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
FEED_SALT = "notifications.calendar-feed"


def feed_token(user_id: int) -> str:
    """The secret in a person's calendar-feed URL: the user id and session version signed with SECRET_KEY (no table
    to keep).

    Calendar programs cannot log in, so the URL is the credential. It carries the credentials version, so a password
    change or reset and "sign out everywhere" retire the feed URLs given out before (a plain logout does not);
    changing SECRET_KEY revokes every feed URL.
    """
    user = db.session.get(User, user_id)  # the signed-in person: already in the session, no query
    version = user.credentials_version if user is not None else 0
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FEED_SALT).dumps([user_id, version])


def _feed_user(token: str) -> User | None:
    try:
        signed = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FEED_SALT).loads(token)
    except BadSignature:
        return None
    if not (isinstance(signed, list) and len(signed) == 2 and all(type(part) is int for part in signed)):
        return None  # not a feed token of this form (e.g. one from before versions were signed in)
    user_id, version = signed
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active and user.credentials_version == version else None


def _safe_link(link: str | None) -> str | None:
    # Only same-site paths: a stored link must never become an open redirect.
    if link and link.startswith("/") and not link.startswith("//") and not urlsplit(link).netloc:
        return link
    return None


@bp.app_context_processor
def bell() -> dict[str, Any]:
    """`unread_notifications()` for base.html's bell; a function, so pages that do not show it do not query."""

    def unread_notifications() -> int:
        return notifications.unread_count(db.session, current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


@bp.get("/")
@login_required
def index():
    """The person's notifications, unread first, with links to the tasks."""
    rows = [
        {"id": n.id, "title": n.title, "body": n.body, "kind": notification_kind_label(n.kind),
         "link": _safe_link(n.link), "created_at": n.created_at, "unread": n.read_at is None, "due_on": n.due_on}
        for n in notifications.list_for_user(db.session, current_user)
    ]
    return render_template("notifications/index.html", rows=rows, unread=sum(r["unread"] for r in rows))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark one notification read; with go=1, continue to its task."""
    note = notifications.mark_read(db.session, current_user, notification_id)
    target = _safe_link(note.link) if request.form.get("go") == "1" else None
    return redirect(target or url_for("notifications.index"), code=303)


@bp.post("/read-all")
@login_required
def read_all():
    """Mark every notification read."""
    count = notifications.mark_all_read(db.session, current_user)
    flash(ngettext("Đã đánh dấu %(num)s thông báo là đã đọc.", "Đã đánh dấu %(num)s thông báo là đã đọc.", count))
    return redirect(url_for("notifications.index"), code=303)


@bp.get("/unread.json")
@login_required
def unread_count():
    """The bell's number, for pages that refresh it without reloading."""
    return jsonify({"unread": notifications.unread_count(db.session, current_user)})


@bp.get("/preferences")
@login_required
def preferences():
    """Whether the person gets the daily e-mail digest."""
    return render_template("notifications/preferences.html", email_digest=current_user.email_digest,
                           email=current_user.email,
                           feed_url=url_for("notifications.calendar", token=feed_token(current_user.id),
                                            _external=True))


@bp.post("/preferences")
@login_required
def save_preferences():
    """Opt in to or out of the daily e-mail digest."""
    enabled = request.form.get("email_digest") == "1"
    notifications.set_email_digest(db.session, current_user, enabled)
    flash(_("Bạn sẽ nhận thư tóm tắt hằng ngày.") if enabled else _("Bạn sẽ không nhận thư tóm tắt hằng ngày nữa."))
    return redirect(url_for("notifications.preferences"), code=303)


@bp.get("/calendar.ics")
def calendar():
    """The person's open-task deadlines as an iCalendar feed; the signed token in the URL says whose."""
    user = _feed_user(request.args.get("token", ""))
    if user is None:
        raise NotAllowed(_("Đường dẫn lịch không hợp lệ."))
    # Links go back to the address the calendar client fetched the feed from (behind a proxy: ProxyFix), not to a
    # configured default that may be the development address.
    body = notifications.calendar_feed(db.session, user, None, request.url_root)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="han-cong-viec.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
