"""Messages built in workflows/ (errors, each field's problem, "why is this task mine") in the page's language.

workflows/ writes them in Vietnamese as `workflows.messages.Text`; the web layer translates them on English pages and
leaves them exactly as they were on Vietnamese ones.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import select
from test_english import (
    catalogue,
    compiled_catalogue,  # noqa: F401 - the fixture: the .mo built from the .po
)
from test_task_pages import DAY, fragment, report_form

from webapp.extensions import db
from workflows import tasks, users
from workflows.models import Role, User

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "simulation-only"
BRACES = re.compile(r"\{\w*\}")
STEP_EN, STEP_VI = "Draft the report and self-assessment", "Lập báo cáo và tự đánh giá"


@pytest.fixture
def client(app, compiled_catalogue):  # noqa: F811
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV"], year=2025)
    return app.test_client()


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def choose(client, lang: str) -> None:
    """Switch the session's language the way a user does: any page with ?lang=…"""
    assert client.get(f"/tasks/?lang={lang}").status_code == 200


def text(response) -> str:
    """The page as a reader sees it: entities decoded, so that quotes compare as typed."""
    return html.unescape(response.get_data(as_text=True))


def task_id(app, step: str, unit_code: str = "STC") -> int:
    with app.app_context():
        return open_task(db.session, step, unit_code).id


def why(page: str) -> str:
    found = re.search(r"<details><summary>[^<]*</summary><p>([^<]*)</p></details>", page)
    assert found, page
    return found[1]


def test_a_report_without_a_status_is_refused_in_english_next_to_the_criterion(app, client):
    task = task_id(app, "draft_report")
    login(client, "stc_officer")
    choose(client, "en")
    response = client.post(f"/tasks/{task}", data=report_form(**{"status-M3.11.1": ""}))
    assert response.status_code == 422
    page = text(response)
    assert "The report is not valid; please check the marked fields." in page
    assert "Choose Met, Violated or Not applicable." in fragment(page, 'id="c-M3.11.1"', "</fieldset>")
    assert "Báo cáo chưa hợp lệ" not in page and "Chọn Đạt, Vi phạm hoặc Không áp dụng." not in page

    choose(client, "vi")
    page = text(client.post(f"/tasks/{task}", data=report_form(**{"status-M3.11.1": ""})))
    assert "Báo cáo chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu." in page
    assert "Chọn Đạt, Vi phạm hoặc Không áp dụng." in fragment(page, 'id="c-M3.11.1"', "</fieldset>")
    assert "The report is not valid" not in page and "Choose Met" not in page


def test_a_required_field_of_a_drawn_form_is_named_in_the_pages_language(app, client):
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "stc_officer"))
        tasks.complete_task(db.session, open_task(db.session, "draft_report", "STC").id, officer, report_payload(),
                            at(DAY))
    task = task_id(app, "approve_report")
    login(client, "stc_head")
    choose(client, "en")
    page = text(client.post(f"/tasks/{task}", data={"head_comment": ""}))
    assert "The data is not valid; please check the marked fields." in page
    assert "This field is required." in fragment(page, 'id="e-head_decision"', "</p>")

    choose(client, "vi")
    page = text(client.post(f"/tasks/{task}", data={"head_comment": ""}))
    assert "Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu." in page
    assert "Trường này là bắt buộc." in fragment(page, 'id="e-head_decision"', "</p>")
    assert "This field is required." not in page


def test_reassigning_without_a_reason_says_so_in_english_under_the_reason(app, client):
    task = task_id(app, "draft_report")
    login(client, "stc_head")
    choose(client, "en")
    response = client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer", "reason": ""})
    assert response.status_code == 422
    page = text(response)
    assert '<p class="flash error" role="alert">The task could not be reassigned.</p>' in page
    assert '<p class="field-error" id="reassign_reason_error">Enter the reason for reassigning.</p>' in page
    assert "Nhập lý do giao lại." not in page

    choose(client, "vi")
    page = text(client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer", "reason": ""}))
    assert '<p class="flash error" role="alert">Chưa giao lại được công việc.</p>' in page
    assert '<p class="field-error" id="reassign_reason_error">Nhập lý do giao lại.</p>' in page
    assert "Enter the reason" not in page


def test_a_forbidden_action_explains_itself_in_english_naming_the_step_in_english(app, client):
    task = task_id(app, "draft_report")
    login(client, "stc_officer")
    choose(client, "en")
    response = client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer", "reason": "Tự giao"})
    assert response.status_code == 403
    assert f"Only the leader in charge or a supervisor may reassign the task '{STEP_EN}'." in text(response)

    choose(client, "vi")
    page = text(client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer", "reason": "Tự giao"}))
    assert f"Chỉ lãnh đạo phụ trách hoặc người giám sát được giao lại công việc '{STEP_VI}'." in page


def test_a_second_submission_is_refused_in_a_flash_message_in_english(app, client):
    task = task_id(app, "draft_report")
    login(client, "stc_officer")
    choose(client, "en")
    assert client.post(f"/tasks/{task}", data=report_form()).status_code == 302
    again = client.post(f"/tasks/{task}", data=report_form(), follow_redirects=True)
    flashed = re.search(r'<p class="flash error" role="status">([^<]*)</p>', text(again))
    assert flashed, text(again)
    assert re.fullmatch(rf"The task '{STEP_EN}' was already handled by [^<]+ at \d\d:\d\d \d\d/\d\d/\d{{4}}; "
                        r"it cannot be submitted again\.", flashed[1]), flashed[1]


def test_why_the_task_is_mine_in_english_and_unchanged_in_vietnamese(app, client):
    with app.app_context():
        users.create_user(db.session, "stc_officer2", PASSWORD, "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
        db.session.commit()
    task = task_id(app, "draft_report")
    login(client, "stc_officer")
    english = why(text(client.get(f"/tasks/{task}?lang=en")))
    assert english == ("The step is in lane 'IT officer', group 'agency_officer', agency STC; "
                       "it is yours through the role IT officer of unit STC.")
    vietnamese = why(text(client.get(f"/tasks/{task}?lang=vi")))
    assert vietnamese == ("Bước thuộc làn 'Cán bộ chuyên trách CNTT', nhóm 'agency_officer', cơ quan STC; "
                          "bạn được giao theo vai trò Cán bộ chuyên trách CNTT của đơn vị STC.")

    # handed over by the head: the reason shows as typed inside the English sentence
    head = app.test_client()
    login(head, "stc_head")
    assert head.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer2",
                                                     "reason": "Chị An nghỉ phép"}).status_code == 303
    holder = app.test_client()
    login(holder, "stc_officer2")
    english = why(text(holder.get(f"/tasks/{task}?lang=en")))
    assert re.fullmatch(r"The step is in lane 'IT officer', group 'agency_officer', agency STC; it is yours through "
                        r"the role IT officer of unit STC\. .+ reassigned it to you on \d\d/\d\d/\d{4}: "
                        r"Chị An nghỉ phép", english), english


def test_the_api_answers_in_vietnamese_unless_english_is_asked_for(app, client):
    token = client.post("/api/v1/auth/token", json={"username": "stc_head", "password": PASSWORD}).get_json()["token"]
    task = task_id(app, "draft_report")

    def reassign(query: str = "") -> dict:
        response = client.post(f"/api/v1/tasks/{task}/reassign{query}", json={"assignee": "stc_officer", "reason": ""},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422, response.get_json()
        return response.get_json()["error"]

    assert reassign() == {"code": "invalid", "message": "Chưa giao lại được công việc.",
                          "fields": {"reason": "Nhập lý do giao lại."}}
    assert reassign("?lang=en") == {"code": "invalid", "message": "The task could not be reassigned.",
                                    "fields": {"reason": "Enter the reason for reassigning."}}


def test_every_message_of_workflows_has_an_english_translation_with_the_same_placeholders():
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    templates = {message for filename, _lineno, message, _comments, _context in
                 extract_from_dir(str(ROOT), method_map, options_map, keywords={"Text": None})
                 if filename.startswith(("workflows/", "webapp/"))}  # webapp/: admin audit messages, errors.py
    assert len(templates) > 100  # the extraction found the messages, not nothing
    english = {m.id: m.string for m in catalogue() if isinstance(m.id, str)}
    untranslated = sorted(t for t in templates if not english.get(t))
    assert not untranslated, untranslated
    for template in templates:
        assert sorted(BRACES.findall(english[template])) == sorted(BRACES.findall(template)), template
