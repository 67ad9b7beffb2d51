"""Earlier years' ICT ranks: `flask ranks import --year Y FILE.csv` (columns unit_code,rank,units)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import results
from workflows.errors import WorkflowError

ranks_group = AppGroup("ranks", help="ICT Index ranks of earlier years (for the two-consecutive-years rule).")


@ranks_group.command("import")
@click.option("--year", type=int, required=True, help="The year the ranks are of.")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def ranks_import(year: int, file: click.utils.LazyFile) -> None:
    """Import YEAR's ranks from FILE: all rows or none; each bad row is named by its line (exit 2)."""
    try:
        count = results.import_prior_ranks(db.session, year, file.read())
        db.session.commit()
    except WorkflowError as error:
        db.session.rollback()
        fail(error)
    click.echo(f"Imported {count} ranks for {year}.")


COMMANDS = (ranks_group,)
