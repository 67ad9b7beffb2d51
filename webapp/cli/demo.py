"""The demonstration: demo logins and data, and a whole simulated cycle."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import demo
from workflows.errors import WorkflowError


@click.command("seed-demo")
@click.option("--password", default=None, help="One password for every demo login (default: demo-<username>).")
@with_appcontext
def seed_demo(password: str | None) -> None:
    """Create every unit, one login per role and per unit, and deploy the definitions."""
    try:
        credentials = demo.seed(db.session, password)
    except WorkflowError as error:
        fail(error)
    click.echo(f"{'username':<22} {'password':<24} role")
    for username, pw, role in credentials:
        click.echo(f"{username:<22} {pw:<24} {role}")


@click.command("simulate")
@click.option("--year", type=int, required=True)
@click.option("--agencies", type=int, default=28, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json-timings", type=click.Path(), default=None, help="Write per-completion timings here.")
@with_appcontext
def simulate(year: int, agencies: int, seed: int, json_timings: str | None) -> None:
    """Drive a whole cycle through the service layer as each role would, and print each unit's outcome."""
    try:
        result = demo.simulate(db.session, year, agencies, seed)
    except WorkflowError as error:
        fail(error)
    click.echo(demo.format_summary(result))
    if json_timings:
        with open(json_timings, "w", encoding="utf-8") as out:
            json.dump(result.timings_dict(), out)


COMMANDS = (seed_demo, simulate)
