"""Consolidation is not closed empty: missing ranks and appraisals are named; drafts are kept unit by unit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import at, open_small_cycle, open_task, submit_report
from workflows import cycles, tasks, unit_drafts
from workflows.criteria import CRITERIA
from workflows.errors import InvalidInput, NotAllowed
from workflows.models import Evaluation, HumanTask, UnitDraft

DAY = at(date(2026, 1, 5))


def _to_consolidation(session, codes=("STC", "SNV", "BNI")):
    people = open_small_cycle(session, list(codes))
    for code in codes:
        submit_report(session, people, code)
        tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    return people, open_task(session, "consolidate").id


def test_an_empty_consolidation_is_refused_naming_every_unit_without_a_rank(session):
    people, task_id = _to_consolidation(session)
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"], {}, DAY)
    assert {"units.STC.ict_rank", "units.SNV.ict_rank", "units.BNI.ict_rank"} <= set(error.value.fields)
    assert "BNI, SNV, STC" in str(error.value.message)
    assert session.get(HumanTask, task_id).state.value == "open"
    assert all(e.ict_rank is None and e.rating is None for e in session.scalars(select(Evaluation)))


def test_a_unit_without_a_report_needs_dics_appraisal(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    cycles.fire_due(session, at(date(2025, 12, 16), 1))
    task_id = open_task(session, "consolidate").id
    ranks = {"STC": {"ict_rank": 1}, "SNV": {"ict_rank": 2}}
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"], {"units": ranks}, DAY)
    assert set(error.value.fields) == {"units.SNV.appraisal"}
    assert "SNV" in str(error.value.message)
    ranks["SNV"]["appraisal"] = {c.id: "pass" for c in CRITERIA}
    tasks.complete_task(session, task_id, people["dic"], {"units": ranks}, DAY)
    assert session.scalar(select(Evaluation).where(Evaluation.unit_code == "SNV")).sections_violated == []


def test_a_block_stated_not_ranked_with_a_reason_needs_no_ranks(session):
    people, task_id = _to_consolidation(session)
    ranked = {"units": {"STC": {"ict_rank": 1}, "SNV": {"ict_rank": 2}}}
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"], {**ranked, "not_ranked": {"district": " "}}, DAY)
    assert set(error.value.fields) == {"not_ranked.district"}
    with pytest.raises(InvalidInput) as error:  # a block stated not ranked cannot carry a rank
        tasks.complete_task(session, task_id, people["dic"],
                            {"units": {**ranked["units"], "BNI": {"ict_rank": 1}},
                             "not_ranked": {"district": "Chưa công bố ICT Index khối huyện"}}, DAY)
    assert set(error.value.fields) == {"units.BNI.ict_rank"}
    tasks.complete_task(session, task_id, people["dic"],
                        {**ranked, "not_ranked": {"district": "Chưa công bố ICT Index khối huyện"}}, DAY)
    ranks = {e.unit_code: (e.ict_rank, e.ict_units) for e in session.scalars(select(Evaluation))}
    assert ranks == {"STC": (1, 2), "SNV": (2, 2), "BNI": (None, None)}


def test_unit_drafts_are_saved_one_by_one_and_submitted_together(session):
    people, task_id = _to_consolidation(session)
    lock = session.get(HumanTask, task_id).lock_version
    unit_drafts.save_unit_drafts(session, task_id, people["dic"], {"STC": {"ict_rank": 1}}, now=DAY)
    unit_drafts.save_unit_drafts(session, task_id, people["dic"], {"SNV": {"ict_rank": 2}}, now=at(date(2026, 1, 6)))
    saved = {d.unit_code: d.saved_at for d in session.scalars(select(UnitDraft))}
    assert saved["STC"] < saved["SNV"]  # saving SNV left STC's row alone
    assert session.get(HumanTask, task_id).lock_version == lock  # and the task row untouched
    unit_drafts.save_unit_drafts(session, task_id, people["dic"], {"STC": {"slow_conclusions": True}}, merge=True)
    assert unit_drafts.drafts_of(session, task_id)["STC"] == {"ict_rank": 1, "slow_conclusions": True}
    with pytest.raises(InvalidInput):
        unit_drafts.save_unit_drafts(session, task_id, people["dic"], {"ZZZ": {"ict_rank": 1}})
    with pytest.raises(NotAllowed):
        unit_drafts.save_unit_drafts(session, task_id, people["stc_officer"], {"STC": {"ict_rank": 1}})
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"], {}, DAY)
    assert set(error.value.fields) == {"units.BNI.ict_rank"}
    unit_drafts.save_unit_drafts(session, task_id, people["dic"], {"BNI": {"ict_rank": 1}})
    tasks.complete_task(session, task_id, people["dic"], {"confirmed": True}, DAY)
    stc = session.scalar(select(Evaluation).where(Evaluation.unit_code == "STC"))
    assert (stc.ict_rank, stc.ict_units, stc.slow_conclusions) == (1, 2, True)


def test_evaluation_drafts_per_unit_become_overrides_with_their_reason(session):
    people, task_id = _to_consolidation(session, ("STC",))
    tasks.complete_task(session, task_id, people["dic"], {"units": {"STC": {"ict_rank": 1, "ict_units": 1,
                                                                            "slow_conclusions": False}}}, DAY)
    evaluate = open_task(session, "evaluate").id
    unit_drafts.save_unit_drafts(session, evaluate, people["dic_leader"],
                                 {"STC": {"values": {"rating": "complete"}, "reason": "Thiếu minh chứng"}})
    tasks.complete_task(session, evaluate, people["dic_leader"], {"confirmed": True}, at(date(2026, 1, 6)))
    stc = session.scalar(select(Evaluation).where(Evaluation.unit_code == "STC"))
    assert stc.rating == "complete" and stc.overrides[0].reason == "Thiếu minh chứng"


def test_a_home_affairs_return_to_consolidation_reopens_it_with_the_ranks_entered(session):
    people, task_id = _to_consolidation(session, ("STC",))
    tasks.complete_task(session, task_id, people["dic"], {"units": {"STC": {"ict_rank": 1, "ict_units": 1,
                                                                            "slow_conclusions": False}}}, DAY)
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {}, at(date(2026, 1, 6)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2026, 1, 7)))
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "return_to_consolidation", "ha_reason": "Thứ hạng khối sở cần đối chiếu lại"},
                        at(date(2026, 1, 7)))
    again = open_task(session, "consolidate")
    assert again.id != task_id
    # the year starts again from what was recorded: nothing to retype, and a change goes through its draft
    unit_drafts.save_unit_drafts(session, again.id, people["dic"], {"STC": {"ict_rank": 2, "ict_units": 3}})
    tasks.complete_task(session, again.id, people["dic"], {"confirmed": True}, at(date(2026, 1, 8)))
    stc = session.scalar(select(Evaluation).where(Evaluation.unit_code == "STC"))
    assert (stc.ict_rank, stc.ict_units) == (2, 3)
    assert open_task(session, "evaluate")
