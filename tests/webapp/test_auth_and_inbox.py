"""Login, lock-out, and the task inbox as each kind of user sees it."""
from __future__ import annotations

import re
from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload, submit_report

from webapp.extensions import db
from workflows import inbox, tasks
from workflows.models import DeputyAssignment, User

PASSWORD = "simulation-only"


@pytest.fixture
def client(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV", "STTTT"], year=2025)
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def test_wrong_password_shows_a_clear_vietnamese_error(client):
    response = login(client, "stc_officer", "sai-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_five_failures_make_even_the_right_password_wait_with_the_same_answer(client):
    for _ in range(5):
        login(client, "stc_officer", "sai-mat-khau")
    response = login(client, "stc_officer")
    assert response.status_code == 401
    # the same words as a wrong password: a throttled account is not told apart from a wrong or unknown one
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_login_then_logout(client):
    response = login(client, "stc_officer")
    assert response.status_code == 302 and response.location.endswith("/tasks/")
    assert client.get("/tasks/").status_code == 200
    client.post("/logout")
    assert client.get("/tasks/").status_code == 302


def test_login_never_redirects_to_another_site(client):
    response = client.post("/login?next=https://evil.example/x", data={"username": "stc_officer",
                                                                       "password": PASSWORD})
    assert response.location.endswith("/tasks/")


def test_remember_me_sets_a_lasting_cookie(client):
    response = client.post("/login", data={"username": "stc_officer", "password": PASSWORD, "remember": "1"})
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_pages_need_login(client):
    assert client.get("/tasks/").status_code == 302


def test_csrf_protects_forms(app):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400


def test_officer_sees_own_agency_report_in_the_group_tab_with_counts(client):
    login(client, "stc_officer")
    page = client.get("/tasks/?tab=group").get_data(as_text=True)
    assert "Việc của nhóm" in page and "Lập báo cáo và tự đánh giá" in page
    assert "Sở Tài chính" in page and "Sở Nội vụ" not in page
    assert "15/12/2025" in page  # dd/mm/yyyy


def _three_reports_at_dic() -> User:
    """Give DIC something in its inbox: three units' reports reach review. Returns DIC's officer."""
    people = open_small_cycle(db.session, ["STC", "SNV", "STTTT"], year=2025)
    for code in ("STC", "SNV", "STTTT"):
        submit_report(db.session, people, code, date(2025, 11, 5))
    return people["dic"]


def test_search_without_diacritics_finds_the_agency(app):
    with app.app_context():
        dic_officer = _three_reports_at_dic()
        found = inbox.list_inbox(db.session, dic_officer, inbox.InboxQuery(tab="group", search="so tai chinh"),
                                 date(2025, 11, 6))
        assert [r.unit_code for r in found.rows] == ["STC"]
        assert found.counts["group"] == 1
        everything = inbox.list_inbox(db.session, dic_officer, inbox.InboxQuery(tab="group", sort="unit"),
                                      date(2025, 11, 6))
        assert [r.unit_name for r in everything.rows] == ["Sở Nội vụ", "Sở Tài chính", "Sở Thông tin và Truyền thông"]


def test_overdue_filter_and_days_late_in_working_days(app):
    with app.app_context():
        open_small_cycle(db.session, ["STC"], year=2025)
        officer = db.session.scalar(db.select(User).where(User.username == "stc_officer"))
        late = inbox.list_inbox(db.session, officer, inbox.InboxQuery(tab="group", overdue=True), date(2025, 12, 19))
        assert [r.days_left for r in late.rows] == [-4]  # 16, 17, 18, 19 December are working days
        assert inbox.list_inbox(db.session, officer, inbox.InboxQuery(tab="group", overdue=True),
                                date(2025, 12, 15)).rows == []


def test_deputy_sees_the_heads_task_only_inside_the_assignment(app):
    with app.app_context():
        people = open_small_cycle(db.session, ["STC"], year=2025)
        tasks.complete_task(db.session, open_task(db.session, "draft_report", "STC").id, people["stc_officer"],
                            report_payload(), at(date(2025, 11, 5)))
        deputy = people["stc_deputy"]
        assert [r.step_id for r in inbox.list_inbox(db.session, deputy, inbox.InboxQuery(tab="group"),
                                                     date(2025, 11, 6)).rows] == ["approve_report"]
        assignment = db.session.scalar(db.select(DeputyAssignment).where(DeputyAssignment.deputy_id == deputy.id))
        assignment.valid_to = date(2025, 11, 1)
        db.session.commit()
        assert inbox.list_inbox(db.session, deputy, inbox.InboxQuery(tab="group"), date(2025, 11, 6)).rows == []


def test_claimed_task_moves_to_my_tab_and_why_explains_the_routing(client):
    login(client, "stc_officer")
    group = client.get("/tasks/?tab=group").get_data(as_text=True)
    task_id = re.search(r'href="/tasks/(\d+)"', group).group(1)
    client.post(f"/tasks/{task_id}/claim", data={"reason": ""})
    mine = client.get("/tasks/?tab=mine").get_data(as_text=True)
    assert f'href="/tasks/{task_id}"' in mine
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Vì sao việc này ở trong hộp công việc của tôi?" in page
    assert "Cán bộ chuyên trách CNTT" in page and "agency_officer" in page


def test_another_agency_cannot_open_the_task(client):
    login(client, "stc_officer")
    task_id = re.search(r'href="/tasks/(\d+)"', client.get("/tasks/?tab=group").get_data(as_text=True)).group(1)
    client.post("/logout")
    login(client, "snv_officer")
    assert client.get(f"/tasks/{task_id}").status_code == 403
    assert client.post(f"/tasks/{task_id}", data={"action": "submit"}).status_code == 403


def test_generic_form_keeps_typed_values_on_error_and_drafts_survive(client):
    login(client, "stc_officer")
    task_id = re.search(r'href="/tasks/(\d+)"', client.get("/tasks/?tab=group").get_data(as_text=True)).group(1)
    response = client.post(f"/tasks/{task_id}", data={"action": "submit", "it_staff_count": "ba",
                                                      "difficulties": "Thiếu người"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Phải là số nguyên." in text and "Thiếu người" in text and 'value="ba"' in text
    client.post(f"/tasks/{task_id}", data={"action": "draft", "it_staff_count": "4", "difficulties": "Nháp"})
    assert "Nháp" in client.get(f"/tasks/{task_id}").get_data(as_text=True)


def test_english_switch(client):
    login(client, "stc_officer")
    page = client.get("/tasks/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page


def test_a_supervisor_moves_a_deadline_with_a_reason_and_an_officer_cannot(client):
    login(client, "stc_officer")
    task_id = re.search(r'href="/tasks/(\d+)"', client.get("/tasks/?tab=group").get_data(as_text=True)).group(1)
    assert client.post(f"/tasks/{task_id}/due", data={"due_on": "22/12/2025", "reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "supervisor")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Điều chỉnh hạn xử lý" in page
    refused = client.post(f"/tasks/{task_id}/due", data={"due_on": "22/12/2025", "reason": " "}, follow_redirects=True)
    assert "15/12/2025" in refused.get_data(as_text=True)
    client.post(f"/tasks/{task_id}/due", data={"due_on": "19/12/2026", "reason": "Chờ số liệu quý IV"})
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "21/12/2026" in page  # 19/12/2026 is a Saturday: the deadline moves to Monday


def test_sorting_by_priority_puts_the_modellers_urgent_steps_first(app):
    with app.app_context():
        dic_officer = _three_reports_at_dic()
        # As camunda:priority would set them: SNV urgent, STC unset (Camunda's default 50), STTTT low.
        for code, priority in (("SNV", 90), ("STTTT", 10)):
            open_task(db.session, "review_report", code).priority = priority
        db.session.commit()
        page = inbox.list_inbox(db.session, dic_officer, inbox.InboxQuery(tab="group", sort="priority"),
                                date(2025, 11, 6))
        assert [(r.unit_code, r.priority) for r in page.rows] == [("SNV", 90), ("STC", None), ("STTTT", 10)]


def test_the_inbox_and_task_page_show_the_modellers_priority_and_follow_up_date(app, client):
    with app.app_context():
        task = open_task(db.session, "draft_report", "STC")
        task.priority, task.follow_up_on = 80, date(2025, 12, 1)
        db.session.commit()
        task_id = task.id
    login(client, "stc_officer")
    listing = client.get("/tasks/?tab=group&sort=priority").get_data(as_text=True)
    assert "Ưu tiên cao" in listing and "Xem lại ngày 01/12/2025" in listing
    assert '<option value="priority" selected>' in listing
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert re.search(r"Độ ưu tiên: <strong>80</strong>", page) and "01/12/2025" in page


def test_the_inbox_filters_fold_behind_one_button_with_the_active_ones_as_chips(client):
    login(client, "stc_officer")
    page = client.get("/tasks/?tab=group&overdue=1&year=2025").get_data(as_text=True)
    fold = page[page.index('<details class="filters-fold"'):page.index("</summary>")]
    assert "Bộ lọc" in fold and '<span class="chip">Chỉ việc quá hạn</span>' in fold
    assert '<span class="chip">Năm 2025</span>' in fold and "js/inbox.js" in page
