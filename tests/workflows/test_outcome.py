"""Issue 9: the year's outcome is decided by complete inputs or by a named person, and the path to it can't go wrong
silently (returns to consolidation, reports that never came, late openings, four eyes by person, report outcomes)."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import tasks
from workflows.models import Evaluation, HumanTask, TaskState, User


def accept(session, people: dict[str, User], code: str, when: date = date(2025, 11, 11)) -> None:
    tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                        {"dic_decision": "accept"}, at(when))


def consolidate(session, people, units: dict[str, dict], when: date = date(2026, 1, 5)) -> None:
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units}, at(when))


def through_evaluation(session, people, codes: list[str], overrides=None) -> None:
    """Reports in, consolidated (each ranked 1 of 1 without violations), evaluated, DIC's result reviewed."""
    for code in codes:
        submit_report(session, people, code)
        accept(session, people, code)
    consolidate(session, people, {c: {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False} for c in codes})
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"],
                        {"overrides": overrides or []}, at(date(2026, 1, 6)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2026, 1, 7)))


def evaluations(session) -> dict[str, Evaluation]:
    return {e.unit_code: e for e in session.scalars(select(Evaluation).where(Evaluation.imported.is_(False)))}


@pytest.mark.parametrize("who", ["home_affairs", "committee"])
def test_home_affairs_and_the_committee_can_return_the_year_to_consolidation(session, who):
    people = open_small_cycle(session, ["STC"])
    through_evaluation(session, people, ["STC"])
    if who == "home_affairs":
        tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                            {"ha_decision": "return_to_consolidation", "ha_reason": "Xếp hạng khối sở chưa đúng."},
                            at(date(2026, 1, 8)))
    else:
        tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                            {"ha_decision": "propose"}, at(date(2026, 1, 8)))
        tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"],
                            {"committee_action": "return_to_consolidation", "committee_reason": "Rà soát xếp hạng."},
                            at(date(2026, 1, 9)))
    again = open_task(session, "consolidate")
    assert again.candidate_group == "dic_officer"
    consolidate(session, people, {"STC": {"ict_rank": 2, "ict_units": 2, "slow_conclusions": False}},
                date(2026, 1, 12))
    assert evaluations(session)["STC"].rating == "complete"  # the tables ran again on the new consolidation
    assert open_task(session, "evaluate").state == TaskState.OPEN
