"""The test database: in-memory SQLite by default, or the PostgreSQL database named by TEST_DATABASE_URL.

On PostgreSQL the schema is built once per test run (`make_engine`'s first call); tests then run inside a transaction
rolled back at their end (tests/conftest.py). A test that needs real commits seen by other connections (threads
racing, a live server, migrations) gets an engine on the same database; `truncate_if_used` empties the tables after it.
"""
from __future__ import annotations

import os

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from config import database_url
from workflows import connections
from workflows.models import Base

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL) and not database_url(TEST_DATABASE_URL).startswith("sqlite")

_schema_built: set[str] = set()  # the PostgreSQL URLs whose schema this run has built
_committed_to: set[str] = set()  # ... and those a test may have committed to since the last truncation


def make_engine(url: str | None = None) -> Engine:
    """An empty database: a new in-memory SQLite, or the PostgreSQL test database (its schema built once per run).

    On PostgreSQL whatever the caller commits is removed after its test by `truncate_if_used`.
    """
    url = database_url(url or TEST_DATABASE_URL or "sqlite://")
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
        Base.metadata.create_all(engine)
        return engine
    engine = create_engine(url)
    connections.configure(engine)  # as the app's engine: read-only transactions end with COMMIT
    if url not in _schema_built:
        # Start from an empty schema, whatever an earlier (maybe interrupted) run or migration test left behind.
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(engine)
        _schema_built.add(url)
    will_commit(url)
    return engine


def will_commit(url: str) -> None:
    """A test commits to the database at URL: `truncate_if_used` empties it after the test."""
    _committed_to.add(url)


def truncate_if_used() -> None:
    """Empty every table of the PostgreSQL test databases a test was handed a committing engine for."""
    while _committed_to:
        engine = create_engine(_committed_to.pop())
        try:
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))  # a connection left open fails loudly
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()
