"""`flask --app webapp <command>`: set-up, deployment, the cycle, the simulation and the decision tables."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.extensions import db
from workflows import cycles, definitions, demo, rules
from workflows.errors import WorkflowError


def _fail(error: WorkflowError) -> None:
    click.echo(f"Error: {error.message}", err=True)
    for field, problem in error.fields.items():
        click.echo(f"  {field}: {problem}", err=True)
    for problem in getattr(error, "problems", []):
        click.echo(f"  {problem}", err=True)
    sys.exit(2)


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the database schema (Alembic migrations)."""
        from flask_migrate import upgrade

        upgrade()
        click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")

    @app.cli.command("deploy")
    def deploy() -> None:
        """Deploy bpmn/*.bpmn and *.dmn as new definition versions where they changed."""
        try:
            for d in definitions.deploy_directory(db.session):
                click.echo(f"{d.process_key}: version {d.version} ({'new' if d.created else 'unchanged'})")
            db.session.commit()
        except WorkflowError as error:
            _fail(error)

    @app.cli.command("seed-demo")
    @click.option("--password", default=None, help="One password for every demo login (default: demo-<username>).")
    def seed_demo(password: str | None) -> None:
        """Create every unit, one login per role and per unit, and deploy the definitions."""
        try:
            credentials = demo.seed(db.session, password)
        except WorkflowError as error:
            _fail(error)
        click.echo(f"{'username':<22} {'password':<24} role")
        for username, pw, role in credentials:
            click.echo(f"{username:<22} {pw:<24} {role}")

    cycle_group = AppGroup("cycle", help="The annual cycle.")

    @cycle_group.command("open")
    @click.option("--year", type=int, required=True)
    @click.option("--report-due", default=None, help="Report deadline, yyyy-mm-dd (default 15/12 of the year).")
    def cycle_open(year: int, report_due: str | None) -> None:
        """Open YEAR: start the cycle and one report per unit."""
        try:
            cycle = cycles.open_cycle(db.session, year, report_due or date(year, 12, 15).isoformat(), actor=None)
        except WorkflowError as error:
            _fail(error)
        click.echo(f"Cycle {cycle.year} opened; reports due {cycle.report_due:%d/%m/%Y}.")

    app.cli.add_command(cycle_group)

    @app.cli.command("tick")
    @click.option("--now", default=None, help="ISO datetime to use as the current time (tests, demos).")
    def tick(now: str | None) -> None:
        """One pass of the timer worker: fire due timers and move waiting cycles on."""
        moment = datetime.fromisoformat(now) if now else None
        if moment is not None and moment.tzinfo is None:
            from workflows.calendar import LOCAL_TZ

            moment = moment.replace(tzinfo=LOCAL_TZ)
        moved = cycles.fire_due(db.session, moment)
        click.echo(f"{moved} instance(s) moved on.")

    @app.cli.command("simulate")
    @click.option("--year", type=int, required=True)
    @click.option("--agencies", type=int, default=28, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True)
    @click.option("--json-timings", type=click.Path(), default=None, help="Write per-completion timings here.")
    def simulate(year: int, agencies: int, seed: int, json_timings: str | None) -> None:
        """Drive a whole cycle through the service layer as each role would, and print each unit's outcome."""
        try:
            result = demo.simulate(db.session, year, agencies, seed)
        except WorkflowError as error:
            _fail(error)
        click.echo(demo.format_summary(result))
        if json_timings:
            with open(json_timings, "w", encoding="utf-8") as out:
                json.dump(result.timings_dict(), out)

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
            _fail(error)
        keys = ("rating", "sanction", "reward", "reasons", "articles", "rating_vi", "sanction_vi")
        click.echo(json.dumps({k: outcome[k] for k in keys}, ensure_ascii=False, indent=2))

    app.cli.add_command(rules_group)
