"""Login and logout (Flask-Login); throttling, session versions and tokens are workflows/accounts.py's."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from webapp.extensions import db, login_manager
from webapp.security import requires
from workflows import accounts, permissions
from workflows.errors import InvalidInput, NotFound
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


@bp.get("/account")
@login_required
def account():
    """The signed-in person's password form and API tokens (never the tokens themselves), each revocable."""
    return _account_page()


def _account_page(errors: dict | None = None, status: int = 200):
    return render_template("auth/account.html", tokens=accounts.list_tokens(db.session, current_user),
                           errors=errors or {}), status


@bp.post("/account/password")
@login_required
def change_password():
    """Change one's own password; other devices are signed out, this browser stays signed in."""
    form = request.form
    try:
        accounts.change_own_password(db.session, current_user, form.get("current_password", ""),
                                     form.get("password", ""), form.get("password_confirm", ""), request.remote_addr)
    except InvalidInput as error:
        db.session.rollback()
        return _account_page(error.fields, 422)
    # The session version moved on with the password: sign this browser in again under the new one.
    login_user(current_user._get_current_object(), remember="remember_token" in request.cookies)
    flash(_("Đã đổi mật khẩu. Các thiết bị khác đã được đăng xuất."))
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    accounts.revoke_token(db.session, token_id, current_user)
    db.session.commit()
    flash(_("Đã thu hồi mã truy cập."))
    return redirect(url_for("auth.account"), code=303)


@bp.post("/admin/users/<int:user_id>/end-sessions")
@requires(permissions.may_manage_users)
def end_sessions(user_id: int):
    """An administrator signs a person out everywhere and revokes every API token (a lost laptop, a leaver)."""
    target = db.session.get(User, user_id)
    if target is None:
        raise NotFound(_("Không có người dùng này."))
    revoked = accounts.end_everything(db.session, target)
    db.session.commit()
    flash(_("Đã đăng xuất %(username)s trên mọi thiết bị và thu hồi %(count)s mã truy cập.",
            username=target.username, count=revoked))
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@bp.get("/")
def index():
    return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.login"))
