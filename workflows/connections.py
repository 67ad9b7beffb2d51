"""What every database connection of the app gets, whoever made the engine (the web app, the timer worker, a benchmark).

- **SQLite:** WAL, so readers work while one action writes; `synchronous=NORMAL`, which is safe with WAL; foreign
  keys on; wait for a lock rather than fail at once.
- **PostgreSQL: a transaction that only read ends with COMMIT instead of ROLLBACK**, so that the connection keeps its
  prepared statements. psycopg prepares a statement on a connection once it has sent it five times
  (`prepare_threshold`), and from then on the server neither parses nor plans it again: measured here, 0.1–0.4 ms of
  the server's time per statement of a completion. But psycopg forgets every prepared statement at a ROLLBACK (a
  rolled-back DDL may have made them stale) and sends `DEALLOCATE ALL` before its next statement. Every request that
  only reads (the inbox, a page, the readiness probe) closes its session with a rollback, so a server that mixes
  reads and completions, as every server does, never kept a prepared statement for long. For a transaction that sent
  nothing but plain SELECTs, COMMIT and ROLLBACK end it alike: it made no change, holds no row lock, and its advisory
  locks end either way. Any other statement (INSERT, UPDATE, DELETE, a writable CTE, DDL, a SAVEPOINT, `SELECT … FOR
  UPDATE`) marks the transaction as writing, and it is rolled back as before; so is a transaction in error.

A SELECT must therefore never call a function that changes data (the only function called in one, `nextval`, is
outside transactions anyway). docs/DEPLOY.md, "PostgreSQL connections".
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000")

# A plain SELECT, possibly after comments or whitespace, without a row-locking clause.
_STARTS_WITH_SELECT = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*SELECT\b", re.IGNORECASE | re.DOTALL)
_LOCKS_ROWS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_WROTE = "transaction_wrote"  # in Connection.info: the transaction sent something other than a plain SELECT


def configure(engine: Engine) -> None:
    """Install the hooks that ENGINE's backend needs; once per engine."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    elif backend == "postgresql":
        event.listen(engine, "begin", _begun)
        event.listen(engine, "before_cursor_execute", _seen)
        event.listen(engine, "rollback", _end_read_only_with_commit)


def sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def only_reads(statement: str) -> bool:
    """True for a plain SELECT: one that neither writes nor locks rows."""
    return bool(_STARTS_WITH_SELECT.match(statement)) and not _LOCKS_ROWS.search(statement)


def _begun(connection: Connection) -> None:
    connection.info[_WROTE] = False


def _seen(connection: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
    if not connection.info.get(_WROTE, True) and not only_reads(statement):
        connection.info[_WROTE] = True


def _end_read_only_with_commit(connection: Connection) -> None:
    # Called just before SQLAlchemy rolls the transaction back. psycopg's rollback() returns at once, forgetting
    # nothing, when the connection is no longer in a transaction, which a COMMIT here has made it.
    if connection.info.get(_WROTE, True) or connection.invalidated or connection.closed:
        return
    from psycopg.pq import TransactionStatus  # only a PostgreSQL engine gets this hook

    driver = connection.connection.driver_connection
    if driver is None or driver.info.transaction_status != TransactionStatus.INTRANS:
        return  # in error, or idle: the rollback does what it must
    try:
        driver.commit()
    except Exception:  # noqa: BLE001 - the rollback that follows ends the transaction, or reports the broken link
        return
