"""The decision tables: `flask rules evaluate` (one case as JSON on stdin); the year's settings they read:
`flask rules settings YEAR` and `flask rules set YEAR KEY VALUE` (VALUE as JSON: 0.25, ["M1.5.1"], null)."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import rules, settings
from workflows.errors import WorkflowError

rules_group = AppGroup("rules", help="The decision tables of Điều 15–17.")


@rules_group.command("evaluate")
def rules_evaluate() -> None:
    """Read one case as JSON on stdin; print the proposed rating, sanction and reward as JSON."""
    try:
        case = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        click.echo(f"Error: input is not JSON: {exc}", err=True)
        sys.exit(2)
    try:
        outcome = rules.evaluate(db.session, case)
    except WorkflowError as error:
        fail(error)
    keys = ("rating", "sanction", "reward", "reasons", "articles", "rating_vi", "sanction_vi")
    click.echo(json.dumps({k: outcome[k] for k in keys}, ensure_ascii=False, indent=2))


@rules_group.command("settings")
@click.argument("year", type=click.IntRange(1990, 2200))
def rules_settings(year: int) -> None:
    """Print YEAR's settings (top_share, bottom_share, critical_criteria, revision_wd, head_min_months)."""
    for key, value, default in settings.values_of_year(db.session, year):
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}{'  (default)' if default else ''}")


@rules_group.command("set")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.argument("key")
@click.argument("value")
def rules_set(year: int, key: str, value: str) -> None:
    """Set one of YEAR's settings to VALUE (JSON); the change is audited. A decided year is refused."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        click.echo(f"Error: VALUE is not JSON: {value} (e.g. 0.25, 5, [\"M1.5.1\"] or null)", err=True)
        sys.exit(2)
    try:
        settings.change(db.session, None, year, key, parsed)
    except WorkflowError as error:
        fail(error)
    click.echo(f"{key} = {json.dumps(parsed, ensure_ascii=False)} for {year}.")


COMMANDS = (rules_group,)
