"""The decision tables: `flask rules evaluate` (one case as JSON on stdin)."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from webapp.cli.common import fail
from webapp.extensions import db
from workflows import rules
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


COMMANDS = (rules_group,)
