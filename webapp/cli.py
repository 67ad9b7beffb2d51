"""`flask --app webapp <command>`: set-up, deployment, the cycle, the simulation and the decision tables."""
from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.extensions import db
from workflows import cycles, definitions, demo, rules, worker
from workflows.calendar import LOCAL_TZ
from workflows.errors import WorkflowError


def _fail(error: WorkflowError) -> None:
    click.echo(f"Error: {error.message}", err=True)
    for field, problem in error.fields.items():
        click.echo(f"  {field}: {problem}", err=True)
    for problem in getattr(error, "problems", []):
        click.echo(f"  {problem}", err=True)
    sys.exit(2)


def _parse_now(text: str | None) -> datetime | None:
    """`--now`: an ISO datetime; one without a zone is local time (Asia/Ho_Chi_Minh)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _worker_settings(app: Flask) -> dict[str, Any]:
    """The worker's configuration; e-mail goes to <instance>/outbox when neither SMTP nor a folder is set."""
    settings = dict(app.config)
    settings["MAIL_OUTBOX_DIR"] = app.config.get("MAIL_OUTBOX_DIR") or str(Path(app.instance_path) / "outbox")
    return settings


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
    @click.option("--now", default=None, help="ISO datetime to use as the current time (local if no zone).")
    def tick(now: str | None) -> None:
        """One pass of the timer worker: timers, reminders, overdue notices, escalation, the digest."""
        try:
            moment = _parse_now(now)
        except ValueError:
            click.echo(f"Error: --now is not an ISO datetime: {now}", err=True)
            sys.exit(2)
        counts = worker.run_pass(db.session, moment, _worker_settings(app))
        click.echo(str(counts))
        for problem in counts.errors:
            click.echo(f"Error: {problem}", err=True)

    @app.cli.command("worker")
    @click.option("--interval", type=int, default=None, help="Seconds between passes [WORKER_INTERVAL_SECONDS].")
    @click.option("--passes", type=int, default=0, help="Stop after this many passes (default: run until stopped).")
    def worker_loop(interval: int | None, passes: int) -> None:
        """Run the timer worker until SIGTERM or Ctrl-C: one pass every WORKER_INTERVAL_SECONDS."""
        seconds = app.config["WORKER_INTERVAL_SECONDS"] if interval is None else interval
        settings = _worker_settings(app)
        stop = threading.Event()
        restore = None
        if threading.current_thread() is threading.main_thread():
            restore = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        click.echo(f"Worker started: a pass every {seconds} s.")
        done = 0
        try:
            while not stop.is_set():
                try:
                    counts = worker.run_pass(db.session, None, settings)
                except Exception as error:  # one bad pass (a lost connection…) must not stop the worker
                    db.session.rollback()
                    click.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S} pass failed: {error!r}", err=True)
                else:
                    if any(v for k, v in counts.as_dict().items() if k != "tasks"):
                        click.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S} {counts}")
                    for problem in counts.errors:
                        click.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S} {problem}", err=True)
                done += 1
                if passes and done >= passes:
                    break
                stop.wait(seconds)
        except KeyboardInterrupt:
            pass
        finally:
            if restore is not None:
                signal.signal(signal.SIGTERM, restore)
            db.session.remove()
        click.echo("Worker stopped.")

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
