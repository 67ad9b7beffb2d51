"""The test database: in-memory SQLite by default, or the PostgreSQL database named by TEST_DATABASE_URL."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from config import database_url
from workflows.models import Base

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def make_engine(url: str | None = None) -> Engine:
    """A fresh, empty database: in-memory SQLite, or the PostgreSQL test database emptied first."""
    url = database_url(url or TEST_DATABASE_URL or "sqlite://")
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
        Base.metadata.create_all(engine)
        return engine
    engine = create_engine(url)
    # Start from an empty schema, whatever an earlier (maybe interrupted) run or migration test left behind.
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    return engine


