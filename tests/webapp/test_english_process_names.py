"""A process's English name (issue 14): the catalogue's for the bundled processes, else its diagram's `name_en`
property on the process, else its Vietnamese name marked as such, as steps do."""
from __future__ import annotations

from datetime import date

from factories import at
from sqlalchemy import select
from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po
from test_modeler_round_two import app, chain, modeler_bpmn, start, upload  # noqa: F401

from webapp.extensions import db
from workflows import cycles
from workflows.models import User
from workflows.step_names import english_process_names

PASSWORD = "simulation-only"
STEP = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_check" name="Kiểm tra hồ sơ" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_check", "EndEvent_1")
NAMED = """    <bpmn:extensionElements>
      <camunda:properties><camunda:property name="name_en" value="Archive inspection" /></camunda:properties>
    </bpmn:extensionElements>
""" + STEP
MARKED = '<span lang="vi" class="untranslated" title="No English name">Quy trình đóng dấu</span>'


def html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True).split("<h1>")[-1][:300])
    return response.get_data(as_text=True)


def test_a_process_named_in_english_by_its_diagram_shows_that_name_and_one_without_is_marked(  # noqa: F811
        app, compiled_catalogue):  # noqa: F811
    files = {"archive.bpmn": modeler_bpmn("archive", NAMED, name="Quy trình kiểm tra lưu trữ"),
             "stamp.bpmn": modeler_bpmn("stamp", STEP.replace("Activity_check", "Activity_stamp"),
                                        name="Quy trình đóng dấu")}
    response = upload(app, files)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        names = english_process_names(db.session)
        assert names["Quy trình kiểm tra lưu trữ"] == "Archive inspection" and names["Quy trình đóng dấu"] is None
        assert names["Báo cáo kết quả ứng dụng CNTT hằng năm"] == "Annual IT-application report"  # bpmn/ too
    with app.app_context():  # an instance's page links the year's documents, so the year's cycle must exist
        leader = db.session.scalar(select(User).where(User.username == "dic_leader"))
        cycles.open_cycle(db.session, 2026, date(2026, 12, 15), leader, now=at(date(2026, 11, 2)), unit_codes=["STC"])
    instance_id, _ = start(app, "archive", {})
    client = app.test_client()
    assert client.post("/login", data={"username": "owner", "password": PASSWORD}).status_code == 302
    for url in ("/processes/?lang=en", "/definitions/?lang=en"):
        english = html(client, url)
        assert "Archive inspection" in english and "Quy trình kiểm tra lưu trữ" not in english, url
        assert MARKED in english, url  # no English name anywhere: shown in Vietnamese, marked so
        assert "Annual IT-application report" in english, url  # the catalogue's name for a bundled process
    assert "<h1>Archive inspection – version 1</h1>" in html(client, "/processes/archive/v1?lang=en")
    assert "<h1>Archive inspection" in html(client, f"/cycles/instances/{instance_id}?lang=en")
    assert "<strong>Archive inspection</strong>" in html(client, f"/processes/instances/{instance_id}/diagram?lang=en")
    vietnamese = html(client, "/processes/?lang=vi")
    assert "Quy trình kiểm tra lưu trữ" in vietnamese and "Archive inspection" not in vietnamese
    assert 'lang="vi" class="untranslated"' not in vietnamese
