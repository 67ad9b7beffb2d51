"""Versions for process owners: upload, list, download exactly as uploaded, diff, choose, migrate; the round trip."""
from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import pytest
from factories import at, open_task, report_payload, setup_people
from lxml import etree
from sqlalchemy import select

from workflows import cycles, definitions, engine, instance_migration, runtime, tasks, version_diff, versions
from workflows.errors import Conflict, DefinitionInvalid, InvalidInput, NotAllowed, NotFound
from workflows.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, TaskState

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@pytest.fixture
def people(session):
    return setup_people(session, ["STC", "SNV"])


def modeler_edit(content: bytes, change: Any) -> bytes:
    """Change a file as Camunda Modeler would: parse, edit elements and attributes, write it back whole."""
    root = etree.fromstring(content)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def element(root: Any, ident: str) -> Any:
    [found] = root.xpath("//*[@id=$id]", id=ident)
    return found


def rename_draft_and_add_a_field(root: Any) -> None:
    draft = element(root, "draft_report")
    draft.set("name", "Lập báo cáo năm và tự đánh giá")
    element(root, "difficulties").set("label", "Khó khăn, vướng mắc, đề xuất")
    form_data = draft.find(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData")
    field = etree.SubElement(form_data, f"{{{CAMUNDA}}}formField", id="contact_phone", label="Điện thoại liên hệ",
                             type="string")
    validation = etree.SubElement(field, f"{{{CAMUNDA}}}validation")
    etree.SubElement(validation, f"{{{CAMUNDA}}}constraint", name="maxlength", config="20")


def downloaded(session, key: str, number: int) -> dict[str, bytes]:
    version = versions.get_version(session, key, number)
    return {name: versions.version_file(session, key, number, name) for name in version.files}


# --- upload and listing --------------------------------------------------------------------------------------------


def test_an_upload_makes_a_numbered_version_with_who_when_why_and_hash(session, people):
    files = downloaded(session, "agency_report", 1)
    changed = {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"], rename_draft_and_add_a_field)}
    result = versions.upload(session, changed, people["owner"], "Thêm số điện thoại liên hệ")
    assert [(d.process_key, d.version, d.created) for d in result.deployments] == [("agency_report", 2, True)]
    [newest, first] = versions.list_versions(session, "agency_report")
    assert (newest.version, newest.created_by, newest.comment, newest.is_current) == (
        2, "Chủ quy trình (Sở TT&TT)", "Thêm số điện thoại liên hệ", True)
    assert len(newest.sha256) == 64 and newest.sha256 != first.sha256 and not first.is_current
    audit = session.scalar(select(AuditEvent).where(AuditEvent.kind == "definition_deployed"))
    assert audit.actor_id == people["owner"].id and audit.data["version"] == 2 and audit.data["sha256"] == newest.sha256


def test_the_same_files_again_make_no_new_version(session, people):
    result = versions.upload(session, downloaded(session, "agency_report", 1), people["owner"], "again")
    assert [(d.version, d.created) for d in result.deployments] == [(1, False)]
    assert len(versions.list_versions(session, "agency_report")) == 1


def test_only_process_owners_and_administrators_upload(session, people):
    files = downloaded(session, "agency_report", 1)
    with pytest.raises(NotAllowed):
        versions.upload(session, files, people["dic_leader"], "x")
    assert versions.upload(session, files, people["admin"], "x").deployments


def test_only_process_owners_and_administrators_check_an_upload(session, people):
    files = downloaded(session, "agency_report", 1)
    with pytest.raises(NotAllowed):
        versions.check_upload(session, files, people["stc_officer"])
    assert [(d.version, d.created) for d in versions.check_upload(session, files, people["admin"]).deployments] == [
        (1, False)]


def test_an_upload_needs_a_comment(session, people):
    with pytest.raises(InvalidInput) as caught:
        versions.upload(session, downloaded(session, "agency_report", 1), people["owner"], "  ")
    assert set(caught.value.fields) == {"comment"}


def test_a_refused_upload_stores_nothing_and_says_why(session, people):
    files = downloaded(session, "agency_report", 1)
    broken = files["agency_report.bpmn"].replace(b'camunda:candidateGroups="agency_head"',
                                                 b'camunda:candidateGroups="truong_phong"')
    with pytest.raises(DefinitionInvalid) as caught:
        versions.upload(session, {"agency_report.bpmn": broken}, people["owner"], "x")
    assert [(p["code"], p["element"]) for p in caught.value.problems] == [("unknown_group", "approve_report")]
    assert len(versions.list_versions(session, "agency_report")) == 1
    assert session.scalar(select(AuditEvent).where(AuditEvent.kind == "definition_deployed")) is None


def test_a_changed_table_alone_is_completed_from_the_current_version(session, people):
    rating = versions.version_file(session, "unit_evaluation", 1, "rating.dmn")

    def change(root: Any) -> None:
        cell = root.find(f".//{{{DMN}}}rule[@id='rating_rule_excellent']/{{{DMN}}}description")
        cell.text = cell.text + " (sửa)"

    result = versions.upload(session, {"rating.dmn": modeler_edit(rating, change)}, people["owner"], "Sửa mô tả")
    assert [(d.process_key, d.version) for d in result.created] == [("unit_evaluation", 2)]
    assert set(result.completed_from) == {"unit_evaluation.bpmn", "ict_rank_class.dmn", "prev_ict_rank_class.dmn",
                                          "reward.dmn", "sanction.dmn"}
    assert set(versions.get_version(session, "unit_evaluation", 2).files) == set(
        versions.get_version(session, "unit_evaluation", 1).files)


def test_processes_are_listed_with_their_current_version(session, people):
    rows = {p.key: p for p in versions.list_processes(session)}
    assert set(rows) == {"agency_report", "annual_cycle", "unit_evaluation"}
    assert (rows["agency_report"].current, rows["agency_report"].newest, rows["agency_report"].chosen) == (1, 1, False)


# --- download exactly as uploaded -------------------------------------------------------------------------------


def test_a_download_is_byte_for_byte_the_upload(session, people):
    original = downloaded(session, "agency_report", 1)["agency_report.bpmn"]
    # Windows line endings and a byte-order mark are kept, because owners reopen the file in Camunda Modeler.
    odd = b"\xef\xbb\xbf" + original.replace(b"\n", b"\r\n").replace(
        "Phê duyệt báo cáo".encode(), "Phê duyệt báo cáo (bản Windows)".encode())
    versions.upload(session, {"agency_report.bpmn": odd}, people["owner"], "CRLF")
    assert versions.version_file(session, "agency_report", 2, "agency_report.bpmn") == odd
    archive = zipfile.ZipFile(io.BytesIO(versions.version_zip(session, "agency_report", 2)))
    assert archive.namelist() == ["agency_report.bpmn"] and archive.read("agency_report.bpmn") == odd


def test_asking_for_a_missing_version_or_file(session, people):
    with pytest.raises(NotFound):
        versions.get_version(session, "agency_report", 9)
    with pytest.raises(NotFound):
        versions.version_file(session, "agency_report", 1, "../../etc/passwd")


# --- what changed ---------------------------------------------------------------------------------------------------


def test_the_diff_names_steps_fields_flows_and_rules(session, people):
    files = downloaded(session, "agency_report", 1)

    def change(root: Any) -> None:
        rename_draft_and_add_a_field(root)
        process = root.find(f"{{{BPMN}}}process")
        flow = element(root, "flow_dic_accepted")
        flow.find(f"{{{BPMN}}}conditionExpression").text = '${dic_decision == "accept" && true}'
        review = element(root, "review_report")
        review.set(f"{{{CAMUNDA}}}candidateGroups", "dic_leader")
        element(root, "head_comment").getparent().remove(element(root, "head_comment"))
        assert process is not None

    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"], change)},
                    people["owner"], "v2")
    result = version_diff.diff(session, "agency_report", 1, 2)
    steps = {c.key: c for c in result.of("step")}
    assert steps["draft_report"].details == (("name", "Lập báo cáo và tự đánh giá", "Lập báo cáo năm và tự đánh giá"),)
    assert steps["review_report"].details == (("role", "dic_officer", "dic_leader"),)
    fields = {c.key: c.status for c in result.of("field")}
    assert fields == {"draft_report.difficulties": "changed", "draft_report.contact_phone": "added",
                      "approve_report.head_comment": "removed"}
    [flow] = result.of("flow")
    assert flow.key == "flow_dic_accepted" and flow.details[0][0] == "condition"
    assert [c.key for c in result.of("file")] == ["agency_report.bpmn"] and "contact_phone" in result.text[
        "agency_report.bpmn"]


def test_the_diff_of_a_decision_table_lists_rules_added_removed_and_changed(session, people):
    rating = versions.version_file(session, "unit_evaluation", 1, "rating.dmn")

    def change(root: Any) -> None:
        table = root.find(f".//{{{DMN}}}decisionTable")
        table.set("hitPolicy", "FIRST")
        rules = table.findall(f"{{{DMN}}}rule")
        table.remove(rules[-1])
        rules[0].find(f"{{{DMN}}}inputEntry/{{{DMN}}}text").text = '"top20","middle"'
        extra = etree.fromstring(etree.tostring(rules[1]))
        extra.set("id", "rating_rule_new")
        for index, entry in enumerate(extra.iter(f"{{{DMN}}}inputEntry", f"{{{DMN}}}outputEntry")):
            entry.set("id", f"new_entry_{index}")
        table.append(extra)

    versions.upload(session, {"rating.dmn": modeler_edit(rating, change)}, people["owner"], "bảng mới")
    result = version_diff.diff(session, "unit_evaluation", 1, 2)
    [decision] = result.of("decision")
    assert decision.details == (("hit policy", "UNIQUE", "FIRST"),)
    statuses = {c.key.split(".", 1)[1]: c.status for c in result.of("rule")}
    assert statuses["rating_rule_new"] == "added" and list(statuses.values()).count("removed") == 1
    changed = [c for c in result.of("rule") if c.status == "changed"]
    assert changed and any(what.startswith("if ") for what, _, _ in changed[0].details)


def test_two_equal_versions_have_an_empty_diff(session, people):
    assert version_diff.diff(session, "agency_report", 1, 1).empty


# --- choosing the version new cycles start on --------------------------------------------------------------------


def test_choosing_an_older_version_makes_new_cycles_start_on_it_and_is_audited(session, people):
    files = downloaded(session, "agency_report", 1)
    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"],
                                                                 rename_draft_and_add_a_field)}, people["owner"], "v2")
    assert definitions.latest_version(session, "agency_report").version == 2
    versions.choose_current(session, "agency_report", 1, people["owner"], "Quay lại bản cũ")
    assert definitions.latest_version(session, "agency_report").version == 1
    cycles.open_cycle(session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                      unit_codes=["STC"])
    assert open_task(session, "draft_report", "STC").step_name == "Lập báo cáo và tự đánh giá"
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "definition_current_chosen"))
    assert event.data == {"process": "agency_report", "from": 2, "to": 1, "reason": "Quay lại bản cũ"}
    with pytest.raises(NotAllowed):
        versions.choose_current(session, "agency_report", 2, people["stc_officer"])


# --- the round trip ----------------------------------------------------------------------------------------------


def test_round_trip_download_edit_upload_and_the_next_cycle_runs_on_it(session, people):
    cycles.open_cycle(session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                      unit_codes=["STC"])
    files = downloaded(session, "agency_report", 1)
    edited = modeler_edit(files["agency_report.bpmn"], rename_draft_and_add_a_field)
    versions.upload(session, {"agency_report.bpmn": edited}, people["owner"], "Đổi tên bước, thêm trường")
    cycles.open_cycle(session, 2026, date(2026, 12, 15), people["dic_leader"], now=at(date(2026, 11, 2)),
                      unit_codes=["STC"])
    old_task = session.scalar(select(HumanTask).where(HumanTask.year == 2025, HumanTask.step_id == "draft_report"))
    new_task = session.scalar(select(HumanTask).where(HumanTask.year == 2026, HumanTask.step_id == "draft_report"))
    assert old_task.step_name == "Lập báo cáo và tự đánh giá"  # the running year stays on its version
    assert new_task.step_name == "Lập báo cáo năm và tự đánh giá"
    page = tasks.task_page(session, new_task.id, people["stc_officer"], date(2026, 11, 3))
    labels = {f.id: f.label for f in page.fields}
    assert labels["contact_phone"] == "Điện thoại liên hệ"
    assert labels["difficulties"] == "Khó khăn, vướng mắc, đề xuất"
    old_page = tasks.task_page(session, old_task.id, people["stc_officer"], date(2026, 11, 3))
    assert "contact_phone" not in {f.id for f in old_page.fields}
    # The new field is enforced as drawn: maxlength 20.
    with pytest.raises(InvalidInput) as caught:
        tasks.complete_task(session, new_task.id, people["stc_officer"],
                            {**report_payload(), "contact_phone": "0" * 21}, at(date(2026, 11, 5)))
    assert set(caught.value.fields) == {"contact_phone"}
    tasks.complete_task(session, new_task.id, people["stc_officer"], {**report_payload(), "contact_phone": "0222"},
                        at(date(2026, 11, 5)))
    assert open_task(session, "approve_report", "STC").year == 2026


# --- migrating a running instance -------------------------------------------------------------------------------


@pytest.fixture
def running(session, people):
    cycles.open_cycle(session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                      unit_codes=["STC"])
    return open_task(session, "draft_report", "STC").instance


def test_a_rename_can_be_migrated_and_the_open_step_follows(session, people, running):
    files = downloaded(session, "agency_report", 1)
    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"],
                                                                 rename_draft_and_add_a_field)}, people["owner"], "v2")
    plan = instance_migration.migration_plan(session, running.id, 2)
    assert plan.allowed and (plan.from_version, plan.to_version) == (1, 2)
    [step] = plan.steps
    assert (step.step_id, step.state, step.outcome, step.new_name) == (
        "draft_report", "ready", "changed", "Lập báo cáo năm và tự đánh giá")
    assert "tên bước" in step.changes and "trường biểu mẫu" in step.changes
    task_uuid = open_task(session, "draft_report", "STC").task_uuid
    instance_migration.migrate_instance(session, running.id, 2, people["owner"], "Áp dụng tên mới cho năm nay")
    session.expire_all()
    instance = session.get(ProcessInstance, running.id)
    assert instance.version.version == 2
    row = open_task(session, "draft_report", "STC")
    assert (row.task_uuid, row.step_name) == (task_uuid, "Lập báo cáo năm và tự đánh giá")
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "instance_migrated"))
    assert event.instance_id == running.id and event.actor_id == people["owner"].id
    assert event.data["reason"] == "Áp dụng tên mới cho năm nay" and (event.data["from"], event.data["to"]) == (1, 2)
    # and the instance goes on, on the new version, with the new field
    tasks.complete_task(session, row.id, people["stc_officer"], {**report_payload(), "contact_phone": "1"},
                        at(date(2025, 11, 5)))
    assert open_task(session, "approve_report", "STC").instance_id == running.id


def test_a_migration_needs_a_reason_and_an_owner(session, people, running):
    files = downloaded(session, "agency_report", 1)
    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"],
                                                                 rename_draft_and_add_a_field)}, people["owner"], "v2")
    with pytest.raises(InvalidInput) as caught:
        instance_migration.migrate_instance(session, running.id, 2, people["owner"], " ")
    assert set(caught.value.fields) == {"reason"}
    with pytest.raises(NotAllowed):
        instance_migration.migrate_instance(session, running.id, 2, people["stc_officer"], "x")
    assert session.get(ProcessInstance, running.id).version.version == 1


def test_a_change_that_removes_the_step_the_instance_stands_at_is_refused_with_its_reason(session, people, running):
    files = downloaded(session, "agency_report", 1)

    def remove_draft(root: Any) -> None:
        process = root.find(f"{{{BPMN}}}process")
        draft = element(root, "draft_report")
        process.remove(draft)
        for flow_id in ("flow_draft_submitted", "flow_head_returned", "flow_dic_returned"):
            process.remove(element(root, flow_id))
        element(root, "flow_report_requested").set("targetRef", "approve_report")
        for ref in root.iter(f"{{{BPMN}}}flowNodeRef"):
            if ref.text == "draft_report":
                ref.getparent().remove(ref)
        for node in (element(root, "head_decision_gateway"), element(root, "dic_decision_gateway")):
            for outgoing in node.findall(f"{{{BPMN}}}outgoing"):
                if outgoing.text in ("flow_head_returned", "flow_dic_returned"):
                    node.remove(outgoing)
        for diagram in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape",
                                 "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge"):
            if diagram.get("bpmnElement") in ("draft_report", "flow_draft_submitted", "flow_head_returned",
                                              "flow_dic_returned"):
                diagram.getparent().remove(diagram)
        for gateway_id, flow_id in (("head_decision_gateway", "flow_head_approved"),
                                    ("dic_decision_gateway", "flow_dic_accepted")):
            element(root, gateway_id).set("default", flow_id)

    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"], remove_draft)},
                    people["owner"], "Bỏ bước lập báo cáo")
    plan = instance_migration.migration_plan(session, running.id, 2)
    assert not plan.allowed
    assert plan.reasons == ["Bước 'Lập báo cáo và tự đánh giá' mà hồ sơ đang dừng ở đó không còn trong phiên bản 2."]
    with pytest.raises(Conflict):
        instance_migration.migrate_instance(session, running.id, 2, people["owner"], "thử")
    assert session.get(ProcessInstance, running.id).version.version == 1
    assert open_task(session, "draft_report", "STC").state == TaskState.OPEN


def test_an_ended_instance_and_the_same_version_are_not_migrated(session, people, running):
    plan = instance_migration.migration_plan(session, running.id, 1)
    assert not plan.allowed and plan.reasons == ["Hồ sơ đã ở phiên bản 1."]
    ctx = runtime.Context.create(session, people["owner"])
    runtime.cancel(ctx, running, "thử")
    runtime.commit(ctx)
    files = downloaded(session, "agency_report", 1)
    versions.upload(session, {"agency_report.bpmn": modeler_edit(files["agency_report.bpmn"],
                                                                 rename_draft_and_add_a_field)}, people["owner"], "v2")
    assert session.get(ProcessInstance, running.id).status == InstanceStatus.CANCELLED
    assert instance_migration.migration_plan(session, running.id, 2).reasons[0].startswith("Hồ sơ đã kết thúc")


def test_running_instances_are_listed_with_their_open_steps(session, people, running):
    [row] = instance_migration.running_instances(session, "agency_report")
    assert (row.id, row.version, row.steps) == (running.id, 1, ["Lập báo cáo và tự đánh giá"])


def test_the_engine_refuses_to_migrate_what_its_plan_forbids():
    files = {p.name: p.read_bytes() for p in definitions.BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    compiled = engine.compile_files(files)
    report, cycle = compiled["agency_report"].spec_json, compiled["annual_cycle"].spec_json
    run = engine.Run.start(report, {})
    run.advance()
    assert run.migration_plan(report).allowed  # the same spec: nothing changes
    plan = run.migration_plan(cycle)  # another process altogether
    assert ("step_removed", "draft_report") in plan.blockers
    with pytest.raises(engine.EngineError):
        run.migrate(cycle)
    with pytest.raises(engine.EngineError):
        engine.Run.start(report, {}).migrate(report)  # never run: nothing to move, and no crash
