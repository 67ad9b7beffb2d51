"""Set-up and deployment: the schema, the process definitions."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import definitions
from workflows.errors import WorkflowError


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("deploy")
@with_appcontext
def deploy() -> None:
    """Deploy bpmn/*.bpmn and *.dmn as new definition versions where they changed."""
    try:
        for d in definitions.deploy_directory(db.session):
            click.echo(f"{d.process_key}: version {d.version} ({'new' if d.created else 'unchanged'})")
        db.session.commit()
    except WorkflowError as error:
        fail(error)


COMMANDS = (init_db, deploy)
