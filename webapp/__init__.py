"""The Flask application: server-rendered pages, the JSON API and the command line, over workflows/."""
from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from sqlalchemy import event

from config import CONFIGS, Config
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.i18n import localize
from webapp.terms import term
from workflows.calendar import LOCAL_TZ
from workflows.vocabulary import DATA_KEY_LABELS

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LANGUAGES = ("vi", "en")


def create_app(config_class: type[Config] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    config_class = config_class or CONFIGS[os.environ.get("FLASK_CONFIG", "development")]
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (environment variable SECRET_KEY)")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("UPLOAD_DIR", str(Path(app.instance_path) / "evidence"))
    db.init_app(app)
    with app.app_context():
        if db.engine.url.get_backend_name() == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    Babel(app, locale_selector=_locale, default_locale="vi", default_timezone="Asia/Ho_Chi_Minh")

    from webapp import (
        admin,
        api,
        auth,
        calendar_admin,
        cli,
        cycles,
        definitions,
        documents,
        errors,
        notifications,
        processes,
        supervise,
        tasks,
    )

    for module in (auth, tasks, cycles, admin, notifications, calendar_admin, processes, definitions, supervise,
                   documents):
        app.register_blueprint(module.bp)
    api.init_app(app)
    errors.register(app)
    cli.register(app)
    app.context_processor(lambda: {"current_locale": str(get_locale())})
    app.jinja_env.filters["vndate"] = format_date
    app.jinja_env.filters["vndatetime"] = format_datetime
    app.jinja_env.filters["term"] = term  # domain words from workflows/ and bpmn/, in the page's language
    app.jinja_env.filters["localize"] = localize  # messages from workflows/ (errors, field problems), likewise
    app.jinja_env.filters["data_label"] = data_label  # a variable or key of stored data, as people call it
    app.after_request(_security_headers)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)  # browsers ask for it on every page
    return app


def _favicon():  # noqa: ANN202 - Flask response
    return current_app.send_static_file("favicon.svg")


def data_label(key: str) -> str:
    """KEY of process data (a decision table's input variable, a stored key) in words, in the page's language."""
    return localize(DATA_KEY_LABELS[key]) if key in DATA_KEY_LABELS else key


def _locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang", "vi")


def format_date(value: date | str | None) -> str:
    """Dates as Vietnamese civil servants write them: dd/mm/yyyy."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # stored as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def _security_headers(response):  # noqa: ANN001, ANN202 - Flask response object
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")
    return response


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    """WAL lets readers work while one action writes; NORMAL sync is safe with WAL; wait rather than fail on a lock."""
    cursor = connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
