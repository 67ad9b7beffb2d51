"""The province-wide clicks at 28, 280 and 2,800 units: seconds and SQL statements of each, one request each.

    python bench/province_clicks.py                                   # 28 and 280 units, SQLite
    python bench/province_clicks.py --sizes 28,280,2800 --databases sqlite,postgresql \
        --postgres-url postgresql://postgres@127.0.0.1:5432/SCRATCH   # a database this run may EMPTY
    python bench/province_clicks.py --sizes 280 --profile "open the year"   # cProfile of one click

The same set-up and clicks as the province-wide section of `bench/request_cost.py` (its helpers are reused), but
the report steps of the units are driven through quickly (they are measured there, not here). Each click runs in a
new `Session` with its user loaded by id, as a request does; the statements are counted on the engine.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests", ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from request_cost import YEAR, Counter, at, make_engine  # noqa: E402

NAMES = ("open the year", "last report accepted", "consolidation submit", "evaluation submit", "four-eyes review",
         "Home Affairs proposal", "the decision")


def measure(kind: str, size: int, postgres_url: str, profile: str | None = None,
            only_open: bool = False) -> dict[str, Any]:
    from factories import report_payload
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from workflows import cache, collector, cycles, definitions, demo, tasks, users
    from workflows.calendar import WorkingCalendar
    from workflows.models import HumanTask, TaskState, User
    from workflows.results import import_prior_ranks
    from workflows.units import units_of_year

    cache.clear_all()
    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}
    engine = make_engine(kind, postgres_url)
    counter = Counter(engine)
    with Session(engine, expire_on_commit=False) as session:
        codes = demo._ensure_units(session, size)
        definitions.deploy_directory(session)
        people = {name: person.id for name, person in demo._ensure_people(session, codes).items()}
        session.commit()
        blocks: dict[Any, list[str]] = defaultdict(list)
        for unit in units_of_year(session, YEAR):
            if unit.code in codes:
                blocks[unit.block].append(unit.code)
        import_prior_ranks(session, YEAR - 1, "\n".join(f"{code},{rank},{len(members)}" for members in blocks.values()
                                                        for rank, code in enumerate(members, 1)))
        session.commit()
        # A running server has imported the holidays package's country list (~80 ms, once per process) and built
        # the year's working-day calendar by the time DIC clicks; the first run of a fresh process would count them.
        WorkingCalendar.cached(session).roll_forward(date(YEAR, 12, 15))
    collector.tune_for_server()  # as gunicorn.conf.py does once a worker has loaded the app
    clicks: dict[str, dict[str, float]] = {}

    def click(name: str, who: str, action: Any) -> Any:
        counter.count, counter.on = 0, True
        profiler = cProfile.Profile() if name in (profile or "").split(",") else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        with Session(engine) as session:
            answer = action(session, session.get(User, people[who]))
        if profiler:
            profiler.disable()
        clicks[name] = {"seconds": time.perf_counter() - began, "statements": counter.count}
        counter.on = False
        if profiler:
            order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(45)
        return answer

    def open_tasks(step: str) -> list[tuple[int, str | None]]:
        with Session(engine) as session:
            return list(session.execute(select(HumanTask.id, HumanTask.unit_code).where(
                HumanTask.state == TaskState.OPEN, HumanTask.step_id == step).order_by(HumanTask.unit_code)).all())

    click("open the year", "dic_leader", lambda s, u: cycles.open_cycle(
        s, YEAR, date(YEAR, 12, 15), u, now=at(date(YEAR, 11, 2)), unit_codes=codes))
    if only_open:
        engine.dispose()
        return {"database": kind, "size": size, "clicks": clicks}
    data = {"draft_report": report_payload(), "approve_report": {"head_decision": "approve"},
            "review_report": {"dic_decision": "accept"}}
    moment = at(date(YEAR, 11, 10))
    for role, step in (("officer", "draft_report"), ("head", "approve_report"), ("dic", "review_report")):
        pending = open_tasks(step)
        for number, (tid, code) in enumerate(pending):
            who = "dic" if role == "dic" else f"{code.lower()}_{role}"
            if step == "review_report" and number == len(pending) - 1:
                click("last report accepted", who, lambda s, u, tid=tid, step=step: tasks.complete_task(
                    s, tid, u, data[step], moment))
                continue
            with Session(engine) as session:
                tasks.complete_task(session, tid, session.get(User, people[who]), data[step], moment)
    units = {code: {"ict_rank": rank, "ict_units": len(members), "slow_conclusions": False,
                    "superior_requires_review": False, "lacks_responsibility": False, "special_achievement": False}
             for members in blocks.values() for rank, code in enumerate(members, 1)}
    later = at(date(YEAR + 1, 1, 15))

    def complete(step: str, body: Any) -> Any:
        tid = open_tasks(step)[0][0]
        return lambda s, u: tasks.complete_task(s, tid, u, body, later)

    click("consolidation submit", "dic", complete("consolidate", {"units": units}))
    with Session(engine) as session:
        overrides = demo._settle_manual_reviews(session, YEAR, {})
    click("evaluation submit", "dic_leader", complete("evaluate", {"overrides": overrides}))
    click("four-eyes review", "home_affairs", complete("review_dic_self_evaluation", {}))
    click("Home Affairs proposal", "home_affairs", complete("home_affairs_proposal", {"ha_decision": "propose"}))
    click("the decision", "committee", complete("committee_decision", {
        "committee_action": "decide", "decision_number": "1/QĐ-UBND", "decision_date": f"{YEAR + 1}-04-20"}))
    engine.dispose()
    return {"database": kind, "size": size, "clicks": clicks}


def print_table(rows: list[dict[str, Any]], out: Any = sys.stdout) -> None:
    print("\nProvince-wide clicks (one request each: seconds, SQL statements in brackets)", file=out)
    names = list(dict.fromkeys(n for row in rows for n in row["clicks"]))
    for row in rows:
        print(f"\n{row['database']} {row['size']} units", file=out)
        for name in names:
            if name in row["clicks"]:
                cell = row["clicks"][name]
                print(f"  {name:<32}{cell['seconds']:>9.3f} s ({cell['statements']:>6})", file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="28,280")
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/bench_province",
                        help="a database this run may EMPTY (created if missing)")
    parser.add_argument("--profile", help="print a cProfile of these clicks (names, comma-separated) to stderr")
    parser.add_argument("--only-open", action="store_true", help="stop after opening the year")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    rows = []
    for kind in args.databases.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"[province clicks] {kind} {size} units ...", file=sys.stderr, flush=True)
            rows.append(measure(kind, size, args.postgres_url, args.profile, args.only_open))
    print_table(rows)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
