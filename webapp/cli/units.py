"""Units: `flask units load-changes` loads the unit changes of docs/RULES.md §8 (2025 mergers, the end of districts)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.extensions import db
from workflows import unit_changes

units_group = AppGroup("units", help="Units of the province as effective-dated records.")


@units_group.command("load-changes")
def load_changes() -> None:
    """Apply the known changes (with their sources) not applied yet; the merged province's units are entered by hand."""
    count = unit_changes.load_known_changes(db.session)
    db.session.commit()
    click.echo(f"Applied {count} unit changes.")


COMMANDS = (units_group,)
