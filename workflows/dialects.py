"""SQL that the two supported databases write differently: `INSERT … ON CONFLICT`, which both have in their own dialect.

Used where several app servers or workers may write the same row at the same moment (notifications, sign-in
counters, per-unit drafts): the database settles the race in one statement instead of a read-then-write.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert(session: Session, table: Any) -> Any:
    """An INSERT into TABLE with `on_conflict_do_nothing` / `on_conflict_do_update`, in the session's dialect."""
    name = session.get_bind().dialect.name
    if name not in _INSERTS:  # pragma: no cover - the project supports these two
        raise NotImplementedError(f"PostgreSQL or SQLite is needed, not {name}")
    return _INSERTS[name](table)
