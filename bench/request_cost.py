"""What a click really costs: each action in a NEW session with its user loaded by id, as an API request does.

    python bench/request_cost.py                              # 28 and 280 units, SQLite and PostgreSQL
    python bench/request_cost.py --sizes 28,280,2800 --databases sqlite --postgres-url postgresql://…/SCRATCH

`bench/benchmark.py` prints this first (its headline) unless given `--no-request-cost`.

For each database and size: a fresh database (SQLite: a temporary file with the app's connect hook and engine options;
PostgreSQL: the schema emptied), the units, their people, an API token each and last year's ranks; then, each timed
from opening a new `Session` to closing it, with the user loaded from the bearer token by `accounts.user_for_token`,
the function the API's authentication calls (user, roles and token in one SELECT):

- **open the year** (`cycles.open_cycle`: one agency_report instance per unit);
- **every report step** (draft, approve, accept) of every unit: `tasks.complete_task`, counting the SQL statements it
  sends (SQLAlchemy's `before_cursor_execute`: every SELECT, INSERT, UPDATE; not BEGIN/COMMIT, which the driver sends
  without a cursor, nor the pool's liveness ping), and this process's CPU time (`time.process_time`), which a busy
  machine inflates far less than the wall-clock time;
- **the province-wide clicks**: the last report accepted (it moves the cycle on: every unit's evaluation row is
  made), consolidation submit (every unit's entry), evaluation submit (the manual cases settled,
  each with its reason), the four-eyes review, Home Affairs' proposal, the Committee's decision.

The task id is looked up before the clock starts (a request has it in its URL). Nothing leaves the process.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

YEAR = 2025  # 15/12/2025 is a working day
STEPS = (("officer", "draft_report", "draft"), ("head", "approve_report", "approve"),
         ("dic", "review_report", "accept"))
PROTECTED = {"test", "postgres", "template0", "template1"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


def make_engine(kind: str, postgres_url: str) -> Any:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from config import Config, database_url
    from workflows import connections
    from workflows.models import Base

    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="request-cost-")) / "bench.sqlite"
        engine = create_engine(f"sqlite:///{path}", **Config.SQLALCHEMY_ENGINE_OPTIONS)
    else:
        url = make_url(database_url(postgres_url))
        if url.database in PROTECTED:
            raise SystemExit(f"refusing to empty the database {url.database!r}")
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}):
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        engine = create_engine(url, **Config.SQLALCHEMY_ENGINE_OPTIONS)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    connections.configure(engine)  # as the app does (webapp.create_app)
    Base.metadata.create_all(engine)
    return engine


class Counter:
    """SQL statements sent while `on`."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.on, self.count, self.texts = False, 0, []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.on:
            self.count += 1
            self.texts.append(" ".join(statement.split())[:90])


def measure(kind: str, size: int, postgres_url: str) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from workflows import accounts, cache, collector, cycles, definitions, demo, tasks, users
    from workflows.models import HumanTask, TaskState, User
    from workflows.results import import_prior_ranks
    from workflows.units import units_of_year

    cache.clear_all()
    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}  # creating the logins is not what is measured
    engine = make_engine(kind, postgres_url)
    counter = Counter(engine)
    with Session(engine, expire_on_commit=False) as session:
        codes = demo._ensure_units(session, size)
        definitions.deploy_directory(session)
        people = {name: person.id for name, person in demo._ensure_people(session, codes).items()}
        session.commit()
        # Each person's API token, used once already: a request's token lookup writes last_used_at at most every
        # few minutes (accounts.LAST_USED_EVERY), and a longer run than that counts those writes, as a server would.
        tokens = {name: accounts.issue_token(session, session.get(User, key)) for name, key in people.items()}
        for token in tokens.values():
            accounts.user_for_token(session, token)
        blocks: dict[Any, list[str]] = defaultdict(list)
        for unit in units_of_year(session, YEAR):
            if unit.code in codes:
                blocks[unit.block].append(unit.code)
        import_prior_ranks(session, YEAR - 1, "\n".join(f"{code},{rank},{len(members)}" for members in blocks.values()
                                                        for rank, code in enumerate(members, 1)))
        session.commit()
    collector.tune_for_server()  # as gunicorn.conf.py does once a worker has loaded the app

    clicks: dict[str, dict[str, float]] = {}

    def caller(session: Session, who: str) -> User:
        # what the API's authentication runs before the view (webapp/api/base.py): token, user and roles
        user = accounts.user_for_token(session, tokens[who])
        assert user is not None
        return user

    def click(name: str, who: str, action: Any) -> Any:
        counter.count, counter.on, counter.texts = 0, True, []
        began = time.perf_counter()
        with Session(engine) as session:  # a request's session: new, the user loaded from the bearer token
            answer = action(session, caller(session, who))
        seconds = time.perf_counter() - began
        counter.on = False
        clicks[name] = {"seconds": seconds, "statements": counter.count}
        return answer

    def task_id(step: str, code: str | None = None) -> int:
        with Session(engine) as session:
            query = select(HumanTask.id).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == step)
            found = session.scalar((query.where(HumanTask.unit_code == code) if code else query).limit(1))
        assert found is not None, f"no open {step} for {code}"
        return found

    click("open the year", "dic_leader", lambda s, u: cycles.open_cycle(
        s, YEAR, date(YEAR, 12, 15), u, now=at(date(YEAR, 11, 2)), unit_codes=codes))

    from factories import report_payload

    data = {"draft_report": report_payload(), "approve_report": {"head_decision": "approve"},
            "review_report": {"dic_decision": "accept"}}
    per_step: dict[str, list[float]] = defaultdict(list)
    cpu: list[float] = []  # this process's CPU time per completion: what a busy machine inflates least
    statements: list[int] = []
    moment = at(date(YEAR, 11, 10))
    example: dict[str, list[str]] = {}
    for code in codes:
        for role, step, label in STEPS:
            counter.texts = []
            who = "dic" if role == "dic" else f"{code.lower()}_{role}"
            tid = task_id(step, code)
            counter.count, counter.on = 0, True
            began, began_cpu = time.perf_counter(), time.process_time()
            if PROFILER:
                PROFILER.enable()
            with Session(engine) as session:
                tasks.complete_task(session, tid, caller(session, who), data[step], moment)
            if PROFILER:
                PROFILER.disable()
            elapsed, used = time.perf_counter() - began, time.process_time() - began_cpu
            counter.on = False
            if code == codes[-1] and label == "accept":
                # the last acceptance is a province-wide click in disguise: it moves the cycle to consolidation
                clicks["last report accepted"] = {"seconds": elapsed, "statements": counter.count}
                continue
            per_step[label].append(elapsed * 1000)
            cpu.append(used * 1000)
            statements.append(counter.count)
            if code == codes[0]:  # a sample of what one completion sends (the last accept also moves the cycle)
                example[label] = counter.texts

    units = {code: {"ict_rank": rank, "ict_units": len(members), "slow_conclusions": False,
                    "superior_requires_review": False, "lacks_responsibility": False, "special_achievement": False}
             for members in blocks.values() for rank, code in enumerate(members, 1)}
    later = at(date(YEAR + 1, 1, 15))

    def complete(step: str, body: Any) -> Any:
        tid = task_id(step)
        return lambda s, u: tasks.complete_task(s, tid, u, body() if callable(body) else body, later)

    click("consolidation submit", "dic", complete("consolidate", {"units": units}))
    with Session(engine) as session:
        overrides = demo._settle_manual_reviews(session, YEAR, {})
    click("evaluation submit", "dic_leader", complete("evaluate", {"overrides": overrides}))
    click("four-eyes review", "home_affairs", complete("review_dic_self_evaluation", {}))
    click("Home Affairs proposal", "home_affairs", complete("home_affairs_proposal", {"ha_decision": "propose"}))
    click("the decision", "committee", complete("committee_decision", {
        "committee_action": "decide", "decision_number": "1/QĐ-UBND", "decision_date": f"{YEAR + 1}-04-20"}))
    engine.dispose()
    every = [v for values in per_step.values() for v in values]
    return {
        "database": kind, "size": size, "completions": len(every),
        "p50_ms": statistics.median(every), "p95_ms": percentile(every, 0.95), "cpu_p50_ms": statistics.median(cpu),
        "p50_by_step": {k: statistics.median(v) for k, v in per_step.items()},
        "statements_p50": statistics.median(statements), "statements_max": max(statements),
        "statements_by_step": {label: statistics.median(statements[i::3]) for i, (_, _, label) in enumerate(STEPS)},
        "clicks": clicks, "statements_example": example,
    }


def print_table(rows: list[dict[str, Any]], out: Any = sys.stdout) -> None:
    print("\nPer request: a new session, the user loaded from a bearer token, one report-step completion, commit",
          file=out)
    print(f"{'database':<11}{'units':>6}{'completions':>12}{'p50 ms':>8}{'p95 ms':>8}{'CPU p50':>8}  "
          f"{'p50 draft/approve/accept':<26}{'statements p50 (max)':<22}per step", file=out)
    for row in rows:
        steps = "/".join(f"{v:.2f}" for v in row["p50_by_step"].values())
        per = "/".join(f"{v:g}" for v in row["statements_by_step"].values())
        print(f"{row['database']:<11}{row['size']:>6}{row['completions']:>12}{row['p50_ms']:>8.2f}"
              f"{row['p95_ms']:>8.2f}{row['cpu_p50_ms']:>8.2f}  {steps:<26}"
              f"{row['statements_p50']:g} ({row['statements_max']})"
              f"{'':<14}{per}", file=out)
    if rows:
        print(f"\nThe statements of one completion ({rows[-1]['database']}, the first unit):", file=out)
        for label, texts in rows[-1]["statements_example"].items():
            print(f"  {label}: " + "\n    ".join(texts), file=out)
    print("\nProvince-wide clicks (one request each, seconds; SQL statements in brackets)", file=out)
    names = list(rows[0]["clicks"]) if rows else []
    print(f"{'database':<11}{'units':>6}  " + "  ".join(f"{n:>22}" for n in names), file=out)
    for row in rows:
        cells = "  ".join(f"{row['clicks'][n]['seconds']:>14.3f} ({row['clicks'][n]['statements']:>5})"
                          for n in names)
        print(f"{row['database']:<11}{row['size']:>6}  {cells}", file=out)


PROFILER: cProfile.Profile | None = None  # --profile: the report-step completions only


def run(sizes: list[int], databases: list[str], postgres_url: str) -> list[dict[str, Any]]:
    rows = []
    for kind in databases:
        for size in sizes:
            print(f"[request cost] {kind} {size} units ...", file=sys.stderr, flush=True)
            rows.append(measure(kind, size, postgres_url))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="28,280")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/bench",
                        help="a database this run may EMPTY (created if missing)")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the report-step completions (the timed clock "
                        "includes the profiler's cost): stats to FILE, the top 30 by own time to stderr")
    args = parser.parse_args()
    global PROFILER
    PROFILER = cProfile.Profile(time.process_time) if args.profile else None  # CPU time: waits are not counted
    rows = run([int(s) for s in args.sizes.split(",")], args.databases.split(","), args.postgres_url)
    print_table(rows)
    if PROFILER:
        PROFILER.dump_stats(args.profile)
        pstats.Stats(args.profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
