"""Fixtures: a Flask-free session on SQLite (or PostgreSQL when TEST_DATABASE_URL is set), the app, demo data.

On PostgreSQL the schema is built once per run and each test runs in one connection's transaction, rolled back at its
end: `session` and the app's `db.session` both join it through SAVEPOINTs (`join_transaction_mode="create_savepoint"`),
so the code's commits and rollbacks behave as usual. A test that asks for `db_engine` itself (other connections,
threads, migrations) or is marked `committed_database` gets the real engine instead; the tables are emptied after it.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import testdb
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from testdb import make_engine  # noqa: E402  (shared with tests/e2e)

from workflows import cache, users


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "committed_database: on PostgreSQL, run on real commits (tables emptied after)")


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    # Every test opens a new database whose ids repeat the last one's: nothing cached may carry over.
    cache.clear_all()
    yield
    cache.clear_all()


@pytest.fixture(autouse=True)
def empty_committed_tables() -> Iterator[None]:
    # Torn down after every other fixture of the test, so its engines and connections are closed by then.
    yield
    testdb.truncate_if_used()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # scrypt at its production cost takes ~50 ms a user; tests create hundreds.
    monkeypatch.setattr(users, "_SCRYPT", {"n": 2**4, "r": 8, "p": 1})


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine | None]:
    """The PostgreSQL test database's engine for the whole run (its schema built once), or None on SQLite."""
    if not testdb.ON_POSTGRES:
        yield None
        return
    engine = make_engine()
    yield engine
    engine.dispose()


def _committed(request: pytest.FixtureRequest) -> bool:
    # Nothing else asks for db_engine by name: a test that does (itself or through a fixture) wants real commits.
    node = request.node
    return "db_engine" in getattr(node, "fixturenames", ()) or node.get_closest_marker("committed_database") is not None


@pytest.fixture
def db_engine(postgres_engine: Engine | None) -> Iterator[Engine]:
    """A real engine: a fresh in-memory SQLite, or the PostgreSQL test database (emptied after the test)."""
    if postgres_engine is None:
        engine = make_engine()
        yield engine
        engine.dispose()
        return
    testdb.will_commit(postgres_engine.url.render_as_string(hide_password=False))
    yield postgres_engine


@pytest.fixture
def db_bind(request: pytest.FixtureRequest, postgres_engine: Engine | None) -> Iterator[Engine | Connection]:
    """What the test's sessions bind to: the engine, or on PostgreSQL a connection whose transaction is rolled back
    at the end of the test."""
    if postgres_engine is None or _committed(request):
        yield request.getfixturevalue("db_engine")
        return
    with postgres_engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                transaction.rollback()


def _engine(bind: Engine | Connection) -> Engine:
    return bind.engine if isinstance(bind, Connection) else bind


@pytest.fixture
def session(db_bind: Engine | Connection) -> Iterator[Session]:
    with Session(db_bind, expire_on_commit=False, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def app(db_bind: Engine | Connection):
    """The Flask app on the test database (TEST_DATABASE_URL or in-memory SQLite), with bpmn/ deployed."""
    from config import TestConfig
    from webapp import create_app
    from webapp.extensions import db
    from workflows import definitions
    from workflows.units import load_units

    engine = _engine(db_bind)

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = str(engine.url.render_as_string(hide_password=False))
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            if engine.url.get_backend_name() == "sqlite" else {}
        )

    app = create_app(Config)
    options = db.session.session_factory.kw
    with app.app_context():
        own_engine = db.engines[None]  # type: ignore[index]
        if engine.url.get_backend_name() == "sqlite":
            # in-memory SQLite lives in one connection: share the fixture's so both see the same tables
            db.engines[None] = engine  # type: ignore[index]
        elif isinstance(db_bind, Connection):
            # the test's transaction: the app's sessions join it through savepoints, rolled back with it
            db.session.remove()
            db.engines[None] = db_bind  # type: ignore[index]
            options["join_transaction_mode"] = "create_savepoint"
        load_units(db.session)
        definitions.deploy_directory(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
    options.pop("join_transaction_mode", None)
    if own_engine is not engine:
        own_engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
