"""Web-side benchmark: inbox server time at 100,000 task rows, and task completion through the JSON API, HTTP included.

    python bench/web_benchmark.py [--rows 100000] [--completions 150] [--database-url URL]

Targets (issue 3): inbox p95 under 50 ms of server time at 100,000 rows; API completion p50 under 10 ms on SQLite.
Requests go through Flask's test client, so the figures are the app's own time (routing, auth, the query, JSON or
HTML rendering), without a network hop. Runs on a temporary SQLite file unless --database-url is given.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--completions", type=int, default=150, help="agency steps completed through the API")
    parser.add_argument("--requests", type=int, default=200, help="inbox requests per kind of user")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from factories import report_payload
    from sqlalchemy import insert, select

    from config import TestConfig, database_url
    from webapp import create_app
    from webapp.extensions import db
    from workflows import cycles, demo, users
    from workflows.models import Base, HumanTask, TaskState

    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}  # login speed is not what is measured here
    url = database_url(args.database_url or f"sqlite:///{tempfile.mkdtemp()}/web-bench.sqlite")

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        WTF_CSRF_ENABLED = False

    app = create_app(Config)
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        units = max(28, args.completions // 3 + 1)
        print(f"setting up: {units} units, a cycle, {args.rows:,} task rows …", file=sys.stderr)
        codes = demo._ensure_units(db.session, units)
        demo.definitions.deploy_directory(db.session)
        people = demo._ensure_people(db.session, codes)
        db.session.commit()
        cycles.open_cycle(db.session, 2026, date(2026, 12, 15), people["dic_leader"], unit_codes=codes)
        instance_id = db.session.scalar(select(HumanTask.instance_id).limit(1))
        existing = db.session.query(HumanTask).count()
        rng = random.Random(7)
        steps = [("draft_report", "Lập báo cáo và tự đánh giá", "agency_officer"),
                 ("approve_report", "Phê duyệt báo cáo", "agency_head"),
                 ("review_report", "Thẩm định, tiếp nhận báo cáo", "dic_officer")]
        now = datetime.now(UTC)
        batch = []
        for number in range(args.rows - existing):
            step_id, name, group = rng.choice(steps)
            done = rng.random() < 0.7
            batch.append({
                "instance_id": instance_id, "task_uuid": f"bench-{number:08d}", "process_key": "agency_report",
                "step_id": step_id, "step_name": name, "lane": None, "candidate_group": group, "form_key": None,
                "unit_code": rng.choice(codes), "year": rng.choice((2022, 2023, 2024, 2025)),
                "state": TaskState.COMPLETED if done else TaskState.OPEN, "created_at": now - timedelta(days=400),
                "due_on": date(2025, 1, 1) + timedelta(days=rng.randint(0, 700)), "lock_version": 1,
                "completed_at": now if done else None,
            })
            if len(batch) == 5000:
                db.session.execute(insert(HumanTask), batch)
                batch.clear()
        if batch:
            db.session.execute(insert(HumanTask), batch)
        db.session.commit()
        rows = db.session.query(HumanTask).count()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does within a minute of a bulk load in production: statistics for the planner, and
            # the visibility map that lets counts read the inbox index alone.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE human_task")

    client = app.test_client()
    print(f"\nInbox at {rows:,} task rows (server time per request, ms)")
    print(f"{'who / query':<44} {'p50':>7} {'p95':>7}")
    results = {}
    for label, username, query in (
        ("DIC officer, group tab (default sort)", "dic", "/tasks/?tab=group"),
        ("DIC officer, search 'so tai chinh'", "dic", "/tasks/?tab=group&q=so+tai+chinh"),
        ("DIC officer, overdue only, sorted by unit", "dic", "/tasks/?tab=group&overdue=1&sort=unit"),
        ("DIC officer, page 40", "dic", "/tasks/?tab=group&page=40"),
        ("agency officer (STC), default", "stc_officer", "/tasks/"),
        ("agency head (STC), done tab", "stc_head", "/tasks/?tab=done"),
    ):
        client.post("/logout")
        client.post("/login", data={"username": username, "password": "simulation-only"})
        client.get(query)  # warm
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            response = client.get(query)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        results[label] = (statistics.median(times), percentile(times, 0.95))
        print(f"{label:<44} {results[label][0]:>7.2f} {results[label][1]:>7.2f}")

    print(f"\nTask completion through the API, HTTP included ({args.completions} agency steps)")
    tokens = {}

    def token(username: str) -> str:
        if username not in tokens:
            tokens[username] = client.post("/api/v1/auth/token", json={
                "username": username, "password": "simulation-only"}).get_json()["token"]
        return tokens[username]

    with app.app_context():
        open_drafts = {code: db.session.scalar(select(HumanTask.id).where(
            HumanTask.unit_code == code, HumanTask.step_id == "draft_report", HumanTask.year == 2026,
            HumanTask.state == TaskState.OPEN)) for code in codes}
    timings: list[float] = []
    done = 0
    payload = report_payload()
    for code in codes:
        if done >= args.completions:
            break
        for username, step, data in ((f"{code.lower()}_officer", "draft_report", payload),
                                     (f"{code.lower()}_head", "approve_report", {"head_decision": "approve"}),
                                     ("dic", "review_report", {"dic_decision": "accept"})):
            with app.app_context():
                task_id = open_drafts[code] if step == "draft_report" else db.session.scalar(select(HumanTask.id).where(
                    HumanTask.unit_code == code, HumanTask.step_id == step, HumanTask.year == 2026,
                    HumanTask.state == TaskState.OPEN))
            headers = {"Authorization": f"Bearer {token(username)}"}
            began = time.perf_counter()
            response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
            done += 1
    print(f"p50 {statistics.median(timings):.2f} ms   p95 {percentile(timings, 0.95):.2f} ms   n={len(timings)}")
    worst = max(p95 for _, p95 in results.values())
    print("\nTargets")
    print(f"  inbox p95 < 50 ms at {rows:,} rows: {'met' if worst < 50 else 'NOT met'} (worst p95 {worst:.1f} ms)")
    api_p50 = statistics.median(timings)
    print(f"  API completion p50 < 10 ms: {'met' if api_p50 < 10 else 'NOT met'} ({api_p50:.2f} ms)")


if __name__ == "__main__":
    main()
