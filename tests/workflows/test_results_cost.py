"""The year's results (the cycle page, the results API, the XLSX) and its documents cost the same few statements for
any number of units.

They were built one query per row for the unit's name and for its sentence (and one per override for who made it):
at 2,800 units, thousands of statements for one page.
"""
from __future__ import annotations

from sqlalchemy import event, select

from workflows import cycles, demo, documents
from workflows.models import User


def statements_of(session, action) -> tuple[object, int]:
    sent: list[str] = []
    bind = session.get_bind()

    def seen(*_args) -> None:  # noqa: ANN002
        if not _args[2].startswith(("SAVEPOINT", "RELEASE")):  # the test's own isolation (PostgreSQL)
            sent.append(_args[2])

    event.listen(bind, "before_cursor_execute", seen)
    try:
        answer = action()
    finally:
        event.remove(bind, "before_cursor_execute", seen)
    return answer, len(sent)


def test_results_and_progress_cost_the_same_statements_for_4_and_12_units(session):
    """Two decided years in one database: 4 units and 12 units."""
    demo.simulate(session, 2024, 4)
    demo.simulate(session, 2025, 12)
    session.commit()
    few, few_count = statements_of(session, lambda: cycles.results(session, 2024))
    many, many_count = statements_of(session, lambda: cycles.results(session, 2025))
    assert (len(few), len(many)) == (4, 12)
    assert many_count == few_count <= 9, (few_count, many_count)  # 20 and 44 before, then 13
    assert all(row["unit_name"] != row["unit_code"] and row["explanation"] and row["explanation_en"] for row in many)
    overridden = [row for row in many if row["overrides"]]
    assert overridden and all(o["by"] for row in overridden for o in row["overrides"])
    few_progress = statements_of(session, lambda: cycles.progress(session, 2024))[1]
    assert statements_of(session, lambda: cycles.progress(session, 2025))[1] == few_progress


def test_the_years_documents_and_their_list_cost_the_same_statements_for_4_and_12_units(session):
    demo.simulate(session, 2024, 4)
    demo.simulate(session, 2025, 12)
    session.commit()
    committee = session.scalar(select(User).where(User.username == "committee"))
    counts = {}
    for year, units in ((2024, 4), (2025, 12)):
        context, counts[year, "context"] = statements_of(session, lambda y=year: documents.document_context(session, y))
        assert context["unit_count"] == units and all(r["explanation"] and r["unit_name"] for r in context["rows"])
        listed, counts[year, "list"] = statements_of(session, lambda y=year: documents.available(session, y, committee))
        assert len([ref for ref in listed if ref.unit_code]) == units
    assert counts[2024, "context"] == counts[2025, "context"] and counts[2024, "list"] == counts[2025, "list"]
