"""English mode names units by agencies.csv's English names and steps by the catalogue or their diagram's `name_en`;
a step that has no English name anywhere shows in Vietnamese, marked so, rather than passing for English."""
from __future__ import annotations

import re

from flask import render_template_string
from test_english import client, compiled_catalogue, login, page  # noqa: F401 - fixtures and helpers
from test_modeler_round_two import app, chain, modeler_bpmn, upload  # noqa: F401

from webapp.extensions import db
from workflows.step_names import english_step_names

TWO_STEPS = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_named" name="Kiểm tra hồ sơ lưu trữ" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="name_en" value="Check the archive file" /></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Activity_plain" name="Đóng dấu văn bản" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_named", "Activity_plain", "EndEvent_1")


def test_unit_names_are_english_in_english_mode_and_vietnamese_otherwise(client):  # noqa: F811 - the fixture
    login(client, "stc_officer")
    english = page(client, "/tasks/?lang=en")
    assert "Department of Finance" in english and "Sở Tài chính" not in english
    task_id = re.search(r'href="/tasks/(\d+)"', english)[1]
    task_page = page(client, f"/tasks/{task_id}?lang=en")
    assert "<strong title=\"STC\">Department of Finance</strong>" in task_page
    assert "Sở Tài chính" in page(client, "/tasks/?lang=vi")


def test_a_step_named_in_english_by_its_diagram_shows_that_name_and_one_without_shows_marked_vietnamese(app):  # noqa: F811
    assert upload(app, {"archive.bpmn": modeler_bpmn("archive", TWO_STEPS)}).status_code == 201
    with app.app_context():
        names = english_step_names(db.session)
        assert names["Kiểm tra hồ sơ lưu trữ"] == "Check the archive file" and names["Đóng dấu văn bản"] is None
    shown = "<h1>{{ name|step_name }}</h1> <p title=\"{{ name|term }}\">"
    with app.test_request_context("/?lang=en"):
        assert render_template_string(shown, name="Kiểm tra hồ sơ lưu trữ") == (
            '<h1>Check the archive file</h1> <p title="Check the archive file">')
        assert render_template_string(shown, name="Đóng dấu văn bản") == (
            '<h1><span lang="vi" class="untranslated" title="No English name">Đóng dấu văn bản</span></h1>'
            ' <p title="Đóng dấu văn bản">')  # an attribute gets the plain name, never markup
        assert render_template_string(shown, name="Hoàn thành bước") == (  # not a step: a word shown as it is
            '<h1>Hoàn thành bước</h1> <p title="Hoàn thành bước">')
    with app.test_request_context("/?lang=vi"):
        assert render_template_string(shown, name="Đóng dấu văn bản") == (
            '<h1>Đóng dấu văn bản</h1> <p title="Đóng dấu văn bản">')
