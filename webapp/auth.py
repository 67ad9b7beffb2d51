"""Login and logout (Flask-Login); throttling, session versions and tokens are workflows/accounts.py's."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from webapp.extensions import db, login_manager
from workflows import accounts
from workflows.errors import InvalidInput
from workflows.models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # "<id>:<session version>" (User.get_id): a cookie from before a logout or password change loads nobody.
    return accounts.user_for_session(db.session, session_id)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password and start the session."""
    if current_user.is_authenticated:
        return redirect(url_for("tasks.inbox"))
    error = None
    username = request.form.get("username", "")
    if request.method == "POST":
        try:
            user = accounts.authenticate(db.session, username, request.form.get("password", ""), request.remote_addr)
        except InvalidInput as exc:
            error = exc.message
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.inbox")


@bp.post("/logout")
def logout():
    # The session lives in a signed cookie: only moving the version on makes a copy of it (or the remember cookie)
    # worthless. That ends the account's sessions on other devices too, which is what a shared office PC needs.
    if current_user.is_authenticated:
        accounts.end_all_sessions(db.session, current_user)
        db.session.commit()
    logout_user()
    flash(_("Bạn đã đăng xuất."))
    return redirect(url_for("auth.login"))


@bp.get("/")
def index():
    return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.login"))
