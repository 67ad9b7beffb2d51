"""How long the statistics and an agency's history take at 2,800 units × 5 years, on SQLite and PostgreSQL.

Seeds a fresh database directly (units, five decided years of evaluations and reports), then times
`workflows.statistics.statistics` (every figure of the statistics page) and `workflows.agency_history.agency_history`
(one unit's page, which runs the rank-class decision tables once per ranked year). Figures in docs/STATISTICS.md.

    python bench/statistics_benchmark.py                       # SQLite in a temporary file
    python bench/statistics_benchmark.py --postgres-url postgresql://postgres@127.0.0.1:5432/bench_stats

The PostgreSQL database's public schema is dropped and recreated: never point it at a database you care about.
"""
from __future__ import annotations

import argparse
import random
import statistics as stats
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows import agency_history, definitions, statistics  # noqa: E402
from workflows.models import (  # noqa: E402
    Base,
    Block,
    Cycle,
    CycleStatus,
    Evaluation,
    InstanceStatus,
    ProcessInstance,
    Report,
    Role,
    Unit,
    UnitHistory,
    User,
    UserRole,
)
from workflows.rules import RATINGS  # noqa: E402

YEARS = range(2021, 2026)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def seed(session: Session, units: int, rng: random.Random) -> None:
    codes = [f"U{n:05d}" for n in range(units)]
    blocks = {c: Block.DISTRICT if n % 3 == 0 else Block.DEPARTMENT for n, c in enumerate(codes)}
    session.execute(insert(Unit), [{"code": c} for c in codes])
    session.execute(insert(UnitHistory), [
        {"code": c, "name_vi": f"Đơn vị {c}", "name_en": f"Unit {c}", "block": blocks[c],
         "valid_from": date(2013, 10, 10), "valid_to": None, "source": "bench"} for c in codes])
    viewer = User(username="committee", full_name="UBND tỉnh", password_hash="x", roles=[UserRole(role=Role.COMMITTEE)])
    session.add(viewer)
    definitions.deploy_directory(session)
    session.flush()
    report_id = definitions.latest_version(session, "agency_report").id
    version_id = definitions.latest_version(session, "unit_evaluation").id
    sizes = {b: sum(1 for c in codes if blocks[c] == b) for b in Block}
    for year in YEARS:
        cycle = Cycle(year=year, status=CycleStatus.DECIDED, report_due=date(year, 12, 15),
                      report_version_id=report_id, evaluation_version_id=version_id)
        session.add(cycle)
        session.flush()
        instance = ProcessInstance(version_id=report_id, process_key="agency_report", business_key=f"{year}/bench",
                                   cycle_id=cycle.id, year=year, status=InstanceStatus.COMPLETED, state=b"{}")
        session.add(instance)
        session.flush()
        ranks: dict[str, int] = {}
        for block in Block:
            members = [c for c in codes if blocks[c] == block]
            order = list(range(1, len(members) + 1))
            rng.shuffle(order)
            ranks.update(zip(members, order, strict=True))
        deadline = datetime(year, 12, 15, 10, tzinfo=UTC)
        session.execute(insert(Report), [
            {"year": year, "unit_code": c, "instance_id": instance.id, "criteria": {}, "figures": {}, "budget": {},
             "submitted_at": None if rng.random() < 0.03 else deadline + timedelta(days=rng.randint(-40, 5))}
            for c in codes])
        session.execute(insert(Evaluation), [
            {"year": year, "unit_code": c, "block": blocks[c], "ict_rank": ranks[c], "ict_units": sizes[blocks[c]],
             "sections_violated": sorted(rng.sample([1, 2, 3, 4], rng.choices([0, 1, 2, 3, 4],
                                                                               [60, 20, 12, 5, 3])[0])),
             "appraisal": {}, "reasons": [], "articles": [], "rating": rng.choice(RATINGS[:3]), "sanction": "none",
             "reward": "none", "final": True, "late_report": rng.random() < 0.03} for c in codes])
    session.commit()


def timed(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return stats.median(times), max(times)


def run(url: str, units: int, repeat: int) -> None:
    engine = create_engine(url)
    if engine.url.get_backend_name() == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        began = time.perf_counter()
        seed(session, units, random.Random(1))
        print(f"{engine.url.get_backend_name()}: seeded {units} units × {len(YEARS)} years in "
              f"{time.perf_counter() - began:.1f} s")
        viewer = session.query(User).filter_by(username="committee").one()
        figures = {
            "statistics page (all figures)": lambda: statistics.statistics(session, viewer, NOW),
            "rank movement only": lambda: statistics.rank_movements(session, 2025),
            "sections only": lambda: statistics.sections_per_year(session),
            "agency history (one unit)": lambda: agency_history.agency_history(session, "U00042", viewer, NOW),
        }
        for name, function in figures.items():
            median, worst = timed(function, repeat)
            print(f"  {name:<32} median {median * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url")
    parser.add_argument("--units", type=int, default=2800)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.postgres_url:
        run(args.postgres_url, args.units, args.repeat)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.sqlite", args.units, args.repeat)


if __name__ == "__main__":
    main()
