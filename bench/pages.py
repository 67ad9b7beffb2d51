"""Page size and server time of the province-wide task pages (DIC's consolidation and evaluation) at 28 and 280 units.

    python bench/pages.py [--sizes 28,280] [--requests 20] [--database-url URL]

Target (issue 14): each page under 150 KB and 150 ms of server time at 28 units, and still usable at 280. Every unit
reports cleanly (two of three with a violation), so the pages show real appraisals; consolidation is measured
closed, with one row opened in place and as the row's fragment alone (what the page's script fetches when a row
opens), then every unit gets a rank draft, consolidation is submitted and the evaluation page is measured the same
way. Requests go through Flask's test client: the app's own time (routing, auth, queries, rendering), no network.
Runs on a temporary SQLite file unless --database-url is given.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def measure(client, url: str, requests: int) -> tuple[int, float, float]:
    """Bytes of the page, p50 and max of the server time in ms (after one warm-up request)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    return len(response.data), statistics.median(times), max(times)


def profile(client, url: str) -> None:
    import cProfile
    import pstats

    client.get(url)  # warm-up: templates compiled, caches filled, as for every request but the first
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    print(f"--- {url}", file=sys.stderr)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)


def run(size: int, requests: int, url: str | None, show_profile: bool = False) -> list[tuple[str, int, float, float]]:
    from factories import report_payload
    from sqlalchemy import select

    from config import TestConfig, database_url
    from webapp import create_app
    from webapp.extensions import db
    from workflows import cycles, demo, tasks, unit_drafts, users
    from workflows.calendar import LOCAL_TZ
    from workflows.models import Base, HumanTask, TaskState
    from workflows.results import evaluations_of_year

    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}  # login speed is not what is measured here

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url(url or f"sqlite:///{tempfile.mkdtemp()}/pages-bench.sqlite")
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        WTF_CSRF_ENABLED = False

    def at(day: date) -> datetime:
        return datetime.combine(day, clock(9), tzinfo=LOCAL_TZ)

    def open_task(step: str, code: str | None = None) -> HumanTask:
        query = select(HumanTask).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == step)
        return db.session.scalar(query.where(HumanTask.unit_code == code) if code else query)

    app = create_app(Config)
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        print(f"setting up {size} units …", file=sys.stderr)
        codes = demo._ensure_units(db.session, size)
        demo.definitions.deploy_directory(db.session)
        people = demo._ensure_people(db.session, codes)
        db.session.commit()
        cycles.open_cycle(db.session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                          unit_codes=codes)
        for number, code in enumerate(codes):
            officer, head = people[f"{code.lower()}_officer"], people[f"{code.lower()}_head"]
            payload = report_payload((2,) if number % 3 == 1 else ())
            tasks.complete_task(db.session, open_task("draft_report", code).id, officer, payload,
                                at(date(2025, 11, 10)))
            tasks.complete_task(db.session, open_task("approve_report", code).id, head, {"head_decision": "approve"},
                                at(date(2025, 11, 10)))
            tasks.complete_task(db.session, open_task("review_report", code).id, people["dic"],
                                {"dic_decision": "accept"}, at(date(2025, 11, 11)))
        consolidate = open_task("consolidate").id

    client = app.test_client()
    client.post("/login", data={"username": "dic", "password": "simulation-only"})
    if show_profile:
        profile(client, f"/tasks/{consolidate}")
        profile(client, f"/tasks/{consolidate}?open={codes[1]}")
    results = [(f"consolidation, {size} units", *measure(client, f"/tasks/{consolidate}", requests)),
               (f"consolidation, {size} units, one row open",
                *measure(client, f"/tasks/{consolidate}?open={codes[1]}", requests)),
               (f"consolidation, {size} units, a row's fragment",
                *measure(client, f"/tasks/{consolidate}/units/{codes[1]}", requests))]
    with app.app_context():
        dic = db.session.merge(people["dic"])
        seen: dict[str, int] = {}
        ranks = {}
        for code, evaluation in sorted(evaluations_of_year(db.session, 2025).items()):
            seen[evaluation.block] = seen.get(evaluation.block, 0) + 1
            ranks[code] = {"ict_rank": seen[evaluation.block], "slow_conclusions": len(ranks) % 5 != 0}
        unit_drafts.save_unit_drafts(db.session, consolidate, dic, ranks)
        tasks.complete_task(db.session, consolidate, dic, {"confirmed": True}, at(date(2026, 1, 5)))
        evaluate = open_task("evaluate").id
    client.post("/logout")
    client.post("/login", data={"username": "dic_leader", "password": "simulation-only"})
    if show_profile:
        profile(client, f"/tasks/{evaluate}")
        profile(client, f"/tasks/{evaluate}?open={codes[1]}")
    results += [(f"evaluation, {size} units", *measure(client, f"/tasks/{evaluate}", requests)),
                (f"evaluation, {size} units, one row open",
                 *measure(client, f"/tasks/{evaluate}?open={codes[1]}", requests)),
                (f"evaluation, {size} units, a row's fragment",
                 *measure(client, f"/tasks/{evaluate}/units/{codes[1]}", requests))]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="28,280")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true", help="print where one consolidation request spends its time")
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += run(size, args.requests, args.database_url, args.profile)
    print(f"\n{'page':<44} {'KB':>7} {'p50 ms':>8} {'max ms':>8}")
    for label, size, p50, worst in rows:
        print(f"{label:<44} {size / 1024:>7.1f} {p50:>8.1f} {worst:>8.1f}")


if __name__ == "__main__":
    main()
