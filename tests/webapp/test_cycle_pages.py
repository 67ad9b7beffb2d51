"""The cycle pages: the list of years and opening one, a year's progress and results, an instance and its history."""
from __future__ import annotations

import io
from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import func, select

from webapp.extensions import db
from workflows import cycles, tasks, users
from workflows.criteria import CRITERIA
from workflows.models import AuditEvent, Block, Comment, Cycle, Evaluation, Override, ProcessInstance, Role

PASSWORD = "simulation-only"
DAY = date(2025, 11, 10)


@pytest.fixture
def app_with_cycle(app):
    """2025 open for STC and TTT; TTT's report drafted and approved by the deputy, now with DIC."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        people = open_small_cycle(db.session, ["STC", "TTT"], year=2025)
        tasks.complete_task(db.session, open_task(db.session, "draft_report", "TTT").id, people["ttt_officer"],
                            report_payload(violations=(2,)), at(DAY))
        tasks.complete_task(db.session, open_task(db.session, "approve_report", "TTT").id, people["ttt_deputy"],
                            {"head_decision": "approve"}, at(DAY, 10))
        users.create_user(db.session, "khach", "mat-khau-dai", "Khách không vai trò", [])
        db.session.commit()
    return app


def client_for(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def instance_id(app, code: str | None) -> int:
    with app.app_context():
        if code is None:
            return db.session.scalar(select(Cycle.instance_id).where(Cycle.year == 2025))
        return db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == code))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def add_result(app) -> None:
    with app.app_context():
        committee = users.get_by_username(db.session, "committee")
        evaluation = Evaluation(year=2025, unit_code="STC", block=Block.DEPARTMENT, rating="incomplete",
                                sanction="criticism", reward="none", reasons=["TOP20_BUT_VIOLATION"],
                                articles=["Điều 15.3", "Điều 17.1a"])
        evaluation.overrides.append(Override(stage="committee", field="sanction", old_value="reprimand",
                                             new_value="criticism", reason="Vi phạm lần đầu, đã khắc phục.",
                                             by_id=committee.id))
        db.session.add(evaluation)
        db.session.commit()


# --- the list of years and opening one ----------------------------------------------------------------------------


def test_the_list_of_cycles_shows_each_year_in_vietnamese(app_with_cycle):
    page = client_for(app_with_cycle, "stc_officer").get("/cycles/").get_data(as_text=True)
    assert "Năm 2025" in page and "Đang nhận báo cáo" in page and "15/12/2025" in page
    assert "Chưa có" in page  # no decision yet
    assert "Mở kỳ đánh giá mới" not in page  # only DIC and administrators open a year


def test_the_cycle_pages_need_a_login(app_with_cycle):
    client = app_with_cycle.test_client()
    assert client.get("/cycles/").status_code == 302
    assert client.get(f"/cycles/instances/{instance_id(app_with_cycle, 'STC')}").status_code == 302


def test_dic_opens_a_year_from_the_page_and_a_second_opening_is_a_conflict(app_with_cycle):
    client = client_for(app_with_cycle, "dic_leader")
    assert "Mở kỳ đánh giá mới" in client.get("/cycles/").get_data(as_text=True)
    response = client.post("/cycles/", data={"year": "2026", "report_due": "15/12/2026"})
    assert response.status_code == 303 and response.location.endswith("/cycles/2026")
    page = client.get("/cycles/2026").get_data(as_text=True)
    assert "Đã mở kỳ đánh giá năm 2026; hạn nộp báo cáo 15/12/2026." in page
    assert "Sở Tài chính" in page and "Cơ quan đang lập báo cáo" in page
    with app_with_cycle.app_context():
        assert db.session.scalar(select(Cycle.report_due).where(Cycle.year == 2026)) == date(2026, 12, 15)
    again = client.post("/cycles/", data={"year": "2026", "report_due": "2026-12-20"})
    assert again.status_code == 409
    assert "Kỳ đánh giá năm 2026 đã được mở." in again.get_data(as_text=True)
    assert count(app_with_cycle, Cycle) == 2


def test_opening_errors_are_shown_next_to_each_field(app_with_cycle):
    client = client_for(app_with_cycle, "dic")
    response = client.post("/cycles/", data={"year": "hai nghìn", "report_due": "31/02/2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-year"' in page and "Năm đánh giá phải là số" in page
    assert 'id="e-report_due"' in page and "dd/mm/yyyy" in page
    assert 'value="31/02/2026"' in page  # what was typed is kept
    response = client.post("/cycles/", data={"year": "2026", "report_due": "15/12/2030"})
    assert response.status_code == 422 and "Hạn nộp báo cáo phải trong năm 2026 hoặc 2027." in response.get_data(
        as_text=True)
    assert count(app_with_cycle, Cycle) == 1


def test_an_agency_may_not_open_a_year_and_nothing_is_created(app_with_cycle):
    client = client_for(app_with_cycle, "stc_head")
    response = client.post("/cycles/", data={"year": "2026", "report_due": "15/12/2026"})
    assert response.status_code == 403
    assert count(app_with_cycle, Cycle) == 1


# --- a year's progress and results --------------------------------------------------------------------------------


def test_dic_sees_every_agencys_progress_with_counts_and_links(app_with_cycle):
    page = client_for(app_with_cycle, "dic").get("/cycles/2025").get_data(as_text=True)
    assert "Sở Tài chính" in page and "Thanh tra tỉnh" in page
    assert "Cơ quan đang lập báo cáo" in page and "Chờ Sở TT&amp;TT thẩm định" in page
    assert "Cán bộ chuyên trách CNTT" in page and "Chuyên viên Sở TT&amp;TT" in page
    assert "09:00 02/11/2025" in page  # since when, local time
    assert f'href="/cycles/instances/{instance_id(app_with_cycle, "TTT")}"' in page
    assert f'href="/cycles/instances/{instance_id(app_with_cycle, None)}"' in page


@pytest.mark.parametrize("username", ["home_affairs", "committee", "supervisor", "admin", "owner", "dic_leader"])
def test_central_roles_see_the_progress_of_the_year(app_with_cycle, username):
    response = client_for(app_with_cycle, username).get("/cycles/2025")
    assert response.status_code == 200 and "Thanh tra tỉnh" in response.get_data(as_text=True)


def test_an_agency_sees_only_its_own_row(app_with_cycle):
    add_result(app_with_cycle)
    page = client_for(app_with_cycle, "stc_officer").get("/cycles/2025").get_data(as_text=True)
    assert "Sở Tài chính" in page and "Thanh tra tỉnh" not in page
    assert f"/cycles/instances/{instance_id(app_with_cycle, 'TTT')}" not in page
    assert "Kết quả đánh giá" not in page


def test_someone_without_a_role_gets_403_on_a_years_progress(app_with_cycle):
    assert client_for(app_with_cycle, "khach", "mat-khau-dai").get("/cycles/2025").status_code == 403


def test_a_year_not_opened_is_404(app_with_cycle):
    assert client_for(app_with_cycle, "dic").get("/cycles/2019").status_code == 404


def test_results_show_outcomes_reasons_articles_and_overrides_in_vietnamese(app_with_cycle):
    add_result(app_with_cycle)
    page = client_for(app_with_cycle, "committee").get("/cycles/2025").get_data(as_text=True)
    assert "Kết quả đánh giá" in page
    for text in ("Không hoàn thành nhiệm vụ", "Phê bình", "Không đề nghị", "Thuộc nhóm 20% cao nhất nhưng có vi phạm",
                 "Điều 15.3, Điều 17.1a", "UBND tỉnh quyết định", "Khiển trách → Phê bình", "Lãnh đạo UBND tỉnh",
                 "Vi phạm lần đầu, đã khắc phục.", "Dự kiến"):
        assert text in page, text
    owner_page = client_for(app_with_cycle, "owner").get("/cycles/2025").get_data(as_text=True)
    assert "Kết quả đánh giá" not in owner_page


# --- an instance and its history ----------------------------------------------------------------------------------


def test_the_instance_page_shows_data_steps_and_the_deputy_acting_for_the_head(app_with_cycle):
    page = client_for(app_with_cycle, "ttt_officer").get(
        f"/cycles/instances/{instance_id(app_with_cycle, 'TTT')}").get_data(as_text=True)
    for text in ("Báo cáo kết quả ứng dụng CNTT hằng năm", "2025/TTT", "Phiên bản quy trình", "Đang xử lý",
                 "Thẩm định, tiếp nhận báo cáo", "Chuyên viên Sở TT&amp;TT", "Mục 2. Cung cấp thông tin",
                 "Vi phạm", "100.000.000 đồng", "Số cán bộ chuyên trách CNTT",
                 "Cấp phó TTT thay mặt Thủ trưởng TTT", "09:00 10/11/2025", "Dữ liệu đã gửi",
                 "Phê duyệt, gửi Sở TT&amp;TT"):
        assert text in page, text
    assert "head_decision" not in page and "{&#39;" not in page  # labels, not keys or raw JSON


def test_the_cycle_instance_shows_the_cycles_fields(app_with_cycle):
    page = client_for(app_with_cycle, "supervisor").get(
        f"/cycles/instances/{instance_id(app_with_cycle, None)}").get_data(as_text=True)
    assert "Thông tin kỳ đánh giá" in page and "Số cơ quan" in page and "Lãnh đạo Sở TT&amp;TT" in page


def test_an_agency_may_not_see_another_agencys_instance_nor_the_cycles(app_with_cycle):
    client = client_for(app_with_cycle, "stc_officer")
    assert client.get(f"/cycles/instances/{instance_id(app_with_cycle, 'TTT')}").status_code == 403
    assert client.get(f"/cycles/instances/{instance_id(app_with_cycle, None)}").status_code == 403
    assert client.get(f"/cycles/instances/{instance_id(app_with_cycle, 'STC')}").status_code == 200


def test_a_comment_is_added_and_appears_in_the_timeline(app_with_cycle):
    client = client_for(app_with_cycle, "stc_officer")
    url = f"/cycles/instances/{instance_id(app_with_cycle, 'STC')}"
    response = client.post(f"{url}/comments", data={"body": "Đơn vị xin gia hạn\nthêm hai ngày."})
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "Đã thêm bình luận." in page and "Đơn vị xin gia hạn<br>thêm hai ngày." in page
    assert count(app_with_cycle, Comment) == 1
    with app_with_cycle.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "comment_added")) == 1


def test_an_empty_comment_is_refused_next_to_the_field(app_with_cycle):
    client = client_for(app_with_cycle, "dic")
    response = client.post(f"/cycles/instances/{instance_id(app_with_cycle, 'STC')}/comments", data={"body": "  "})
    assert response.status_code == 422
    assert 'id="e-body"' in response.get_data(as_text=True) and "Nhập nội dung bình luận." in response.get_data(
        as_text=True)
    assert count(app_with_cycle, Comment) == 0


def test_another_agency_may_not_comment_and_nothing_changes(app_with_cycle):
    client = client_for(app_with_cycle, "stc_officer")
    response = client.post(f"/cycles/instances/{instance_id(app_with_cycle, 'TTT')}/comments",
                           data={"body": "Xin chào"})
    assert response.status_code == 403
    assert count(app_with_cycle, Comment) == 0


def test_a_comment_without_a_csrf_token_is_refused(app_with_cycle):
    client = client_for(app_with_cycle, "stc_officer")
    app_with_cycle.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/cycles/instances/{instance_id(app_with_cycle, 'STC')}/comments",
                           data={"body": "Không có mã CSRF"})
    assert response.status_code == 400
    assert count(app_with_cycle, Comment) == 0


def test_the_task_page_links_to_the_instance_history(app_with_cycle):
    with app_with_cycle.app_context():
        task_id = open_task(db.session, "draft_report", "STC").id
    page = client_for(app_with_cycle, "stc_officer").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'href="/cycles/instances/{instance_id(app_with_cycle, "STC")}"' in page


def test_a_late_opening_needs_the_checkbox_on_the_page(app_with_cycle):
    client = client_for(app_with_cycle, "dic_leader")
    refused = client.post("/cycles/", data={"year": "2024", "report_due": "15/12/2024"})
    assert refused.status_code == 422 and 'id="e-report_due"' in refused.get_data(as_text=True)
    opened = client.post("/cycles/", data={"year": "2024", "report_due": "15/12/2024", "confirm_late": "1"})
    assert opened.status_code == 303


def test_dic_imports_earlier_ranks_from_a_page_and_bad_rows_are_named(app_with_cycle):
    client = client_for(app_with_cycle, "dic_leader")
    assert "Nhập xếp hạng ICT Index các năm trước" in client.get("/cycles/").get_data(as_text=True)
    bad = client.post("/cycles/prior-ranks", data={
        "year": "2024", "file": (io.BytesIO(b"unit_code,rank,units\nSTC,3,20\nXYZ,1,20\n"), "ranks.csv")},
        content_type="multipart/form-data")
    assert bad.status_code == 422 and "line 3" in bad.get_data(as_text=True)
    good = client.post("/cycles/prior-ranks", data={
        "year": "2024", "file": (io.BytesIO(b"unit_code,rank,units\nSTC,3,20\n"), "ranks.csv")},
        content_type="multipart/form-data")
    assert good.status_code == 303
    assert client_for(app_with_cycle, "stc_officer").get("/cycles/prior-ranks").status_code == 403


def test_the_results_page_shows_each_units_report_status_and_the_persons_evaluated(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        people = open_small_cycle(db.session, ["STC", "SNV"], year=2025)
        tasks.complete_task(db.session, open_task(db.session, "draft_report", "STC").id, people["stc_officer"],
                            report_payload(), at(date(2025, 11, 10)))
        tasks.complete_task(db.session, open_task(db.session, "approve_report", "STC").id, people["stc_head"],
                            {"head_decision": "approve"}, at(date(2025, 11, 10)))
        tasks.complete_task(db.session, open_task(db.session, "review_report", "STC").id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
        cycles.fire_due(db.session, at(date(2025, 12, 16), 1))
        tasks.complete_task(db.session, open_task(db.session, "consolidate").id, people["dic"], {"units": {
            "STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False},
            "SNV": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False,  # no report: DIC appraises it
                    "appraisal": {c.id: "pass" for c in CRITERIA}}}}, at(date(2026, 1, 5)))
    page = client_for(app, "dic_leader").get("/cycles/2025").get_data(as_text=True)
    assert "Không có báo cáo được tiếp nhận" in page and "Báo cáo tiếp nhận đúng hạn" in page
    assert "Người được đánh giá" in page and "Thủ trưởng STC" in page


def test_the_administrator_sees_a_years_units_and_records_a_change_with_its_document(app_with_cycle):
    with app_with_cycle.app_context():
        users.create_user(db.session, "quantri", PASSWORD, "Quản trị", [Role.ADMIN])
        db.session.commit()
    client = client_for(app_with_cycle, "quantri")
    page = client.get("/cycles/units?year=2024").get_data(as_text=True)
    assert "Sở Tư pháp" in page and "Thành phố Từ Sơn" in page
    refused = client.post("/cycles/units", data={"kind": "dissolve", "codes": "DPTTH", "effective_on": "01/01/2026",
                                                 "document": ""})
    assert refused.status_code == 422
    done = client.post("/cycles/units", data={"kind": "dissolve", "codes": "DPTTH", "effective_on": "01/01/2026",
                                              "document": "QĐ 5/QĐ-UBND ngày 20/12/2025"})
    assert done.status_code == 303
    assert "Đài Phát thanh" not in client.get("/cycles/units?year=2026").get_data(as_text=True)
    assert client_for(app_with_cycle, "dic_leader").get("/cycles/units").status_code == 403
