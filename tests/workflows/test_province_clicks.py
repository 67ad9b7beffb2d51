"""The province-wide clicks after the reports: the reviews touch only the units they change, and the decision makes
the whole year final with articles and subject flags as they stand on the day it is taken."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import cycles, demo, tasks
from workflows.errors import InvalidInput
from workflows.models import Evaluation, User
from workflows.outcome_articles import RATING_ARTICLE

CODES = ["STC", "SNV", "SYT"]


def _through_home_affairs(session, people) -> None:
    for code in CODES:
        submit_report(session, people, code)
        tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    units = {c: {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False} for c in CODES}
    units["STC"] = {"ict_rank": 1, "ict_units": 1, "slow_conclusions": True, "appraisal": {"M4.12.1": "fail"}}  # R1
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units},
                        at(date(2026, 1, 5)))
    settled = demo._settle_manual_reviews(session, 2025, {})  # as the simulation settles them, each with a reason
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {"overrides": settled},
                        at(date(2026, 1, 6)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2026, 1, 7)))
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "propose"}, at(date(2026, 1, 8)))


def test_the_decision_makes_every_outcome_final_as_things_stand_that_day(session):
    people = open_small_cycle(session, CODES)
    _through_home_affairs(session, people)
    before = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    assert before["STC"]["sanction"] == "criticism" and "SUBJECT_AMBIGUOUS" in before["STC"]["reasons"]  # 2 people
    assert before["SNV"]["rating"] != "incomplete"
    session.get(User, people["stc_head"].id).is_active = False  # the head leaves before the Committee decides
    session.commit()
    tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"], {
        "committee_action": "decide", "decision_number": "12/QĐ-UBND", "decision_date": "2026-04-20",
        "overrides": [{"unit_code": "SNV", "field": "rating", "value": "incomplete", "reason": "Chưa đủ minh chứng."}],
    }, at(date(2026, 4, 20)))
    session.expire_all()
    rows = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    assert {(r["final"], r["decision_number"]) for r in rows.values()} == {(True, "12/QĐ-UBND")}
    assert "SUBJECT_AMBIGUOUS" not in rows["STC"]["reasons"]  # one person left to bear it: no longer ambiguous
    # the article of the changed rating, not the proposal's; the others keep the article of their own rating
    assert rows["SNV"]["rating"] == "incomplete" and "Điều 15.3" in rows["SNV"]["articles"]
    assert RATING_ARTICLE[before["SNV"]["rating"]] not in rows["SNV"]["articles"]
    assert {RATING_ARTICLE[r["rating"]] for r in rows.values()} <= {a for r in rows.values() for a in r["articles"]}
    decided = session.scalars(select(Evaluation.decision_date).where(Evaluation.year == 2025)).all()
    assert set(decided) == {date(2026, 4, 20)}
    assert cycles.get_cycle(session, 2025).status.value == "decided"


@pytest.mark.parametrize("code", ["XXX", "STC "])
def test_a_review_naming_a_unit_outside_the_year_is_refused_naming_the_field(session, code):
    people = open_small_cycle(session, CODES)
    _through_home_affairs(session, people)
    task_id = open_task(session, "committee_decision").id
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(session, task_id, people["committee"], {
            "committee_action": "decide", "decision_number": "12/QĐ-UBND", "decision_date": "2026-04-20",
            "overrides": [{"unit_code": code, "field": "rating", "value": "complete", "reason": "Lý do."}],
        }, at(date(2026, 4, 20)))
    assert "overrides[0].unit_code" in refused.value.fields
    assert not any(e.final for e in session.scalars(select(Evaluation).where(Evaluation.year == 2025)))
