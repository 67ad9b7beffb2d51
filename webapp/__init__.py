"""The Flask application: server-rendered pages, the JSON API and the command line, over workflows/."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from config import CONFIGS, Config
from webapp.extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config_class: type[Config] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    config_class = config_class or CONFIGS[os.environ.get("FLASK_CONFIG", "development")]
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (environment variable SECRET_KEY)")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        if db.engine.url.get_backend_name() == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    from webapp import cli, errors, main

    app.register_blueprint(main.bp)
    errors.register(app)
    cli.register(app)
    return app


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    """WAL lets readers work while one action writes; NORMAL sync is safe with WAL; wait rather than fail on a lock."""
    cursor = connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
