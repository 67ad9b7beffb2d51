"""Faults: two app servers and two timer workers on one PostgreSQL database, SIGKILLed while they work.

    python bench/faults.py --database-url postgresql://postgres@127.0.0.1:5432/SCRATCH_DB
                           [--agencies 28] [--fault 0.1] [--kill-every 3.0] [--seed 1]

The database is EMPTIED, then: the agencies, their people and tokens, the year opened (bench/load.py's `prepare`).
Started on 127.0.0.1 only: two gunicorn app servers (ports of their own, 2 worker processes each) and two
`flask --app webapp worker` processes (a pass a second; the drafting tasks are made three days overdue first, so
that they have overdue notices and escalations to write while the reports are being done).
Every one of them runs with FAULT_AFTER_ENGINE_STEP=FAULT: at each commit, with that probability, the process SIGKILLs
itself after the engine step and every write, before the transaction commits (workflows/runtime.py). On top of that,
every KILL_EVERY seconds one of the four (a whole app server: master and workers; or a timer worker) is SIGKILLed from
outside, at a random moment, and started again.

Two clients, each taking half the units, do every report as its officer, head and DIC would, alternating between
the two servers request by request; then one client carries the cycle to the Committee's decision (consolidation,
evaluation, the reviews, the decision: the province-wide completions, under the same faults). A request cut off by a
dying server is sent again (to the other server, or after the restart) until it gets an answer: success, or 409
Conflict when the first attempt had committed before the server died (the client then moves on, as a person would
after reloading). Any other answer is an error.

Then the checks (bench/load.py's `check`, plus the client's view): every agency task completed exactly once and
audited once, every audit chain intact (`audit.verify`), every instance's ready tasks in the engine equal to its open
task rows, the cycle decided; every completion a client saw succeed or conflict is completed in the database; no
reminder sent twice. Exit status 1 if any check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402 - bench/load.py: prepare, check, finish_cycle, the API client

BIN = Path(sys.executable).parent


class RetryingApi(load.Api):
    """The load client, sending a request again while the server is down; 409 after a cut-off attempt is 'done'."""

    def __init__(self, bases: list[str], timings: dict, errors: list[str], tally: Counter) -> None:
        super().__init__(bases[0], timings, errors)
        self.bases, self.tally, self.turn = bases, tally, 0

    def call(self, endpoint: str, method: str, path: str, token: str, body: object = None) -> dict | None:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(600):
            self.turn += 1
            base = self.bases[self.turn % len(self.bases)]
            request = urllib.request.Request(base + path, data=data, method=method, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    answer = json.loads(response.read())
            except urllib.error.HTTPError as error:
                if error.code == 409 and attempt > 0 and method == "POST":
                    self.tally["409 after a cut-off attempt (it had committed)"] += 1
                    return {}
                if error.code in (502, 503):
                    self.tally[f"{error.code}, sent again"] += 1
                    time.sleep(0.2)
                    continue
                self.errors.append(f"{method} {path}: {error.code} {error.read()[:200]!r}")
                return None
            except OSError:  # refused, reset, cut off: the server died or is restarting
                self.tally[f"{method}: connection lost, sent again"] += 1
                time.sleep(0.1)
                continue
            self.timings[endpoint].append((time.perf_counter() - began) * 1000)
            if attempt and method == "POST":
                self.tally["succeeded when sent again (the first attempt had not committed)"] += 1
            return answer
        self.errors.append(f"{method} {path}: no answer after 600 attempts")
        return None


class Supervised:
    """One process we started (in its own process group), killed and started again on demand."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.lock = threading.Lock()  # the killer and the restarter never both start it

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("a"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        # the group we created: a gunicorn master with its workers, or one timer worker
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_healthy(base: str) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{base} did not start")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from config import database_url

    target = make_url(database_url(url))
    if target.database in ("test", "postgres") or str(target.database).startswith("template"):
        raise SystemExit(f"refusing to empty the database {target.database!r}")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def make_overdue(url: str) -> None:
    """The officers' drafting tasks three days late: the timer workers then have overdue notices and escalations
    to write (one batch commit each) while the reports are being done."""
    from datetime import timedelta

    from sqlalchemy import create_engine, update

    from config import database_url
    from workflows.calendar import local_today
    from workflows.models import HumanTask, TaskState

    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(update(HumanTask).where(HumanTask.state == TaskState.OPEN)
                           .values(due_on=local_today() - timedelta(days=3)))
    engine.dispose()


def reminders_twice(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from config import database_url
    from workflows.models import Notification

    engine = create_engine(database_url(url))
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(Notification)) or 0
        keys = session.execute(select(Notification.user_id, Notification.task_id, Notification.kind,
                                      func.count()).group_by(Notification.user_id, Notification.task_id,
                                                             Notification.kind, Notification.due_on)
                               .having(func.count() > 1)).all()
    engine.dispose()
    return total, len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database this run may EMPTY")
    parser.add_argument("--agencies", type=int, default=28)
    parser.add_argument("--fault", type=float, default=0.1, help="FAULT_AFTER_ENGINE_STEP for every process")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between outside SIGKILLs (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise SystemExit("the fault run is for PostgreSQL: several processes on one database")
    random.seed(args.seed)
    ensure_database(args.database_url)
    print(f"preparing {args.agencies} agencies ...", file=sys.stderr)
    codes, tokens = load.prepare(args.database_url, args.agencies)
    make_overdue(args.database_url)

    logs = Path(tempfile.mkdtemp(prefix="faults-"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": os.urandom(16).hex(),
           "FLASK_CONFIG": "production", "LOG_FORMAT": "text", "WEB_CONCURRENCY": "2",
           "FAULT_AFTER_ENGINE_STEP": str(args.fault),
           "WORKER_INTERVAL_SECONDS": "1", "MAIL_OUTBOX_DIR": str(logs / "outbox")}
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    servers = [Supervised(f"app{n + 1}", [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind",
                                          f"127.0.0.1:{port}"], env, logs / f"app{n + 1}.log")
               for n, port in enumerate(ports)]
    workers = [Supervised(f"worker{n + 1}", [str(BIN / "flask"), "--app", "webapp", "worker", "--interval", "1"],
                          env, logs / f"worker{n + 1}.log") for n in range(2)]
    everyone = servers + workers
    for process in everyone:
        process.start()
    for base in bases:
        wait_healthy(base)

    stop = threading.Event()
    outside_kills: Counter = Counter()

    def killer() -> None:
        rng = random.Random(args.seed)
        while not stop.wait(args.kill_every if args.kill_every > 0 else 3600):
            victim = rng.choice(everyone)
            with victim.lock:
                victim.kill()
                outside_kills[victim.name] += 1
                victim.start()

    def self_restarter() -> None:
        # a timer worker that killed itself at a fault is started again, as systemd or compose would
        while not stop.wait(0.2):
            for process in workers:
                with process.lock:
                    if process.process.poll() is not None:
                        process.start()

    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    tally: Counter = Counter()
    from factories import report_payload  # bench/load.py put tests/ on the path

    payload = report_payload()
    data = {"draft_report": payload, "approve_report": {"head_decision": "approve"},
            "review_report": {"dic_decision": "accept"}}
    done = [0, 0]

    def client(number: int) -> None:
        api = RetryingApi(bases[number:] + bases[:number], timings, errors, tally)
        for code in codes[number::2]:
            for role, step in load.AGENCY_STEPS:
                token = tokens["dic" if role == "dic" else f"{code.lower()}_{role}"]
                task_id = api.find(token, step, code)
                if task_id is not None and api.complete(token, task_id, data[step]):
                    done[number] += 1

    helpers = [threading.Thread(target=killer), threading.Thread(target=self_restarter)]
    for thread in helpers:
        thread.start()
    began = time.perf_counter()
    try:
        clients = [threading.Thread(target=client, args=(n,)) for n in range(2)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        reports_seconds = time.perf_counter() - began
        tail_errors = load.finish_cycle(RetryingApi(bases, timings, errors, tally), tokens, args.database_url, codes)
        time.sleep(3)  # a few more worker passes, faults and kills included
    finally:
        stop.set()
        for thread in helpers:
            thread.join()
        for process in everyone:
            process.stop()
    elapsed = time.perf_counter() - began

    fault_deaths = Counter()
    for process in servers:
        text = process.log.read_text(errors="replace")
        fault_deaths[process.name] = text.count("was sent SIGKILL") + text.count("was sent code 9")
    for process in workers:
        fault_deaths[process.name] = process.starts - 1 - outside_kills[process.name]
    consistency = load.check(args.database_url, args.agencies)
    notifications, doubled = reminders_twice(args.database_url)
    problems = errors + consistency["problems"] + ([f"{doubled} notifications sent twice"] if doubled else [])

    print(f"\n{args.agencies} agencies, PostgreSQL, 2 gunicorn servers x 2 workers + 2 timer workers, "
          f"FAULT_AFTER_ENGINE_STEP={args.fault}, an outside SIGKILL every {args.kill_every} s; {os.cpu_count()} CPUs")
    print(f"report completions acknowledged: {sum(done)} of {3 * args.agencies} in {reports_seconds:.1f} s; "
          f"whole run {elapsed:.1f} s; cycle steps after the reports: {tail_errors} errors")
    print("processes killed from outside: " + ", ".join(f"{k} {v}" for k, v in sorted(outside_kills.items())))
    print("processes that killed themselves at the fault (gunicorn workers counted by their master's log, lost "
          "with a master killed from outside otherwise): " + ", ".join(f"{k} {v}" for k, v in sorted(
              fault_deaths.items())))
    print("client side: " + ("; ".join(f"{k}: {v}" for k, v in sorted(tally.items())) or "no retries"))
    print(f"checks: {consistency['audit_events']} audit events chained, {consistency['instances']} instances, "
          f"{notifications} notifications; {len(problems)} problems")
    for line in problems[:20]:
        print("  ! " + line)
    print(f"logs: {logs}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
