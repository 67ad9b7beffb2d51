"""The process owner's pages under /definitions and POST /api/v1/definitions: upload, report, versions, download,
diff, choosing the version new cycles use, migrating an instance; and the round trip seen in the inbox.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

import definitions_api
from definitions_api import PASSWORD, token
from definitions_api import upload as api_upload
from factories import at, open_task, setup_people
from lxml import etree, html
from sqlalchemy import select
from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po

from webapp.extensions import db
from workflows import cycles, validation
from workflows.models import AuditEvent, DefinitionVersion, ProcessInstance

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


app = definitions_api.app  # the fixture (tests/webapp/definitions_api.py, shared with test_modeler_round_two.py)


def client_for(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def download(client, key: str, number: int, name: str) -> bytes:
    response = client.get(f"/definitions/{key}/v{number}/files/{name}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    return response.data


def rename_step(content: bytes, step: str, name: str) -> bytes:
    root = etree.fromstring(content)
    [element] = root.xpath("//*[@id=$id]", id=step)
    element.set("name", name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def upload(client, files: dict[str, bytes], comment: str = "Sửa tên bước", **extra: Any):
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()], "comment": comment,
            "make_current": "1", **extra}
    return client.post("/definitions/upload", data=data, content_type="multipart/form-data")


# --- pages ----------------------------------------------------------------------------------------------------------


def test_only_process_owners_and_administrators_see_the_pages(app):
    assert client_for(app, "owner").get("/definitions/").status_code == 200
    assert client_for(app, "admin").get("/definitions/agency_report").status_code == 200
    assert client_for(app, "dic_leader").get("/definitions/").status_code == 403
    assert app.test_client().get("/definitions/").status_code == 302


def test_the_index_lists_processes_with_the_version_new_cycles_use(app):
    page = client_for(app, "owner").get("/definitions/").get_data(as_text=True)
    assert "agency_report" in page and "unit_evaluation" in page and 'enctype="multipart/form-data"' in page


def test_an_upload_makes_a_version_and_the_versions_page_shows_who_when_why_and_hash(app):
    client = client_for(app, "owner")
    original = download(client, "agency_report", 1, "agency_report.bpmn")
    changed = rename_step(original, "approve_report", "Thủ trưởng duyệt")
    response = upload(client, {"agency_report.bpmn": changed}, "Đổi tên bước phê duyệt")
    assert response.status_code == 201
    assert "phiên bản mới 2" in response.get_data(as_text=True)
    page = client.get("/definitions/agency_report").get_data(as_text=True)
    assert "Đổi tên bước phê duyệt" in page and "Chủ quy trình (Sở TT&amp;TT)" in page
    with app.app_context():
        version = db.session.scalar(select(DefinitionVersion).where(DefinitionVersion.version == 2))
        assert version.sha256[:12] in page
    assert download(client, "agency_report", 2, "agency_report.bpmn") == changed


def test_a_refused_upload_shows_every_problem_with_file_element_and_line(app):
    client = client_for(app, "owner")
    content = download(client, "agency_report", 1, "agency_report.bpmn")
    broken = content.replace(b'camunda:candidateGroups="dic_officer"', b'camunda:candidateGroups="ke_toan"').replace(
        b'${head_decision == "approve"}', b"${execution.getVariable('x')}")
    response = upload(client, {"agency_report.bpmn": broken, "notes.form": b"{}"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    rows = [[cell.text_content().strip() for cell in row.findall("td")]
            for row in html.fromstring(page).xpath("//table[contains(@class, 'report')]/tbody/tr")]
    assert ["agency_report.bpmn", "review_reportThẩm định, tiếp nhận báo cáo", "100"] == rows[1][:3]
    assert any(r[0] == "agency_report.bpmn" and r[1].startswith("flow_head_approved") and r[2] for r in rows)
    assert rows[0][:3] == ["notes.form", "—", "—"]
    assert "Nhóm &#39;ke_toan&#39;" in page and "Camunda Forms" in page
    with app.app_context():
        assert db.session.query(DefinitionVersion).count() == 3  # nothing new


def test_the_report_reads_in_english_too(app):
    client = client_for(app, "owner")
    client.get("/definitions/?lang=en")
    response = upload(client, {"p.bpmn": b"<not xml"})
    assert response.status_code == 422 and "The file is not well-formed XML" in response.get_data(as_text=True)


def test_an_upload_without_a_comment_is_refused_next_to_the_field(app):
    client = client_for(app, "owner")
    content = download(client, "agency_report", 1, "agency_report.bpmn")
    response = upload(client, {"agency_report.bpmn": content}, comment="")
    assert response.status_code == 422 and 'id="e-comment"' in response.get_data(as_text=True)


def test_an_upload_above_the_size_limit_is_refused_before_it_is_read(app):
    client = client_for(app, "owner")
    big = b"<x>" + b"a" * (validation.MAX_TOTAL_BYTES + 1_100_000) + b"</x>"
    # Encoded by hand: the test client would spool so large a body to a temporary file it never closes.
    body = (b'--cut\r\nContent-Disposition: form-data; name="files"; filename="big.bpmn"\r\n\r\n' + big
            + b'\r\n--cut\r\nContent-Disposition: form-data; name="comment"\r\n\r\nx\r\n--cut--\r\n')
    response = client.post("/definitions/upload", data=body, content_type="multipart/form-data; boundary=cut")
    assert response.status_code == 413 and "quá lớn" in response.get_data(as_text=True)


def test_the_zip_holds_every_file_of_a_version(app):
    response = client_for(app, "owner").get("/definitions/unit_evaluation/v1.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "unit_evaluation.bpmn" in names and "rating.dmn" in names


def test_a_missing_file_or_version_is_404(app):
    client = client_for(app, "owner")
    assert client.get("/definitions/agency_report/v1/files/nope.bpmn").status_code == 404
    assert client.get("/definitions/agency_report/v7.zip").status_code == 404


def test_the_diff_page_shows_what_changed(app):
    client = client_for(app, "owner")
    changed = rename_step(download(client, "agency_report", 1, "agency_report.bpmn"), "draft_report", "Lập báo cáo năm")
    upload(client, {"agency_report.bpmn": changed})
    page = client.get("/definitions/agency_report/diff?from=1&to=2").get_data(as_text=True)
    assert "Lập báo cáo và tự đánh giá → Lập báo cáo năm" in page and "draft_report" in page


def test_choosing_the_version_new_cycles_start_on(app):
    client = client_for(app, "owner")
    changed = rename_step(download(client, "agency_report", 1, "agency_report.bpmn"), "draft_report", "Lập báo cáo năm")
    upload(client, {"agency_report.bpmn": changed})
    response = client.post("/definitions/agency_report/current", data={"version": "1", "reason": "Giữ bản cũ"})
    assert response.status_code == 303
    assert "phiên bản 1" in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "definition_current_chosen"))
        assert event.data["to"] == 1 and event.data["reason"] == "Giữ bản cũ"


def test_migrating_an_instance_shows_the_plan_needs_a_reason_and_is_recorded(app):
    with app.app_context():
        people = setup_people(db.session, ["STC"])
        cycles.open_cycle(db.session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                          unit_codes=["STC"])
        instance_id = open_task(db.session, "draft_report", "STC").instance_id
    client = client_for(app, "owner")
    changed = rename_step(download(client, "agency_report", 1, "agency_report.bpmn"), "draft_report", "Lập báo cáo năm")
    upload(client, {"agency_report.bpmn": changed})
    process_page = client.get("/definitions/agency_report").get_data(as_text=True)
    assert f"/definitions/instances/{instance_id}/migrate?to=2" in process_page
    plan = client.get(f"/definitions/instances/{instance_id}/migrate?to=2").get_data(as_text=True)
    assert "Lập báo cáo và tự đánh giá → Lập báo cáo năm" in plan and "đang chờ xử lý" in plan
    refused = client.post(f"/definitions/instances/{instance_id}/migrate", data={"to": "2", "reason": ""})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.get_data(as_text=True)
    done = client.post(f"/definitions/instances/{instance_id}/migrate", data={"to": "2", "reason": "Áp dụng ngay"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(ProcessInstance, instance_id).version.version == 2
        assert open_task(db.session, "draft_report", "STC").step_name == "Lập báo cáo năm"
    officer = client_for(app, "stc_officer")
    assert "Lập báo cáo năm" in officer.get("/tasks/?tab=group").get_data(as_text=True)



def test_the_migration_page_reads_in_english_steps_changes_and_refusals(app, compiled_catalogue):  # noqa: F811
    with app.app_context():
        people = setup_people(db.session, ["STC"])
        cycles.open_cycle(db.session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                          unit_codes=["STC"])
        instance_id = open_task(db.session, "draft_report", "STC").instance_id
    client = client_for(app, "owner")
    changed = rename_step(download(client, "agency_report", 1, "agency_report.bpmn"), "draft_report", "Lập báo cáo năm")
    upload(client, {"agency_report.bpmn": changed})
    plan = client.get(f"/definitions/instances/{instance_id}/migrate?to=2&lang=en").get_data(as_text=True)
    assert ">waiting to be worked on<" in plan and ">kept, with the changes applied<" in plan and "step name" in plan
    assert "đang chờ xử lý" not in plan and "tên bước" not in plan
    refused = client.get(f"/definitions/instances/{instance_id}/migrate?to=1&lang=en").get_data(as_text=True)
    assert "<li>The instance is already on version 1.</li>" in refused
    refused = client.get(f"/definitions/instances/{instance_id}/migrate?to=1&lang=vi").get_data(as_text=True)
    assert "<li>Hồ sơ đã ở phiên bản 1.</li>" in refused

def test_round_trip_through_the_pages_changes_what_the_next_cycle_shows_in_the_inbox(app):
    client = client_for(app, "owner")
    original = download(client, "agency_report", 1, "agency_report.bpmn")
    root = etree.fromstring(original)
    [draft] = root.xpath("//*[@id='draft_report']")
    draft.set("name", "Lập báo cáo CNTT năm")
    [field] = root.xpath("//*[@id='difficulties']")
    field.set("label", "Khó khăn và kiến nghị")
    edited = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert upload(client, {"agency_report.bpmn": edited}).status_code == 201
    with app.app_context():
        people = setup_people(db.session, ["STC"])
        cycles.open_cycle(db.session, 2026, date(2026, 12, 15), people["dic_leader"], now=at(date(2026, 11, 2)),
                          unit_codes=["STC"])
        task_id = open_task(db.session, "draft_report", "STC").id
    officer = client_for(app, "stc_officer")
    assert "Lập báo cáo CNTT năm" in officer.get("/tasks/?tab=group").get_data(as_text=True)
    assert "Khó khăn và kiến nghị" in officer.get(f"/tasks/{task_id}").get_data(as_text=True)


# --- the API --------------------------------------------------------------------------------------------------------


def test_api_upload_answers_201_with_the_versions(app):
    with app.app_context():
        content = db.session.scalar(select(DefinitionVersion).where(DefinitionVersion.version == 1)
                                    .join(DefinitionVersion.definition).filter_by(key="agency_report")).files[
            "agency_report.bpmn"].encode()
    response = api_upload(app, {"agency_report.bpmn": rename_step(content, "draft_report", "Mới")})
    assert response.status_code == 201
    body = response.get_json()
    assert body["versions"] == [{"process": "agency_report", "version": 2, "created": True}]
    listed = app.test_client().get("/api/v1/definitions/agency_report/versions", headers=token(app, "owner"))
    assert [v["version"] for v in listed.get_json()] == [2, 1] and listed.get_json()[0]["comment"] == "qua API"


def test_api_upload_answers_422_with_the_error_shape_and_every_problem(app):
    script = ('<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
              'id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" />'
              '<bpmn:scriptTask id="evil" name="Xấu"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
              '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="evil" /></bpmn:process></bpmn:definitions>').encode()
    response = api_upload(app, {"evil.bpmn": script, "x.txt": b"hello"})
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"error", "problems"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "definition_invalid"
    found = {(p["file"], p["element"], p["code"]) for p in body["problems"]}
    assert ("evil.bpmn", "evil", "script_task") in found and ("x.txt", None, "file_type") in found
    evil = next(p for p in body["problems"] if p["element"] == "evil")
    assert evil["line"] == 1 and evil["name"] == "Xấu" and evil["message"] and evil["message_en"]


def test_api_upload_needs_an_owner_a_token_and_a_comment(app):
    files = {"p.bpmn": b"<x/>"}
    assert api_upload(app, files, username="stc_officer").status_code == 403
    assert app.test_client().post("/api/v1/definitions").status_code == 401
    response = api_upload(app, files, comment=None)
    assert response.status_code == 422 and "comment" in response.get_json()["error"]["fields"]
    assert response.get_json()["problems"] == []  # the documented 422 shape, even when no file is at fault


def test_api_versions_carry_their_time_zone(app):
    listed = app.test_client().get("/api/v1/definitions/agency_report/versions", headers=token(app, "owner"))
    assert listed.get_json()[0]["created_at"].endswith("+00:00")


def test_the_openapi_document_lists_the_upload(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/definitions"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert "422" in operation["responses"] and "201" in operation["responses"]


# --- checking without uploading -------------------------------------------------------------------------------------


def test_check_only_tells_the_owner_what_an_upload_would_make_and_stores_nothing(app):
    client = client_for(app, "owner")
    changed = rename_step(download(client, "agency_report", 1, "agency_report.bpmn"), "approve_report", "Duyệt")
    with app.app_context():
        before = db.session.query(DefinitionVersion).count()
    response = upload(client, {"agency_report.bpmn": changed}, comment="", action="check")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kiểm tra xong, chưa lưu gì" in page and "sẽ thành phiên bản mới 2" in page
    with app.app_context():
        assert db.session.query(DefinitionVersion).count() == before
    unchanged = upload(client, {"agency_report.bpmn": download(client, "agency_report", 1, "agency_report.bpmn")},
                       action="check").get_data(as_text=True)
    assert "không đổi, vẫn là phiên bản 1" in unchanged


def test_check_only_of_a_broken_file_shows_every_problem_like_an_upload(app):
    client = client_for(app, "owner")
    content = download(client, "agency_report", 1, "agency_report.bpmn")
    broken = content.replace(b'camunda:candidateGroups="dic_officer"', b'camunda:candidateGroups="ke_toan"')
    response = upload(client, {"agency_report.bpmn": broken}, action="check")
    assert response.status_code == 422
    assert "Nhóm &#39;ke_toan&#39;" in response.get_data(as_text=True)


def test_api_dry_run_answers_200_with_the_versions_it_would_make_and_stores_nothing(app):
    with app.app_context():
        content = db.session.scalar(select(DefinitionVersion).where(DefinitionVersion.version == 1)
                                    .join(DefinitionVersion.definition).filter_by(key="agency_report")).files[
            "agency_report.bpmn"].encode()
        before = db.session.query(DefinitionVersion).count()
    data = {"files": [(io.BytesIO(rename_step(content, "draft_report", "Mới")), "agency_report.bpmn")],
            "dry_run": "true"}
    response = app.test_client().post("/api/v1/definitions", data=data, content_type="multipart/form-data",
                                      headers=token(app, "owner"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["dry_run"] is True
    assert body["versions"] == [{"process": "agency_report", "version": 2, "created": True}]
    with app.app_context():
        assert db.session.query(DefinitionVersion).count() == before
