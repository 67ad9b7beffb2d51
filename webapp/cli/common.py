"""What the commands share: how a domain error is reported (exit code 2)."""
from __future__ import annotations

import sys
from typing import NoReturn

import click

from workflows.errors import WorkflowError


def fail(error: WorkflowError) -> NoReturn:
    click.echo(f"Error: {error.message}", err=True)
    for field, problem in error.fields.items():
        click.echo(f"  {field}: {problem}", err=True)
    for problem in getattr(error, "problems", []):
        click.echo(f"  {problem}", err=True)
    sys.exit(2)
