"""Probes for the proxy and the orchestrator: /healthz (the process answers) and /readyz (it can serve)."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from webapp.extensions import csrf, db

bp = Blueprint("health", __name__)
_heads: set[str] = set()


def migration_heads() -> set[str]:
    """The head revision(s) of migrations/: what a current database is at (read once, files do not change)."""
    if not _heads:
        from webapp import MIGRATIONS_DIR

        _heads.update(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    return _heads


@bp.get("/healthz")
def healthz():  # noqa: ANN201 - a Flask response
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # noqa: ANN201 - a Flask response
    """Ready when the database answers and its schema is at the migrations' head: else 503, so no traffic comes."""
    try:
        connection = db.session.connection()  # the request's own connection, from the pool every view uses
        connection.execute(text("SELECT 1"))
        current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # noqa: BLE001 - any failure to reach the database means "not ready"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable", error=type(error).__name__), 503
    expected = migration_heads()
    if current != expected:
        return jsonify(status="unavailable", database="reachable", migrations="behind",
                       current=sorted(current), expected=sorted(expected)), 503
    return jsonify(status="ok", database="reachable", migrations="current", revision=sorted(current))


csrf.exempt(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
