"""The Flask application: server-rendered pages, the JSON API and the command line, over workflows/."""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import CONFIGS, Config
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.i18n import english, localize
from webapp.terms import process_name, step_name, term, unit_name
from workflows import connections, explanations
from workflows.calendar import LOCAL_TZ
from workflows.vocabulary import DATA_KEY_LABELS

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LANGUAGES = ("vi", "en")
MAX_ID = 2**31 - 1  # PostgreSQL's integer; the largest id, year or number a URL may carry


def create_app(config_class: type[Config] | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    config_class = config_class or CONFIGS[os.environ.get("FLASK_CONFIG", "development")]
    app.config.from_object(config_class)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        if app.config.get("SECRET_KEY_REQUIRED"):
            raise RuntimeError("SECRET_KEY must be set (environment variable SECRET_KEY)")
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    app.url_map.converters["int"] = BoundedIntConverter  # before any blueprint adds a rule
    if hops := app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # Evidence files: EVIDENCE_DIR (shared by every app server: docs/DEPLOY.md), else <instance>/evidence.
    app.config.setdefault("UPLOAD_DIR", os.environ.get("EVIDENCE_DIR") or str(Path(app.instance_path) / "evidence"))
    db.init_app(app)
    with app.app_context():
        connections.configure(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    Babel(app, locale_selector=_locale, default_locale="vi", default_timezone="Asia/Ho_Chi_Minh")
    explanations.use_english(english)  # the English sentence's clauses, from the same catalogue

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
        health,
        notifications,
        operations_cli,
        processes,
        statistics,
        supervise,
        tasks,
    )
    from webapp import logging as structured_logs

    for module in (auth, tasks, cycles, admin, notifications, calendar_admin, processes, definitions, supervise,
                   documents, statistics):
        app.register_blueprint(module.bp)
    api.init_app(app)
    errors.register(app)
    cli.register(app)
    operations_cli.register(app)  # audit verify/export, backup, restore
    health.init_app(app)  # /healthz, /readyz
    structured_logs.init_app(app)  # JSON logs with a request id
    app.context_processor(lambda: {"current_locale": str(get_locale())})
    app.jinja_env.filters["vndate"] = format_date
    app.jinja_env.filters["vndatetime"] = format_datetime
    app.jinja_env.filters["term"] = term  # domain words from workflows/ and bpmn/, in the page's language
    # steps, processes and units, likewise (terms.py)
    app.jinja_env.filters.update(step_name=step_name, unit_name=unit_name, process_name=process_name)
    app.jinja_env.filters["localize"] = localize  # messages from workflows/ (errors, field problems), likewise
    app.jinja_env.filters["data_label"] = data_label  # a variable or key of stored data, as people call it
    app.after_request(_security_headers)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)  # browsers ask for it on every page
    return app


def instance_secret_key(instance: Path) -> str:
    """The key in INSTANCE/secret_key, made at random on first start (mode 0600); several workers agree on it."""
    path = instance / "secret_key"
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: a worker starting at the same moment
        # either wins the link or reads the winner's complete key, never a half-written one.
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32) + "\n")
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it, or set SECRET_KEY")
    return key


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` with the bound every integer column has: a larger number is an unknown URL (404), not a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


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
    if current_app.config.get("HSTS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")
    return response
