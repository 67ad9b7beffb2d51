"""The annual cycle: `flask cycle open`."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import cycles
from workflows.errors import WorkflowError

cycle_group = AppGroup("cycle", help="The annual cycle.")


@cycle_group.command("open")
@click.option("--year", type=int, required=True)
@click.option("--report-due", default=None, help="Report deadline, yyyy-mm-dd (default 15/12 of the year).")
@click.option("--confirm-late", is_flag=True, help="Open although the deadline has passed; DIC closes reporting.")
def cycle_open(year: int, report_due: str | None, confirm_late: bool) -> None:
    """Open YEAR: start the cycle and one report per unit. A deadline in the past needs --confirm-late."""
    try:
        cycle = cycles.open_cycle(db.session, year, report_due or date(year, 12, 15).isoformat(), actor=None,
                                  confirm_late=confirm_late)
    except WorkflowError as error:
        fail(error)
    click.echo(f"Cycle {cycle.year} opened; reports due {cycle.report_due:%d/%m/%Y}.")


COMMANDS = (cycle_group,)
