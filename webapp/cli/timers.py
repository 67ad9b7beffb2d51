"""The timer worker: one pass (`flask tick`) or a loop until stopped (`flask worker`)."""
from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db
from workflows import collector, worker
from workflows.calendar import LOCAL_TZ


def parse_now(text: str | None) -> datetime | None:
    """`--now`: an ISO datetime; one without a zone is local time (Asia/Ho_Chi_Minh)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def worker_settings() -> dict[str, Any]:
    """The worker's configuration; e-mail goes to <instance>/outbox when neither SMTP nor a folder is set."""
    app = current_app
    settings = dict(app.config)
    settings["MAIL_OUTBOX_DIR"] = app.config.get("MAIL_OUTBOX_DIR") or str(Path(app.instance_path) / "outbox")
    return settings


@click.command("tick")
@click.option("--now", default=None, help="ISO datetime to use as the current time (local if no zone).")
@with_appcontext
def tick(now: str | None) -> None:
    """One pass of the timer worker: timers, reminders, overdue notices, escalation, the digest."""
    try:
        moment = parse_now(now)
    except ValueError:
        click.echo(f"Error: --now is not an ISO datetime: {now}", err=True)
        sys.exit(2)
    counts = worker.run_pass(db.session, moment, worker_settings())
    click.echo(str(counts))
    for problem in counts.errors:
        click.echo(f"Error: {problem}", err=True)


@click.command("worker")
@click.option("--interval", type=int, default=None, help="Seconds between passes [WORKER_INTERVAL_SECONDS].")
@click.option("--passes", type=int, default=0, help="Stop after this many passes (default: run until stopped).")
@with_appcontext
def worker_loop(interval: int | None, passes: int) -> None:
    """Run the timer worker until SIGTERM or Ctrl-C: one pass every WORKER_INTERVAL_SECONDS."""
    seconds = current_app.config["WORKER_INTERVAL_SECONDS"] if interval is None else interval
    settings = worker_settings()
    collector.tune_for_server()  # a long-running process, as an app server is
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


COMMANDS = (tick, worker_loop)
