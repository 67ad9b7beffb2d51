"""Schema changes go through Alembic: the migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from workflows.models import SQLITE_EVENTS_TRIGGER, Base


def test_migrations_build_the_schema_of_the_models(app, db_engine):
    from webapp.extensions import db

    with app.app_context():
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            tables = set(inspect(connection).get_table_names())
            triggers = [SQLITE_EVENTS_TRIGGER]  # PostgreSQL has none: its CTE needs no trigger
            if connection.dialect.name == "sqlite":
                triggers = list(connection.scalars(text("SELECT sql FROM sqlite_master WHERE type = 'trigger'")))
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    assert differences == []
    assert {"human_task", "process_instance", "audit_event", "evaluation", "definition_version"} <= tables
    # SQLite: the trigger that writes a save's audit events, as the models create it. A later migration that rebuilds
    # process_instance (Alembic's batch mode copies the table) drops it, and must create it again.
    assert triggers == [SQLITE_EVENTS_TRIGGER]
