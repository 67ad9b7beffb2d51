"""Fixtures: a Flask-free session on SQLite (or PostgreSQL when TEST_DATABASE_URL is set), the app, demo data."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from testdb import make_engine  # noqa: E402  (shared with tests/e2e)

from workflows import cache, users


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    # Every test opens a new database whose ids repeat the last one's: nothing cached may carry over.
    cache.clear_all()
    yield
    cache.clear_all()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # scrypt at its production cost takes ~50 ms a user; tests create hundreds.
    monkeypatch.setattr(users, "_SCRYPT", {"n": 2**4, "r": 8, "p": 1})


@pytest.fixture
def db_engine() -> Iterator[Engine]:
    engine = make_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with Session(db_engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(db_engine: Engine):
    """The Flask app on the test database (TEST_DATABASE_URL or in-memory SQLite), with bpmn/ deployed."""
    from config import TestConfig
    from webapp import create_app
    from webapp.extensions import db
    from workflows import definitions
    from workflows.units import load_units

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = str(db_engine.url.render_as_string(hide_password=False))
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            if db_engine.url.get_backend_name() == "sqlite" else {}
        )

    app = create_app(Config)
    with app.app_context():
        if db_engine.url.get_backend_name() == "sqlite":
            # in-memory SQLite lives in one connection: share the fixture's so both see the same tables
            db.engines[None] = db_engine  # type: ignore[index]
        load_units(db.session)
        definitions.deploy_directory(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            if engine is not db_engine:
                engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
