"""Service functions: deployment and versions, opening a cycle, the results store, users; and their bad input."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from factories import at, open_small_cycle, open_task, report_payload, setup_people, submit_report
from sqlalchemy import func, select

from workflows import cycles, definitions, results, tasks, users
from workflows.definitions import BPMN_DIR
from workflows.errors import Conflict, DefinitionInvalid, InvalidInput, NotAllowed
from workflows.models import DefinitionVersion, Evaluation, HumanTask, InstanceStatus, ProcessInstance, Role
from workflows.units import load_units, units_of_year

NOV_2 = at(date(2025, 11, 2))  # before the report deadlines these tests use


def bpmn_files(**changes: bytes) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    files.update(changes)
    return files


def test_deploying_unchanged_files_makes_no_new_version(session):
    first = definitions.deploy_directory(session)
    again = definitions.deploy_directory(session)
    assert {d.process_key: d.version for d in first} == {"agency_report": 1, "annual_cycle": 1, "unit_evaluation": 1}
    assert not any(d.created for d in again)
    assert session.scalar(select(DefinitionVersion).where(DefinitionVersion.version == 2)) is None


def test_a_changed_file_makes_a_new_version_of_that_process_only(session):
    definitions.deploy_directory(session)
    renamed = (BPMN_DIR / "agency_report.bpmn").read_bytes().replace(
        "Phê duyệt báo cáo".encode(), "Phê duyệt và ký báo cáo".encode())
    files = bpmn_files(**{"agency_report.bpmn": renamed})
    deployed = {d.process_key: d for d in definitions.deploy_files(session, files)}
    assert deployed["agency_report"].version == 2 and deployed["agency_report"].created
    assert not deployed["annual_cycle"].created and not deployed["unit_evaluation"].created


def test_a_changed_decision_table_makes_a_new_version_of_the_process_that_uses_it(session):
    definitions.deploy_directory(session)
    changed = (BPMN_DIR / "reward.dmn").read_bytes().replace("Điều 16.1 –".encode(), "Điều 16 khoản 1 –".encode(), 1)
    assert changed != (BPMN_DIR / "reward.dmn").read_bytes()
    deployed = {d.process_key: d for d in definitions.deploy_files(session, bpmn_files(**{"reward.dmn": changed}))}
    assert deployed["unit_evaluation"].version == 2 and not deployed["agency_report"].created


def test_running_instances_stay_on_the_version_they_started_with(session):
    people = open_small_cycle(session, ["STC"])
    renamed = (BPMN_DIR / "agency_report.bpmn").read_bytes().replace(
        "Phê duyệt báo cáo".encode(), "Phê duyệt và ký báo cáo".encode())
    definitions.deploy_files(session, bpmn_files(**{"agency_report.bpmn": renamed}))
    session.commit()
    tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                        report_payload(), at(date(2025, 11, 5)))
    assert open_task(session, "approve_report", "STC").step_name == "Phê duyệt báo cáo"
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == "STC"))
    assert session.get(DefinitionVersion, instance.version_id).version == 1


def test_a_file_that_is_not_xml_is_refused_with_its_name(session):
    with pytest.raises(DefinitionInvalid) as error:
        definitions.deploy_files(session, bpmn_files(**{"agency_report.bpmn": b"<bpmn:definitions"}))
    assert "agency_report.bpmn" in error.value.message


def test_an_entity_expansion_bomb_is_refused(session):
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><definitions>&lol;</definitions>'
    with pytest.raises(DefinitionInvalid) as error:
        definitions.deploy_files(session, {"bomb.bpmn": bomb})
    assert "DOCTYPE" in error.value.message


def test_a_script_task_is_refused_at_deployment(session):
    hostile = (BPMN_DIR / "agency_report.bpmn").read_bytes().replace(
        b'<bpmn:userTask id="approve_report"', b'<bpmn:scriptTask id="approve_report"').replace(
        b"</bpmn:userTask>\n    <bpmn:exclusiveGateway id=\"head_decision_gateway\"",
        b"</bpmn:scriptTask>\n    <bpmn:exclusiveGateway id=\"head_decision_gateway\"")
    with pytest.raises(DefinitionInvalid) as error:
        definitions.deploy_files(session, bpmn_files(**{"agency_report.bpmn": hostile}))
    assert error.value.problems and error.value.problems[0]["file"] == "agency_report.bpmn"


def test_opening_a_cycle_refuses_bad_years_and_dates(session):
    people = setup_people(session, ["STC"])
    for year, due, field in ((1999, "1999-12-15", "year"), ("2025", "2025-12-15", "year"),
                             (2025, "15/12/2025", "report_due"), (2025, "2030-01-01", "report_due")):
        with pytest.raises(InvalidInput) as error:
            cycles.open_cycle(session, year, due, people["dic_leader"], now=NOV_2)
        assert field in error.value.fields


@pytest.mark.parametrize(("unit_codes", "text"), [
    (["STC", "XYZ", "ABC"], "Không có đơn vị mã ABC, XYZ trong năm 2025."),
    ([], "Chọn ít nhất một đơn vị."),
    ("STC", "Danh sách đơn vị phải là các mã đơn vị."),
    ([7], "Danh sách đơn vị phải là các mã đơn vị."),
])
def test_a_pilot_with_units_that_did_not_exist_that_year_is_refused_and_nothing_opens(session, unit_codes, text):
    people = setup_people(session, ["STC"])
    with pytest.raises(InvalidInput) as error:
        cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], unit_codes=unit_codes,
                          now=NOV_2)
    assert error.value.fields == {"unit_codes": text}
    assert session.scalar(select(func.count(ProcessInstance.id))) == 0


def test_only_dic_opens_a_cycle_and_only_once(session):
    people = setup_people(session, ["STC"])
    with pytest.raises(NotAllowed):
        cycles.open_cycle(session, 2025, "2025-12-15", people["stc_head"],
                          now=NOV_2)
    cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], unit_codes=["STC"],
                          now=NOV_2)
    with pytest.raises(Conflict):
        cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], unit_codes=["STC"],
                          now=NOV_2)


def test_a_deadline_on_a_day_off_moves_to_the_next_working_day(session):
    people = setup_people(session, ["STC"])
    cycle = cycles.open_cycle(session, 2025, "2025-12-13", people["dic_leader"], unit_codes=["STC"],
                          now=NOV_2)  # a Saturday
    assert cycle.report_due == date(2025, 12, 15)


def test_the_cycle_waits_for_every_report_then_moves_on_by_itself(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    for code in ("STC", "SNV"):
        submit_report(session, people, code)
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    assert session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code.is_(None))).status \
        == InstanceStatus.RUNNING
    with pytest.raises(AssertionError):
        open_task(session, "consolidate")
    tasks.complete_task(session, open_task(session, "review_report", "SNV").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    assert open_task(session, "consolidate").candidate_group == "dic_officer"


def test_a_missing_report_is_flagged_late_when_the_deadline_passes(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    assert cycles.fire_due(session, at(date(2025, 12, 15), 23)) == 0  # due at the end of the 15th
    assert cycles.fire_due(session, at(date(2025, 12, 16), 0)) == 1
    late = {e.unit_code: e.late_report for e in session.scalars(select(Evaluation))}
    assert late == {"STC": False, "SNV": True}
    assert open_task(session, "consolidate")


def test_prior_ranks_import_reads_csv_and_names_bad_lines(session):
    load_units(session)
    assert results.import_prior_ranks(session, 2024, "code,rank,units\nSTC,3,20\nBNI,8\n") == 2
    ranks = {e.unit_code: (e.ict_rank, e.ict_units) for e in session.scalars(select(Evaluation))}
    assert ranks == {"STC": (3, 20), "BNI": (8, 1)}  # a district block of one in this file
    with pytest.raises(InvalidInput) as error:
        results.import_prior_ranks(session, 2024, "code,rank,units\nSTC,x\nSNV,0,20\nXYZ,1,5\nSTC,21,20")
    assert set(error.value.fields) == {"line 2", "line 3", "line 4", "line 5"}  # line 4: unknown unit
    with pytest.raises(InvalidInput) as error:
        results.import_prior_ranks(session, 2024, "XYZ,1,5")
    assert "XYZ" in error.value.fields["line 1"]


def test_consolidation_refuses_a_rank_above_the_block_and_unknown_units(session):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    task_id = open_task(session, "consolidate").id
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"],
                            {"units": {"STC": {"ict_rank": 5, "ict_units": 4}, "ZZZ": {}}}, at(date(2026, 1, 5)))
    assert set(error.value.fields) == {"units.STC.ict_rank", "units.ZZZ"}
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic"],
                            {"units": {"STC": {"ict_rank": "1", "slow_conclusions": "maybe"}}}, at(date(2026, 1, 5)))
    assert set(error.value.fields) == {"units.STC.ict_rank", "units.STC.slow_conclusions"}


def test_overrides_need_a_reason_and_a_known_value(session):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"],
                        {"units": {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                        at(date(2026, 1, 5)))
    task_id = open_task(session, "evaluate").id
    bad = [{"unit_code": "STC", "field": "rating", "value": "complete", "reason": " "},
           {"unit_code": "STC", "field": "rating", "value": "superb", "reason": "x"},
           {"unit_code": "STC", "field": "salary", "value": "none", "reason": "x"}]
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task_id, people["dic_leader"], {"overrides": bad}, at(date(2026, 1, 6)))
    assert set(error.value.fields) == {"overrides[0].reason", "overrides[1].value", "overrides[2].field"}
    tasks.complete_task(session, task_id, people["dic_leader"], {"overrides": [
        {"unit_code": "STC", "field": "rating", "value": "complete", "reason": "Chưa có minh chứng cho nhóm 20%"}]},
        at(date(2026, 1, 6)))
    evaluation = session.scalar(select(Evaluation).where(Evaluation.unit_code == "STC"))
    assert evaluation.rating == "complete" and evaluation.overrides[0].reason == "Chưa có minh chứng cho nhóm 20%"
    assert evaluation.overrides[0].old_value == "excellent" and evaluation.overrides[0].by.username == "dic_leader"


def test_dic_staff_cannot_review_dics_own_result(session):
    people = open_small_cycle(session, ["STTTT"])
    submit_report(session, people, "STTTT")
    tasks.complete_task(session, open_task(session, "review_report", "STTTT").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"],
                        {"units": {"STTTT": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                        at(date(2026, 1, 5)))
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {}, at(date(2026, 1, 6)))
    review = open_task(session, "review_dic_self_evaluation")
    insider = users.create_user(session, "dic_insider", "mật-khẩu-dài", "Cán bộ", [Role.HOME_AFFAIRS], "STTTT")
    session.commit()
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, review.id, insider, {}, at(date(2026, 1, 7)))
    tasks.complete_task(session, review.id, people["home_affairs"], {}, at(date(2026, 1, 7)))


def test_user_creation_and_deputy_assignment_refuse_bad_input(session):
    load_units(session)
    users.create_user(session, "stc_head", "mật-khẩu-dài", "Thủ trưởng", [Role.AGENCY_HEAD], "STC")
    with pytest.raises(InvalidInput) as error:
        users.create_user(session, "STC_HEAD", "ngắn", "X", [Role.AGENCY_HEAD], "STC")
    assert set(error.value.fields) == {"username", "password"}
    head = users.get_by_username(session, "stc_head")
    deputy = users.create_user(session, "snv_deputy", "mật-khẩu-dài", "Cấp phó", [Role.DEPUTY], "SNV")
    with pytest.raises(InvalidInput) as error:
        users.assign_deputy(session, head, deputy, " ", date(2025, 1, 1), date(2025, 6, 1), date(2025, 1, 1))
    assert set(error.value.fields) == {"document_number", "valid_to", "deputy"}


def test_units_follow_their_effective_dated_history(session):
    load_units(session)
    names_2020 = {u.code: u.name_vi for u in units_of_year(session, 2020)}
    names_2022 = {u.code: u.name_vi for u in units_of_year(session, 2022)}
    assert names_2020["TSO"] == "Thị xã Từ Sơn" and names_2022["TSO"] == "Thành phố Từ Sơn"
    assert len(names_2022) == 28


def test_the_agencies_file_is_the_one_in_shared_domain():
    shipped = Path(__file__).resolve().parents[2] / "workflows" / "data" / "agencies.csv"
    assert shipped.read_text(encoding="utf-8").count("\n") >= 28


def test_a_last_report_accepted_after_the_deadline_opens_consolidation_once(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    for code in ("STC", "SNV"):
        submit_report(session, people, code, when=date(2025, 12, 10))
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 12, 11)))
    # the deadline (15/12) passes with no timer pass, then DIC accepts the last report
    tasks.complete_task(session, open_task(session, "review_report", "SNV").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 12, 17)))
    cycles.fire_due(session, at(date(2025, 12, 18)))
    consolidations = session.scalars(select(HumanTask).where(HumanTask.step_id == "consolidate")).all()
    assert len(consolidations) == 1
