"""Issue 9: the year's outcome is decided by complete inputs or by a named person, and the path to it can't go wrong
silently (returns to consolidation, reports that never came, late openings, four eyes by person, report outcomes)."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, setup_people, submit_report
from sqlalchemy import select

from workflows import cycles, definitions, demo, report_outcome, results, settings, tasks, users
from workflows.criteria import CRITERIA
from workflows.definitions import BPMN_DIR
from workflows.errors import InvalidInput, NotAllowed
from workflows.models import Evaluation, Report, Role, TaskState, User


def accept(session, people: dict[str, User], code: str, when: date = date(2025, 11, 11)) -> None:
    tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                        {"dic_decision": "accept"}, at(when))


def consolidate(session, people, units: dict[str, dict], when: date = date(2026, 1, 5), **statement) -> None:
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units, **statement},
                        at(when))


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


def test_a_unit_without_an_accepted_report_is_not_rated_by_the_tables(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    accept(session, people, "STC")
    cycles.fire_due(session, at(date(2025, 12, 16), 0))  # SNV never reported
    # SNV ranks first: the tables alone would propose HTXS and a reward
    consolidate(session, people, {"STC": {"ict_rank": 2, "ict_units": 2, "slow_conclusions": False},
                                  "SNV": {"ict_rank": 1, "ict_units": 2, "slow_conclusions": False,
                                          "appraisal": {c.id: "pass" for c in CRITERIA}}})
    snv = evaluations(session)["SNV"]
    assert (snv.rating, snv.reward) == ("manual_review", "none")
    assert {"NO_REPORT", "LATE_REPORT"} <= set(snv.reasons)
    task_id = open_task(session, "evaluate").id
    with pytest.raises(InvalidInput) as error:  # nobody settled it: DIC cannot finish the evaluation
        tasks.complete_task(session, task_id, people["dic_leader"], {}, at(date(2026, 1, 6)))
    assert "units.SNV" in error.value.fields
    settle = [{"unit_code": "SNV", "field": f, "value": v, "reason": "Không nộp báo cáo: tính là vi phạm Mục 4."}
              for f, v in (("rating", "incomplete"), ("sanction", "criticism"))]
    tasks.complete_task(session, task_id, people["dic_leader"], {"overrides": settle}, at(date(2026, 1, 6)))
    rows = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    assert rows["SNV"]["report_status"] == "missing" and rows["STC"]["report_status"] == "accepted"
    assert rows["SNV"]["overrides"][0]["by"] == "dic_leader"


def test_a_report_accepted_after_the_deadline_is_late_and_goes_to_a_person(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    accept(session, people, "STC")
    submit_report(session, people, "SNV", when=date(2025, 12, 10))
    accept(session, people, "SNV", when=date(2025, 12, 17))  # accepted after 15/12, before any timer pass
    consolidate(session, people, {c: {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False} for c in ("STC",
                                                                                                         "SNV")})
    rows = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    assert rows["SNV"]["report_status"] == "late" and "NO_REPORT" not in rows["SNV"]["reasons"]
    assert rows["SNV"]["rating"] == "manual_review" and "LATE_REPORT" in rows["SNV"]["reasons"]


def test_a_deadline_in_the_past_is_refused_unless_the_late_opening_is_confirmed(session):
    people = setup_people(session, ["STC"])
    with pytest.raises(InvalidInput) as error:
        cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], now=at(date(2026, 12, 4)),
                          unit_codes=["STC"])
    assert "report_due" in error.value.fields
    cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], now=at(date(2026, 12, 4)),
                      unit_codes=["STC"], confirm_late=True)
    assert cycles.fire_due(session, at(date(2026, 12, 5))) == 0  # no timer fires at once
    draft = open_task(session, "draft_report", "STC")
    assert draft.due_on is None  # no unit is late from the first minute
    with pytest.raises(AssertionError):
        open_task(session, "consolidate")
    cycles.close_reporting(session, 2025, people["dic_leader"], now=at(date(2027, 1, 4)))
    assert open_task(session, "consolidate")
    assert evaluations(session)["STC"].report_status == "missing"


def test_final_results_cite_the_clause_of_the_outcome_chosen_and_nothing_pending(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    for code in ("STC", "SNV"):
        submit_report(session, people, code)
        accept(session, people, code)
    consolidate(session, people, {
        "STC": {"ict_rank": None, "slow_conclusions": False},  # NOT_RANKED: rating to a person
        "SNV": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False,
                "appraisal": {"M4.12.1": "fail"}},  # R4: KHT without a sanction rule
    }, not_ranked={"STC": "Không có trong Chỉ số ICT công bố năm nay."})
    assert evaluations(session)["SNV"].sanction == "manual_review"
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {"overrides": [
        {"unit_code": "STC", "field": "rating", "value": "complete", "reason": "Không xếp hạng: Hoàn thành."},
        {"unit_code": "SNV", "field": "sanction", "value": "criticism", "reason": "Vi phạm Mục 4.",
         "article": "Điều 17.1"},
    ]}, at(date(2026, 1, 6)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2026, 1, 7)))
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "propose"}, at(date(2026, 1, 8)))
    tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"],
                        {"committee_action": "decide", "decision_number": "1/QĐ-UBND", "decision_date": "2026-01-09"},
                        at(date(2026, 1, 9)))
    rows = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    for row in rows.values():
        assert row["final"] and "RATING_PENDING_REVIEW" not in row["reasons"]
        assert len([a for a in row["articles"] if a.startswith("Điều 15")]) == 1
    assert [a for a in rows["STC"]["articles"] if a.startswith("Điều 15")] == ["Điều 15.2"]
    assert "Điều 15.3" in rows["SNV"]["articles"] and "Điều 17.1" in rows["SNV"]["articles"]


def test_an_override_naming_a_clause_of_another_outcome_is_refused(session):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    accept(session, people, "STC")
    consolidate(session, people, {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}})
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {"overrides": [
            {"unit_code": "STC", "field": "sanction", "value": "criticism", "reason": "x", "article": "Điều 15.1"}]},
            at(date(2026, 1, 6)))
    assert "overrides[0].article" in error.value.fields


def test_a_person_who_took_part_in_dics_evaluation_cannot_review_it_whatever_their_roles(session):
    people = open_small_cycle(session, ["STTTT"])
    dual = users.create_user(session, "dual_role", "mật-khẩu-dài", "Cán bộ hai vai trò",
                             [Role.DIC_LEADER, Role.HOME_AFFAIRS], None)
    session.commit()
    submit_report(session, people, "STTTT")
    accept(session, people, "STTTT")
    consolidate(session, people, {"STTTT": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}})
    assert "CONFLICT_OF_INTEREST" in evaluations(session)["STTTT"].reasons
    tasks.complete_task(session, open_task(session, "evaluate").id, dual, {}, at(date(2026, 1, 6)))
    review = open_task(session, "review_dic_self_evaluation")
    with pytest.raises(NotAllowed) as error:
        tasks.complete_task(session, review.id, dual, {}, at(date(2026, 1, 7)))
    assert "CONFLICT_OF_INTEREST" in str(error.value)
    tasks.complete_task(session, review.id, people["home_affairs"], {}, at(date(2026, 1, 7)))


REJECTING_END = b"""
    <bpmn:endEvent id="report_rejected" name="B\xc3\xa1o c\xc3\xa1o b\xe1\xbb\x8b t\xe1\xbb\xab ch\xe1\xbb\x91i">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="outcome" value="rejected" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_dic_accepted</bpmn:incoming>
    </bpmn:endEvent>"""


def test_a_report_ending_at_a_rejected_end_is_not_an_accepted_report(session):
    """A process owner points DIC's 'accept' at a rejected end: the report ends, but does not count as in."""
    source = (BPMN_DIR / "agency_report.bpmn").read_bytes()
    changed = source.replace(b'targetRef="report_accepted"', b'targetRef="report_rejected"').replace(
        b"<bpmn:incoming>flow_dic_accepted</bpmn:incoming>", b"", 1).replace(
        b"</bpmn:endEvent>", b"</bpmn:endEvent>" + REJECTING_END, 1)
    assert report_outcome.end_event_outcomes({"agency_report.bpmn": changed}) == {
        "report_accepted": "accepted", "report_rejected": "rejected"}
    people = setup_people(session, ["STC", "SNV"])
    definitions.deploy_files(session, {"agency_report.bpmn": changed})
    session.commit()
    cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], now=at(date(2025, 11, 2)),
                      unit_codes=["STC", "SNV"])
    for code in ("STC", "SNV"):
        submit_report(session, people, code)
        accept(session, people, code)
    with pytest.raises(AssertionError):  # both ended, neither accepted: the cycle still waits
        open_task(session, "consolidate")
    assert {r.outcome for r in session.scalars(select(Report))} == {"rejected"}
    cycles.fire_due(session, at(date(2025, 12, 16), 0))
    assert {e.report_status for e in evaluations(session).values()} == {"missing"}


def test_end_events_are_classified_from_their_outcome_property():
    files = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.suffix == ".bpmn"}
    assert report_outcome.end_event_outcomes(files) == {"report_accepted": "accepted"}
    assert report_outcome.unclassified_end_events(files) == []
    unnamed = files["agency_report.bpmn"].replace(b'<camunda:property name="outcome" value="accepted" />', b"")
    assert report_outcome.unclassified_end_events({"agency_report.bpmn": unnamed}) == ["report_accepted"]


def test_simulate_runs_a_year_whose_15_december_is_a_sunday_and_consecutive_years_on_one_database(session):
    first = demo.simulate(session, 2024, 28)  # 15/12/2024 is a Sunday: the deadline rolls to Monday 16/12
    assert len(first.results) == 28 and all(row["final"] for row in first.results)
    second = demo.simulate(session, 2025, 28)  # 2024's results are 2025's "previous year"
    assert len(second.results) == 28 and all(row["final"] for row in second.results)
    # 2023's ranks were imported for 2024's two-years rule; 2023's own cycle now takes those rows over
    earlier = demo.simulate(session, 2023, 28)
    assert len(earlier.results) == 28 and all(row["final"] for row in earlier.results)


def test_a_return_for_revision_gets_the_years_revision_period_not_the_rest_of_the_deadline(session):
    people = open_small_cycle(session, ["STC"])
    settings.set_setting(session, 2025, "revision_wd", 3)
    session.commit()
    submit_report(session, people, "STC", when=date(2025, 12, 12))
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "return", "dic_comment": "Thiếu minh chứng."}, at(date(2025, 12, 15)))
    # Monday 15/12 + 3 working days = Thursday 18/12, after the original deadline
    assert open_task(session, "draft_report", "STC").due_on == date(2025, 12, 18)
    submit_report(session, people, "STC", when=date(2025, 12, 17))
    accept(session, people, "STC", when=date(2025, 12, 17))
    consolidate(session, people, {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}})
    assert evaluations(session)["STC"].report_status == "accepted"  # back within its revision period


def test_rank_shares_and_critical_criteria_are_settings_of_the_year(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    settings.set_setting(session, 2025, "top_share", 0.5)
    settings.set_setting(session, 2025, "critical_criteria", ["M1.5.1"])
    with pytest.raises(InvalidInput):
        settings.set_setting(session, 2025, "bottom_share", 2)
    session.commit()
    for code in ("STC", "SNV"):
        submit_report(session, people, code)
        accept(session, people, code)
    consolidate(session, people, {
        "STC": {"ict_rank": 2, "ict_units": 4, "slow_conclusions": False},  # top 50% of 4 = ranks 1-2
        "SNV": {"ict_rank": 3, "ict_units": 4, "slow_conclusions": False, "appraisal": {"M4.12.1": "fail"}},
    })
    rows = evaluations(session)
    assert rows["STC"].rating == "excellent"
    assert rows["SNV"].sections_violated == [] and rows["SNV"].rating == "complete"  # M4.12.1 is not critical


def test_results_name_the_persons_evaluated_and_flag_who_bears_a_sanction(session):
    people = open_small_cycle(session, ["STC", "BNI"])
    for code in ("STC", "BNI"):
        submit_report(session, people, code)
        accept(session, people, code)
    consolidate(session, people, {
        "STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": True, "appraisal": {"M4.12.1": "fail"}},  # R1
        "BNI": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": True,
                "appraisal": {"M1.5.1": "fail", "M2.7.1": "fail", "M3.10.1": "fail"}},  # R5: three sections
    })
    rows = {r["unit_code"]: r for r in cycles.results(session, 2025)}
    assert [(s["username"], s["role"]) for s in rows["STC"]["subjects"]] == [("stc_head", "head"),
                                                                           ("stc_deputy", "deputy")]
    assert rows["STC"]["sanction"] == "criticism" and "SUBJECT_AMBIGUOUS" in rows["STC"]["reasons"]
    assert "CANBO_NOT_CONGCHUC" not in rows["STC"]["reasons"]  # a department head is a công chức
    assert "CANBO_NOT_CONGCHUC" in rows["BNI"]["reasons"]  # a district chair facing Khiển trách or Cảnh cáo


def test_a_tie_across_a_boundary_last_year_is_flagged_like_this_years(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    results.import_prior_ranks(session, 2024, "unit_code,rank,units\nSTC,1,2\nSNV,1,2\n")  # tied first of two
    session.commit()
    for code in ("STC", "SNV"):
        submit_report(session, people, code)
        accept(session, people, code)
    consolidate(session, people, {"STC": {"ict_rank": 1, "ict_units": 2, "slow_conclusions": False},
                                  "SNV": {"ict_rank": 2, "ict_units": 2, "slow_conclusions": False}})
    assert all("RANK_TIE" in e.reasons for e in evaluations(session).values())
