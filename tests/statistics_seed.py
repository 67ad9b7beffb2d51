"""Two years of results for the history and statistics tests: 2024 seeded as a decided year, 2025 simulated."""
from __future__ import annotations

from datetime import UTC, date, datetime

from workflows import demo
from workflows.models import Block, Evaluation
from workflows.units import load_units, units_of_year

NOW = datetime(2026, 5, 1, tzinfo=UTC)
# 2024 as decided: every unit ranked as FIXED_SCENARIOS' "previous rank"; VPUB excellent, SKHDT and SGTVT incomplete
# with violations, the others complete.
RATINGS_2024 = {"VPUB": "excellent", "SKHDT": "incomplete", "SGTVT": "incomplete"}
SECTIONS_2024 = {"SKHDT": [2, 4], "SGTVT": [1, 2, 3, 4]}


def seed_two_years(session) -> None:
    """2024 seeded directly (demo.simulate cannot yet run two consecutive years), then 2025 simulated."""
    load_units(session)
    blocks = {u.code: u.block for u in units_of_year(session, 2024)}
    for code, scenario in demo.FIXED_SCENARIOS.items():
        prev_rank = scenario[3]
        size = 20 if blocks[code] == Block.DEPARTMENT else 8
        session.add(Evaluation(
            year=2024, unit_code=code, block=blocks[code], ict_rank=prev_rank, ict_units=size if prev_rank else None,
            sections_violated=SECTIONS_2024.get(code, []), rating=RATINGS_2024.get(code, "complete"),
            sanction="criticism" if code == "SKHDT" else "none", reward="none", final=True,
            decision_number="12/QĐ-UBND", decision_date=date(2025, 4, 1)))
    session.commit()
    demo.simulate(session, 2025, 28)
