"""Load: the app under gunicorn on PostgreSQL, N concurrent API clients working different units' reports.

    python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/DBNAME [--clients 1,4,8,16]
                         [--agencies 280] [--workers 5] [--servers 2 --timer-workers 2]

For each client count: a new schema (the database is EMPTIED), 280 agencies, the year opened; gunicorn started on
127.0.0.1 only (with `--servers 2 --timer-workers 2`, the deployment of docs/DEPLOY.md: two app servers sharing the
worker processes, the clients taking them in turn, and two timer workers beside them); then N client threads, each
taking its own share of the units, do every unit's report as its officer, head and DIC would (find the task in the
inbox: GET /api/v1/tasks; complete it: POST …/complete). The cycle's own steps follow (consolidation of every unit,
evaluation, the reviews, the decision) by one client. Reported: completions per second of the concurrent phase,
p50/p95/p99 per endpoint, errors; then the consistency check: every task completed exactly once, every completion
audited once and every audit chain intact, every instance's ready tasks equal to its open task rows. Bounded: each
client makes 6 requests per unit, at most; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

AGENCY_STEPS = (("officer", "draft_report"), ("head", "approve_report"), ("dic", "review_report"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Api:
    """A tiny JSON client for one base URL that records every request's time under its endpoint's name."""

    def __init__(self, base: str, timings: dict[str, list[float]], errors: list[str]) -> None:
        self.base, self.timings, self.errors = base, timings, errors

    def call(self, endpoint: str, method: str, path: str, token: str, body: object = None) -> dict | None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            self.errors.append(f"{method} {path}: {error.code} {error.read()[:200]!r}")
            return None
        except OSError as error:
            self.errors.append(f"{method} {path}: {error}")
            return None
        finally:
            self.timings[endpoint].append((time.perf_counter() - began) * 1000)
        return answer

    def find(self, token: str, step: str, unit: str | None) -> int | None:
        query = f"/api/v1/tasks?tab=group&step={step}" + (f"&unit={unit}" if unit else "")
        page = self.call("GET /api/v1/tasks", "GET", query, token)
        if not page or not page["items"]:
            if page is not None:
                self.errors.append(f"no open {step} task for {unit}")
            return None
        return page["items"][0]["id"]

    def complete(self, token: str, task_id: int, data: dict) -> bool:
        return self.call("POST /api/v1/tasks/{id}/complete", "POST", f"/api/v1/tasks/{task_id}/complete", token,
                         {"data": data}) is not None


def prepare(url: str, agencies: int) -> tuple[list[str], dict[str, str]]:
    """Empty the database, create the schema at the migrations' head, the units and people, open 2026, issue tokens."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from config import database_url
    from workflows import accounts, cycles, definitions, demo, users
    from workflows.models import Base
    from workflows.results import import_prior_ranks
    from workflows.units import units_of_year

    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}  # creating 850 logins is not what is measured
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        codes = demo._ensure_units(session, agencies)
        definitions.deploy_directory(session)
        people = demo._ensure_people(session, codes)
        session.commit()
        blocks: dict[object, list[str]] = defaultdict(list)
        for unit in units_of_year(session, 2026):
            if unit.code in codes:
                blocks[unit.block].append(unit.code)
        # last year's ranks, as the simulation imports them: without them every unit would need a manual review
        import_prior_ranks(session, 2025, "\n".join(f"{code},{rank},{len(members)}" for members in blocks.values()
                                                     for rank, code in enumerate(members, 1)))
        session.commit()
        cycles.open_cycle(session, 2026, date(2026, 12, 15), people["dic_leader"], unit_codes=codes)
        tokens = {name: accounts.issue_token(session, person) for name, person in people.items()}
        session.commit()
    engine.dispose()
    return codes, tokens


def start_server(url: str, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.urandom(16).hex(), "FLASK_CONFIG": "production",
           "LOG_FORMAT": "json", "WEB_CONCURRENCY": str(workers)}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"gunicorn did not start; see {log}")


def start_timer_worker(url: str, log: Path) -> subprocess.Popen:
    """`flask --app webapp worker`, a pass a second: the process docs/DEPLOY.md runs beside the app servers."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-test-only", "FLASK_CONFIG": "production",
           "LOG_FORMAT": "json"}
    argv = [str(Path(sys.executable).parent / "flask"), "--app", "webapp", "worker", "--interval", "1"]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def run_level(url: str, clients: int, agencies: int, workers: int, servers: int = 1, timer_workers: int = 0) -> dict:
    from factories import report_payload

    codes, tokens = prepare(url, agencies)
    logs = Path(tempfile.mkdtemp())
    # WORKERS processes in all, shared out among the app servers; the clients take the servers in turn.
    started = [start_server(url, max(1, workers // servers), logs / f"gunicorn{n + 1}-{clients}.log")
               for n in range(servers)]
    timers = [start_timer_worker(url, logs / f"worker{n + 1}-{clients}.log") for n in range(timer_workers)]
    processes, bases = [server for server, _ in started] + timers, [base for _, base in started]
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    completions = [0] * clients
    payload = report_payload()
    data = {"draft_report": payload, "approve_report": {"head_decision": "approve"},
            "review_report": {"dic_decision": "accept"}}

    def work(number: int) -> None:
        api = Api(bases[number % len(bases)], timings, errors)
        for code in codes[number::clients]:
            for role, step in AGENCY_STEPS:
                token = tokens["dic" if role == "dic" else f"{code.lower()}_{role}"]
                task_id = api.find(token, step, code)
                if task_id is not None and api.complete(token, task_id, data[step]):
                    completions[number] += 1

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        tail_began = time.perf_counter()
        tail_errors = finish_cycle(Api(bases[-1], timings, errors), tokens, url, codes)
        tail_seconds = time.perf_counter() - tail_began
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return {"clients": clients, "completions": sum(completions), "seconds": elapsed,
            "per_second": sum(completions) / elapsed, "tail_seconds": tail_seconds, "tail_errors": tail_errors,
            "timings": dict(timings), "errors": errors, "consistency": check(url, agencies)}


def finish_cycle(api: Api, tokens: dict[str, str], url: str, codes: list[str]) -> int:
    """The cycle's own steps, one after the other, as DIC, Home Affairs and the Committee would."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from config import database_url
    from workflows import demo
    from workflows.units import units_of_year

    before = len(api.errors)
    engine = create_engine(database_url(url))
    with Session(engine) as session:
        blocks: dict[object, list[str]] = defaultdict(list)
        for unit in units_of_year(session, 2026):
            if unit.code in codes:
                blocks[unit.block].append(unit.code)
    units = {code: {"ict_rank": rank, "ict_units": len(members), "slow_conclusions": False,
                    "superior_requires_review": False, "lacks_responsibility": False, "special_achievement": False}
             for members in blocks.values() for rank, code in enumerate(members, 1)}
    task_id = api.find(tokens["dic"], "consolidate", None)
    if task_id is not None and api.complete(tokens["dic"], task_id, {"units": units}):
        with Session(engine) as session:  # the manual cases DIC settles, each with its reason
            overrides = demo._settle_manual_reviews(session, 2026, {})
        steps = (("dic_leader", "evaluate", {"overrides": overrides}),
                 ("home_affairs", "review_dic_self_evaluation", {}),
                 ("home_affairs", "home_affairs_proposal", {"ha_decision": "propose"}),
                 ("committee", "committee_decision", {"committee_action": "decide", "decision_number": "1/QĐ-UBND",
                                                      "decision_date": "2027-04-20"}))
        for who, step, body in steps:
            task_id = api.find(tokens[who], step, None)
            if task_id is None or not api.complete(tokens[who], task_id, body):
                break
    engine.dispose()
    return len(api.errors) - before


def check(url: str, agencies: int) -> dict:
    """Every task completed exactly once; every completion audited once; chains intact; engine == task rows."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from config import database_url
    from workflows import audit, engine, runtime
    from workflows.models import AuditEvent, Cycle, CycleStatus, HumanTask, ProcessInstance, TaskState

    db = create_engine(database_url(url))
    problems: list[str] = []
    with Session(db) as session:
        per_step = dict(session.execute(
            select(HumanTask.step_id, func.count()).where(HumanTask.process_key == "agency_report",
                                                          HumanTask.state == TaskState.COMPLETED)
            .group_by(HumanTask.step_id)).all())
        for _, step in AGENCY_STEPS:
            if per_step.get(step) != agencies:
                problems.append(f"{step}: {per_step.get(step)} completed, expected {agencies}")
        audited = dict(session.execute(select(AuditEvent.task_id, func.count()).where(
            AuditEvent.kind == "task_completed").group_by(AuditEvent.task_id)).all())
        completed = set(session.scalars(select(HumanTask.id).where(HumanTask.state == TaskState.COMPLETED)))
        if set(audited) != completed or any(n != 1 for n in audited.values()):
            problems.append(f"completion events: {len(audited)} tasks audited, {len(completed)} completed, "
                            f"{sum(1 for n in audited.values() if n != 1)} audited more than once")
        checked, breaks = audit.verify(session)
        problems += [b.describe() for b in breaks]
        open_rows: dict[int, set[str]] = defaultdict(set)
        for instance_id, uuid in session.execute(select(HumanTask.instance_id, HumanTask.task_uuid)
                                                 .where(HumanTask.state == TaskState.OPEN)):
            open_rows[instance_id].add(uuid)
        instances = session.scalars(select(ProcessInstance)).all()
        for instance in instances:
            run = engine.Run.load(runtime.spec_json(session, instance.version_id), instance.state)
            ready = {t.uuid for t in run.ready_user_tasks()}
            if ready != open_rows.get(instance.id, set()):
                problems.append(f"instance {instance.id}: engine ready {len(ready)}, open rows "
                                f"{len(open_rows.get(instance.id, set()))}")
        decided = session.scalar(select(Cycle.status).where(Cycle.year == 2026)) == CycleStatus.DECIDED
        if not decided:
            problems.append("the cycle was not decided")
    db.dispose()
    return {"audit_events": checked, "instances": len(instances), "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database this run may EMPTY")
    parser.add_argument("--clients", default="1,4,8,16")
    parser.add_argument("--agencies", type=int, default=280)
    parser.add_argument("--workers", type=int, default=5,
                        help="gunicorn worker processes in all, shared out among the servers (2 x CPUs + 1)")
    parser.add_argument("--servers", type=int, default=1, help="gunicorn app servers, each on a port of its own")
    parser.add_argument("--timer-workers", type=int, default=0, help="`flask worker` processes running beside them")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise SystemExit("the load test runs on PostgreSQL, as a province would")
    levels = [run_level(args.database_url, int(n), args.agencies, args.workers, args.servers, args.timer_workers)
              for n in args.clients.split(",")]
    print(f"\n{args.agencies} agencies, {args.servers} app server(s) with {args.workers} gunicorn workers in all, "
          f"{args.timer_workers} timer worker(s), PostgreSQL, {os.cpu_count()} CPUs")
    print(f"{'clients':>7} {'completions':>11} {'per s':>7} {'errors':>6}  "
          f"{'endpoint':<34} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  consistency")
    for level in levels:
        first = True
        for endpoint, values in sorted(level["timings"].items()):
            lead = (f"{level['clients']:>7} {level['completions']:>11} {level['per_second']:>7.1f} "
                    f"{len(level['errors']):>6}  ") if first else " " * 36
            verdict = (f"{level['consistency']['audit_events']} events, "
                       f"{len(level['consistency']['problems'])} problems") if first else ""
            print(f"{lead}{endpoint:<34} {statistics.median(values):>7.1f} {percentile(values, 0.95):>7.1f} "
                  f"{percentile(values, 0.99):>7.1f}  {verdict}")
            first = False
        for line in (level["errors"] + level["consistency"]["problems"])[:5]:
            print("        ! " + line)
        print(f"        cycle steps after the reports: {level['tail_seconds']:.1f} s, {level['tail_errors']} errors")


if __name__ == "__main__":
    main()
