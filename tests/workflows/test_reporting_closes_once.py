"""Reporting closes once: the last acceptance opens one consolidation, whatever the wall clock says."""
from __future__ import annotations

from datetime import date

from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import tasks
from workflows.models import HumanTask, TaskState


def test_the_last_acceptance_opens_exactly_one_consolidation(session):
    # The year runs on its own dates (November 2025) while the machine's clock is later than the report deadline:
    # delivering "all reports accepted" must not also fire the deadline timer beside it.
    people = open_small_cycle(session, ["STC", "STTTT"])
    for code, day in (("STC", 11), ("STTTT", 12)):
        submit_report(session, people, code)
        tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, day)))
    open_steps = session.scalars(select(HumanTask.step_id).where(
        HumanTask.unit_code.is_(None), HumanTask.state == TaskState.OPEN)).all()
    assert open_steps == ["consolidate"]
