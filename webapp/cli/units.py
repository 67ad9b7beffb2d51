"""Units: `flask units load-changes` loads the unit changes of docs/RULES.md §8 (2025 mergers, the end of districts);
`flask heads import FILE.csv` imports the heads' dates of office (A15)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import office_terms, unit_changes
from workflows.errors import WorkflowError

units_group = AppGroup("units", help="Units of the province as effective-dated records.")
heads_group = AppGroup("heads", help="Heads' dates of office, for the persons evaluated (A15).")


@units_group.command("load-changes")
def load_changes() -> None:
    """Apply the known changes (with their sources) not applied yet; the merged province's units are entered by hand."""
    count = unit_changes.load_known_changes(db.session)
    db.session.commit()
    click.echo(f"Applied {count} unit changes.")


@heads_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def heads_import(file: click.utils.LazyFile) -> None:
    """Import terms from FILE (unit_code,person_name,username,valid_from,valid_to,document): all rows or none; each
    bad row is named by its line (exit 2)."""
    try:
        count = office_terms.import_terms(db.session, None, file.read())
    except WorkflowError as error:
        db.session.rollback()
        fail(error)
    click.echo(f"Imported {count} terms of office.")


COMMANDS = (units_group, heads_group)
