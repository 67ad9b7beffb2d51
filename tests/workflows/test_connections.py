"""PostgreSQL keeps its prepared statements across requests that only read; what wrote is still rolled back."""
from __future__ import annotations

import pytest
import testdb
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from workflows import connections
from workflows.models import Unit

on_postgres = pytest.mark.skipif(not testdb.ON_POSTGRES, reason="psycopg's prepared statements: PostgreSQL only")


@pytest.mark.parametrize(("statement", "reads"), [
    ("SELECT human_task.id FROM human_task WHERE human_task.id = %(id)s", True),
    ("  -- the inbox\n  select 1", True),
    ("/* a comment */ SELECT 1", True),
    ("SELECT cycle.id FROM cycle WHERE cycle.id = %(id)s FOR UPDATE", False),
    ("SELECT id FROM report FOR NO KEY UPDATE", False),
    ("SELECT id FROM report FOR SHARE", False),
    ("select id from report for key share", False),
    ("WITH saved AS (UPDATE process_instance SET status = 'x' RETURNING id) SELECT id FROM saved", False),
    ("INSERT INTO audit_event (kind) VALUES ('x')", False),
    ("UPDATE report SET outcome = NULL", False),
    ("DELETE FROM report", False),
    ("SAVEPOINT sa_savepoint_1", False),
    ("CREATE TABLE t (id int)", False),
    ("SELECTED", False),
])
def test_only_a_plain_select_counts_as_reading(statement, reads):
    assert connections.only_reads(statement) is reads


@pytest.fixture
def one_connection(postgres_engine):
    """An engine of the app's kind on the test database, with a single connection that every session reuses."""
    engine = create_engine(postgres_engine.url, poolclass=StaticPool)
    connections.configure(engine)
    testdb.will_commit(testdb.TEST_DATABASE_URL)
    yield engine
    engine.dispose()


def _prepared(session: Session) -> list[str]:
    return list(session.scalars(text("SELECT statement FROM pg_prepared_statements")))


@on_postgres
def test_requests_that_only_read_leave_the_connection_its_prepared_statements(one_connection):
    inbox = select(Unit.code).where(Unit.code == "STTTT")
    for _ in range(8):  # psycopg prepares a statement the sixth time it is sent
        with Session(one_connection) as session:  # a GET request: closed without commit
            session.execute(inbox).all()
    with Session(one_connection) as session:
        assert any("FROM unit" in statement for statement in _prepared(session))
        # and a request that wrote and was rolled back still ends as psycopg expects: its statements forgotten
        session.execute(text("UPDATE unit SET code = code WHERE code = 'none'"))
    with Session(one_connection) as session:
        assert not any("FROM unit" in statement for statement in _prepared(session))


@on_postgres
def test_what_a_transaction_wrote_is_rolled_back_not_committed(one_connection):
    with Session(one_connection) as session:
        session.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS kept (n int)"))
        session.commit()
    with Session(one_connection) as session:
        session.execute(text("INSERT INTO kept VALUES (1)"))
        session.execute(text("SELECT n FROM kept")).all()  # a read after the write does not make it read-only
    with Session(one_connection) as session:  # closed: rolled back
        session.execute(text("SELECT n FROM kept FOR UPDATE")).all()
    with Session(one_connection) as session:
        assert session.scalar(text("SELECT count(*) FROM kept")) == 0


@on_postgres
def test_a_failed_read_is_rolled_back_and_the_connection_works_on(one_connection):
    with Session(one_connection) as session:
        with pytest.raises(Exception, match="no_such_table"):
            session.execute(text("SELECT * FROM no_such_table")).all()
    with Session(one_connection) as session:
        assert session.scalar(text("SELECT 1")) == 1
