"""Issue 9, done when: a first year with imported prior ranks, opened late, with a missing and a rejected report, a
Home Affairs return to consolidation and a dual-role reviewer, ends with official results in which every outcome was
computed from complete inputs or decided by a named person with a reason, and every article matches the outcome."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_task, setup_people, submit_report
from sqlalchemy import select

from workflows import cycles, definitions, results, tasks, users
from workflows.criteria import CRITERIA
from workflows.definitions import BPMN_DIR
from workflows.errors import NotAllowed
from workflows.models import Report, Role
from workflows.outcome_articles import RATING_ARTICLE, SANCTION_ARTICLE

CODES = ["STC", "SNV", "SYT", "STTTT"]


PASS_ALL = {c.id: "pass" for c in CRITERIA}


def _with_a_reject_choice() -> bytes:
    """agency_report as a process owner might extend it: DIC may also reject, ending at a 'rejected' end."""
    source = (BPMN_DIR / "agency_report.bpmn").read_bytes()
    return source.replace(
        b'<camunda:value id="return" name="Tr\xe1\xba\xa3 l\xe1\xba\xa1i \xc4\x91\xe1\xbb\x83 b\xe1\xbb\x95 sung" />',
        b'<camunda:value id="return" name="Tr\xe1\xba\xa3 l\xe1\xba\xa1i \xc4\x91\xe1\xbb\x83 b\xe1\xbb\x95 sung" />'
        b'<camunda:value id="reject" name="T\xe1\xbb\xab ch\xe1\xbb\x91i" />').replace(
        b"<bpmn:outgoing>flow_dic_returned</bpmn:outgoing>\n    </bpmn:exclusiveGateway>",
        b"<bpmn:outgoing>flow_dic_returned</bpmn:outgoing>\n<bpmn:outgoing>flow_dic_rejected</bpmn:outgoing>\n"
        b"    </bpmn:exclusiveGateway>\n"
        b'<bpmn:endEvent id="report_rejected" name="Rejected"><bpmn:extensionElements><camunda:properties>'
        b'<camunda:property name="outcome" value="rejected" /></camunda:properties></bpmn:extensionElements>'
        b"<bpmn:incoming>flow_dic_rejected</bpmn:incoming></bpmn:endEvent>\n"
        b'<bpmn:sequenceFlow id="flow_dic_rejected" sourceRef="dic_decision_gateway" targetRef="report_rejected">'
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${dic_decision == "reject"}'
        b"</bpmn:conditionExpression></bpmn:sequenceFlow>")


def test_a_difficult_first_year_ends_with_outcomes_each_computed_or_decided_by_a_named_person(session):
    people = setup_people(session, CODES)
    definitions.deploy_files(session, {"agency_report.bpmn": _with_a_reject_choice()})
    dual = users.create_user(session, "dual_role", "mật-khẩu-dài", "Hai vai trò", [Role.DIC_LEADER, Role.HOME_AFFAIRS])
    results.import_prior_ranks(session, 2023, "unit_code,rank,units\nSTC,4,4\nSNV,1,4\nSYT,2,4\nSTTTT,3,4\n")
    session.commit()
    # opened late (after 15/12/2024), confirmed
    cycles.open_cycle(session, 2024, "2024-12-16", people["dic_leader"], now=at(date(2025, 1, 6)),
                      unit_codes=CODES, confirm_late=True)
    for code in ("STC", "SYT", "STTTT"):
        submit_report(session, people, code, when=date(2025, 1, 7))
    for code in ("STC", "STTTT"):
        tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 1, 8)))
    tasks.complete_task(session, open_task(session, "review_report", "SYT").id, people["dic"],
                        {"dic_decision": "reject", "dic_comment": "Báo cáo không đúng mẫu."}, at(date(2025, 1, 8)))
    assert session.scalar(select(Report.outcome).where(Report.unit_code == "SYT")) == "rejected"
    cycles.close_reporting(session, 2024, people["dic_leader"], now=at(date(2025, 1, 20)))  # SNV never reported
    units = {"STC": {"ict_rank": 4, "ict_units": 4, "slow_conclusions": True, "appraisal": {"M4.12.1": "fail",
                                                                                            "M1.5.1": "fail"}},
             # no accepted report: DIC appraises what it knows of them (workflows/consolidation.py)
             "SNV": {"ict_rank": 1, "ict_units": 4, "slow_conclusions": False, "appraisal": PASS_ALL},
             "SYT": {"ict_rank": 2, "ict_units": 4, "slow_conclusions": False, "appraisal": PASS_ALL},
             "STTTT": {"ict_rank": 3, "ict_units": 4, "slow_conclusions": False}}
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units},
                        at(date(2025, 1, 21)))
    settle = [{"unit_code": c, "field": f, "value": v, "reason": "Không có báo cáo được tiếp nhận: vi phạm Mục 4."}
              for c in ("SNV", "SYT") for f, v in (("rating", "incomplete"), ("sanction", "criticism"))]
    tasks.complete_task(session, open_task(session, "evaluate").id, dual, {"overrides": settle}, at(date(2025, 1, 22)))
    review = open_task(session, "review_dic_self_evaluation")
    with pytest.raises(NotAllowed):  # the dual-role user evaluated DIC: they may not review it
        tasks.complete_task(session, review.id, dual, {}, at(date(2025, 1, 23)))
    tasks.complete_task(session, review.id, people["home_affairs"], {}, at(date(2025, 1, 23)))
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "return_to_consolidation", "ha_reason": "Rà soát xếp hạng."},
                        at(date(2025, 1, 24)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units},
                        at(date(2025, 1, 27)))
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {"overrides": settle},
                        at(date(2025, 1, 28)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2025, 1, 29)))
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "propose"}, at(date(2025, 1, 30)))
    tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"],
                        {"committee_action": "decide", "decision_number": "9/QĐ-UBND", "decision_date": "2025-02-03"},
                        at(date(2025, 2, 3)))
    rows = {r["unit_code"]: r for r in cycles.results(session, 2024)}
    assert {c: r["report_status"] for c, r in rows.items()} == {"STC": "accepted", "STTTT": "accepted",
                                                                 "SNV": "missing", "SYT": "missing"}
    # STC: bottom 15% in 2023 (imported) and 2024, two sections, slow: R3, Khiển trách, computed
    assert rows["STC"]["sanction"] == "reprimand" and rows["STC"]["overrides"] == []
    for code, row in rows.items():
        assert row["final"]
        computed = row["proposed"]["rating"] == row["rating"] and row["proposed"]["sanction"] == row["sanction"]
        decided = all(o["by"] and o["reason"].strip() for o in row["overrides"]) and row["overrides"]
        assert computed or decided, code
        assert "RATING_PENDING_REVIEW" not in row["reasons"]
        assert [a for a in row["articles"] if a.startswith("Điều 15")] == [RATING_ARTICLE[row["rating"]]]
        if row["sanction"] in SANCTION_ARTICLE:
            assert any(a.startswith(SANCTION_ARTICLE[row["sanction"]]) for a in row["articles"]), code
    assert "NO_REPORT" in rows["SNV"]["reasons"] and "NO_REPORT" in rows["SYT"]["reasons"]
