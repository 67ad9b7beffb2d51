"""The supervisors' pages, exports and API on the simulated cycle of tests/workflows/test_boards.py."""
from __future__ import annotations

import csv
import io
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import setup_people
from flask import render_template_string
from flask_login import login_user
from openpyxl import load_workbook

from webapp.extensions import db
from webapp.supervise import exports
from workflows import users
from workflows.boards import OverdueRow
from workflows.models import Cycle, ProcessInstance

# The cycle with known late steps is built by the workflow-level tests, so both layers check the same figures.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))
from test_boards import TODAY, known_late_cycle  # noqa: E402

PASSWORD = "simulation-only"
BOARD_USERS = ("supervisor", "dic_leader", "committee", "admin")
PAGES = ("/supervise/", "/supervise/overdue", "/supervise/overdue.csv", "/supervise/overdue.xlsx",
         "/supervise/cycles/", "/supervise/cycles/2025")
ENDPOINTS = ("/api/v1/overdue", "/api/v1/cycles/2025/board")


@pytest.fixture
def board_app(app, monkeypatch):
    """The app on Wednesday 24/12/2025, with the known late cycle built."""
    app.config["WTF_CSRF_ENABLED"] = False
    monkeypatch.setattr("webapp.supervise.views.local_today", lambda: TODAY)
    monkeypatch.setattr("webapp.api.boards.local_today", lambda: TODAY)
    with app.app_context():
        known_late_cycle(db.session)
        db.session.commit()
    return app


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def api_get(app, path: str, username: str, **kwargs: Any):
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return client.get(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def overdue_rows_of(html: str) -> list[tuple[int, int]]:
    """(task id, days late) of each row of the overdue table, in order."""
    return [(int(task), int(days)) for task, days in
            re.findall(r'<tr data-task="(\d+)">\s*<td [^>]*class="days late">(\d+)</td>', html)]


def matrix_of(html: str) -> dict[str, list[tuple[str, int]]]:
    rows = re.findall(r'<tr data-unit="(\w+)">(.*?)</tr>', html, re.S)
    return {unit: [(s, int(n)) for s, n in re.findall(r'data-state="(\w+)" data-rounds="(\d+)"', body)]
            for unit, body in rows}


def counts_of(html: str) -> dict[str, dict[str, str]]:
    """tfoot: for each state (and 'rate'), the figure under each agency step."""
    rows = re.findall(r'<tr data-count="(\w+)">(.*?)</tr>', html, re.S)
    return {state: dict(re.findall(r'data-step="(\w+)">([^<]*)</td>', body)) for state, body in rows}


def instance_ids(app) -> dict[str | None, int]:
    with app.app_context():
        cycle = db.session.query(Cycle).filter_by(year=2025).one()
        found = db.session.query(ProcessInstance.unit_code, ProcessInstance.id).filter_by(cycle_id=cycle.id).all()
        return dict(found)


# --- permissions ----------------------------------------------------------------------------------------------------


def test_the_boards_need_a_login_and_the_api_a_token(board_app):
    client = board_app.test_client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for path in ENDPOINTS:
        response = client.get(path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("username", ["stc_officer", "stc_head", "dic", "home_affairs"])
def test_others_get_403_on_every_board_page_and_endpoint(board_app, username):
    client = login(board_app, username)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Bạn không có quyền" in response.get_data(as_text=True)
    for path in ENDPOINTS:
        response = api_get(board_app, path, username)
        assert response.status_code == 403
        body = response.get_json()
        assert set(body) == {"error"} and body["error"]["code"] == "forbidden" and body["error"]["fields"] == {}


@pytest.mark.parametrize("username", BOARD_USERS)
def test_supervisors_dic_leaders_the_committee_and_administrators_see_the_boards(board_app, username):
    client = login(board_app, username)
    assert client.get("/supervise/").headers["Location"].endswith("/supervise/overdue")
    assert client.get("/supervise/cycles/").headers["Location"].endswith("/supervise/cycles/2025")
    for path in PAGES[1:4] + PAGES[5:]:
        assert client.get(path).status_code == 200, path
    for path in ENDPOINTS:
        assert api_get(board_app, path, username).status_code == 200


def test_every_page_knows_whether_to_offer_the_boards_in_the_menu(board_app):
    with board_app.app_context():
        people = {u: users.get_by_username(db.session, u) for u in ("supervisor", "committee", "stc_officer", "dic")}
    for username, offered in (("supervisor", "True"), ("committee", "True"), ("stc_officer", "False"),
                              ("dic", "False")):
        with board_app.test_request_context():
            login_user(people[username])
            assert render_template_string("{{ may.see_boards }}") == offered
    with board_app.test_request_context():
        assert render_template_string("{{ may.see_boards }}") == "False"  # nobody logged in


def test_a_year_never_opened_is_404_on_the_page_and_the_api(board_app):
    assert login(board_app, "supervisor").get("/supervise/cycles/2031").status_code == 404
    response = api_get(board_app, "/api/v1/cycles/2031/board", "supervisor")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


# --- the overdue board ----------------------------------------------------------------------------------------------


def test_the_overdue_page_lists_the_known_late_steps_most_late_first(board_app):
    html = login(board_app, "supervisor").get("/supervise/overdue?year=2025").get_data(as_text=True)
    assert [days for _, days in overdue_rows_of(html)] == [7, 3, 2]
    assert "3 việc quá hạn" in html and "24/12/2025" in html
    for text in ("Sở Y tế", "Lập báo cáo và tự đánh giá", "Cán bộ chuyên trách CNTT", "02/11/2025",
                 "15/12/2025", "Sở Nội vụ", "Thủ trưởng cơ quan", "19/12/2025", "Thủ trưởng TTT"):
        assert text in html, text
    ids = instance_ids(board_app)
    assert f'href="/cycles/instances/{ids["SYT"]}"' in html
    assert '<option value="2025" selected>' in html
    # the exports carry the same filters
    assert 'href="/supervise/overdue.csv?year=2025"' in html and 'href="/supervise/overdue.xlsx?year=2025"' in html


def test_the_overdue_page_filters_and_pages(board_app, monkeypatch):
    client = login(board_app, "dic_leader")
    html = client.get("/supervise/overdue?year=2025&min_days=3").get_data(as_text=True)
    assert [days for _, days in overdue_rows_of(html)] == [7, 3]
    html = client.get("/supervise/overdue?role=agency_head").get_data(as_text=True)
    assert [days for _, days in overdue_rows_of(html)] == [3, 2]
    html = client.get("/supervise/overdue?step=draft_report&unit=SYT").get_data(as_text=True)
    assert [days for _, days in overdue_rows_of(html)] == [7]
    assert "Không có việc nào quá hạn" in client.get("/supervise/overdue?min_days=999").get_data(as_text=True)
    # unreadable filters fall back to none rather than failing
    assert len(overdue_rows_of(client.get("/supervise/overdue?year=abc&min_days=-4").get_data(as_text=True))) == 4
    monkeypatch.setattr("webapp.supervise.views.PER_PAGE", 2)
    first = client.get("/supervise/overdue").get_data(as_text=True)
    second = client.get("/supervise/overdue?page=2").get_data(as_text=True)
    assert "Trang 1 / 2" in first and 'href="/supervise/overdue?page=2"' in first
    assert len(overdue_rows_of(first)) == 2 and [d for _, d in overdue_rows_of(second)] == [3, 2]


def test_the_csv_export_is_utf8_with_a_bom_and_holds_every_filtered_row(board_app, monkeypatch):
    monkeypatch.setattr("webapp.supervise.views.PER_PAGE", 1)  # the page is paged; the export is not
    response = login(board_app, "supervisor").get("/supervise/overdue.csv?year=2025")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="viec-qua-han-20251224.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Số ngày làm việc quá hạn", "Năm", "Mã cơ quan", "Cơ quan", "Bước", "Người hoặc nhóm đang giữ",
                       "Vai trò xử lý", "Hạn xử lý", "Giao từ", "Mã công việc", "Mã hồ sơ"]
    assert [r[:8] for r in rows[1:]] == [
        ["7", "2025", "SYT", "Sở Y tế", "Lập báo cáo và tự đánh giá", "Cán bộ chuyên trách CNTT",
         "Cán bộ chuyên trách CNTT", "15/12/2025"],
        ["3", "2025", "SNV", "Sở Nội vụ", "Phê duyệt báo cáo", "Thủ trưởng cơ quan", "Thủ trưởng cơ quan",
         "19/12/2025"],
        ["2", "2025", "TTT", "Thanh tra tỉnh", "Phê duyệt báo cáo", "Thủ trưởng TTT", "Thủ trưởng cơ quan",
         "22/12/2025"],
    ]
    assert rows[1][8] == "02/11/2025 09:00" and rows[2][8] == "16/12/2025 09:00"  # local time, not UTC


def test_the_xlsx_export_has_a_bold_header_and_real_dates(board_app):
    response = login(board_app, "committee").get("/supervise/overdue.xlsx?year=2025&min_days=3")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header[0] == "Số ngày làm việc quá hạn" and header[7] == "Hạn xử lý"
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(7, 2025, "SYT", "Sở Y tế"), (3, 2025, "SNV", "Sở Nội vụ")]
    assert rows[0][7] == datetime(2025, 12, 15) and rows[0][8] == datetime(2025, 11, 2, 9, 0)
    due, since = sheet.cell(2, 8), sheet.cell(2, 9)
    assert due.is_date and due.number_format == "DD/MM/YYYY"
    assert since.is_date and since.number_format == "DD/MM/YYYY HH:MM"
    workbook.close()


def test_names_that_look_like_formulas_stay_text_in_both_exports(app):
    row = OverdueRow(1, 2, 2025, "draft_report", "=HYPERLINK(\"http://x\")", "STC", "+Sở Tài chính", "agency_officer",
                     "Cán bộ", "@người", "@người", datetime(2025, 11, 2, 2, tzinfo=UTC), date(2025, 12, 15), 7)
    with app.test_request_context():
        table = list(csv.reader(io.StringIO(exports.overdue_csv([row]).decode("utf-8-sig"))))
        workbook = load_workbook(io.BytesIO(exports.overdue_xlsx([row], "thử")))
    assert table[1][3:6] == ["'+Sở Tài chính", "'=HYPERLINK(\"http://x\")", "'@người"]
    cells = workbook.active[2]
    assert [c.value for c in cells[3:6]] == ["+Sở Tài chính", '=HYPERLINK("http://x")', "@người"]
    assert cells[4].data_type == "s"
    workbook.close()


def test_the_overdue_api_has_the_page_figures(board_app):
    html = login(board_app, "supervisor").get("/supervise/overdue").get_data(as_text=True)
    body = api_get(board_app, "/api/v1/overdue", "supervisor").get_json()
    assert [(item["task_id"], item["days_late"]) for item in body["items"]] == overdue_rows_of(html)
    assert (body["total"], body["page"], body["pages"], body["per_page"], body["today"]) == (4, 1, 1, 50, "2025-12-24")
    syt = body["items"][1]
    assert syt == {**syt, "year": 2025, "unit_code": "SYT", "unit_name": "Sở Y tế", "step_id": "draft_report",
                   "role": "agency_officer", "role_label": "Cán bộ chuyên trách CNTT", "assignee": None,
                   "holder": "Cán bộ chuyên trách CNTT", "due_on": "2025-12-15", "days_late": 7,
                   "created_at": "2025-11-02T02:00:00+00:00"}
    filtered = api_get(board_app, "/api/v1/overdue", "supervisor",
                       query_string={"year": 2025, "role": "agency_head", "min_days": 3}).get_json()
    assert [(i["unit_code"], i["days_late"]) for i in filtered["items"]] == [("SNV", 3)]
    error = api_get(board_app, "/api/v1/overdue", "supervisor", query_string={"min_days": -1}).get_json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == {"min_days"}


# --- the cycle board ------------------------------------------------------------------------------------------------

KNOWN_MATRIX = {
    "SNV": [("done_late", 2), ("open_late", 2), ("not_reached", 0)],
    "STC": [("done_on_time", 1), ("done_on_time", 1), ("done_late", 1)],
    "SYT": [("open_late", 1), ("not_reached", 0), ("not_reached", 0)],
    "TTT": [("done_late", 1), ("open_late", 1), ("not_reached", 0)],
}


def test_the_cycle_board_page_shows_the_known_matrix_and_column_counts(board_app):
    html = login(board_app, "supervisor").get("/supervise/cycles/2025").get_data(as_text=True)
    assert matrix_of(html) == KNOWN_MATRIX
    assert list(matrix_of(html)) == ["SNV", "STC", "SYT", "TTT"]  # Vietnamese order of their names
    counts = counts_of(html)
    assert counts["done_on_time"] == {"draft_report": "1", "approve_report": "1", "review_report": "0"}
    assert counts["done_late"] == {"draft_report": "2", "approve_report": "0", "review_report": "1"}
    assert counts["open_late"] == {"draft_report": "1", "approve_report": "2", "review_report": "0"}
    assert counts["not_reached"] == {"draft_report": "0", "approve_report": "1", "review_report": "3"}
    assert counts["rate"] == {"draft_report": "25 %", "approve_report": "33,3 %", "review_report": "0 %"}
    for text in ("Trễ 2 ngày", "Quá hạn 7 ngày", "2 lượt", "Chưa đến bước", "Đúng hạn", "hạn 19/12/2025",
                 "ngày 18/11/2025", "Báo cáo đã tiếp nhận: <strong>1/4</strong>",
                 'Bước đang quá hạn: <strong class="late">3</strong>'):
        assert text in html, text
    # the province's steps, once: consolidation open within its deadline, the rest not reached
    cycle_steps = re.findall(r'<tr data-step="(\w+)">.*?data-state="(\w+)"', html, re.S)
    assert cycle_steps == [("consolidate", "open"), ("evaluate", "not_reached"),
                           ("review_dic_self_evaluation", "not_reached"), ("home_affairs_proposal", "not_reached"),
                           ("committee_decision", "not_reached")]
    # every cell leads to its instance: each agency's report, the cycle for the province's steps
    ids = instance_ids(board_app)
    matrix = re.search(r'<table class="responsive matrix".*?</table>', html, re.S).group(0)
    cycle = re.search(r'<table class="responsive cycle-steps".*?</table>', html, re.S).group(0)
    assert matrix.count(f'href="/cycles/instances/{ids["SYT"]}"') == 3
    assert cycle.count(f'href="/cycles/instances/{ids[None]}"') == 5


def test_the_charts_are_inline_svg_with_text_alternatives(board_app):
    html = login(board_app, "supervisor").get("/supervise/cycles/2025").get_data(as_text=True)
    assert "<script" not in html
    steps = re.search(r'id="chart-steps-title".*?</figure>', html, re.S).group(0)
    assert re.findall(r'<span class="value">([^<]*)</span>', steps)[:4] == ["25 % (1/4)", "33,3 % (1/3)", "0 % (0/1)",
                                                                          "chưa có số liệu"]
    agencies = re.search(r'id="chart-agencies-title".*?</figure>', html, re.S).group(0)
    assert re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', agencies) == [
        "Sở Y tế", "Sở Nội vụ", "Thanh tra tỉnh", "Sở Tài chính"]
    assert re.findall(r'<span class="value">([^<]*)</span>', agencies) == [
        "7 ngày làm việc", "4 ngày làm việc", "4 ngày làm việc", "1 ngày làm việc"]
    assert re.findall(r'<rect class="fill" width="([\d.]+)"', agencies) == ["100.0", "57.14", "57.14", "14.29"]
    progress = re.search(r'id="chart-progress-title".*?</figure>', html, re.S).group(0)
    assert 'role="img"' in progress and 'aria-labelledby="chart-progress-title chart-progress-desc"' in progress
    assert "từ tuần 27/10/2025 đến tuần 22/12/2025: 1 trên 4 cơ quan" in progress
    assert len(re.findall(r"<circle ", progress)) == 9 and "<table" in progress
    assert '<th scope="row" data-label="Tuần bắt đầu">17/11/2025</th>' in progress
    years = re.search(r'id="chart-years-title".*?</figure>', html, re.S).group(0)
    assert re.findall(r'<span class="value">([^<]*)</span>', years) == ["71,4 % (5/7)", "25 % (2/8)"]
    assert 'aria-hidden="true" focusable="false"' in html  # bars are decoration; their numbers are text


def test_the_board_api_has_the_page_figures(board_app):
    html = login(board_app, "supervisor").get("/supervise/cycles/2025").get_data(as_text=True)
    body = api_get(board_app, "/api/v1/cycles/2025/board", "supervisor").get_json()
    api_matrix = {row["unit_code"]: [(c["state"], c["rounds"]) for c in row["cells"]] for row in body["rows"]}
    assert api_matrix == matrix_of(html) == KNOWN_MATRIX
    page_counts = counts_of(html)
    for column in (c for c in body["columns"] if c["level"] == "agency"):
        for state, count in column["counts"].items():
            assert page_counts[state][column["step_id"]] == str(count)
    rates = {c["step_id"]: c["on_time_rate"] for c in body["columns"]}
    assert rates["draft_report"] == 0.25 and rates["review_report"] == 0 and rates["consolidate"] is None
    assert [c["state"] for c in body["cycle_cells"]] == ["open"] + ["not_reached"] * 4
    assert [(r["unit_code"], r["days_late"]) for r in body["late_by_agency"]] == [
        ("SYT", 7), ("SNV", 4), ("TTT", 4), ("STC", 1)]
    assert [(w["week_start"], w["cumulative"]) for w in body["progress"]][3] == ("2025-11-17", 1)
    assert [(y["year"], y["on_time"], y["decided"]) for y in body["years"]] == [(2024, 5, 7), (2025, 2, 8)]
    assert (body["accepted"], body["open_late"], body["today"]) == (1, 3, "2025-12-24")
    stc_review = body["rows"][1]["cells"][2]
    assert stc_review == {**stc_review, "due_on": "2025-11-17", "finished_on": "2025-11-18", "days_late": 1,
                          "late": True}


def test_the_api_lists_both_board_endpoints_in_the_openapi_document(board_app):
    paths = board_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/overdue" in paths and "/api/v1/cycles/{year}/board" in paths


def test_without_any_cycle_the_board_says_so(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        setup_people(db.session, ["STC"])
    client = login(app, "supervisor")
    assert "Chưa mở kỳ đánh giá nào" in client.get("/supervise/cycles/").get_data(as_text=True)
    assert "Không có việc nào quá hạn" in client.get("/supervise/overdue").get_data(as_text=True)


def test_the_overdue_page_links_late_steps_to_their_reassignment_for_those_who_lead_the_group(board_app):
    supervisor = login(board_app, "supervisor").get("/supervise/overdue?year=2025").get_data(as_text=True)
    late = [task for task, _ in overdue_rows_of(supervisor)]
    assert late and all(f'href="/tasks/{task}#reassign"' in supervisor for task in late)
    # The committee sees the board but leads no group; a DIC leader leads only DIC's groups (none late here).
    for username in ("committee", "dic_leader"):
        html = login(board_app, username).get("/supervise/overdue?year=2025").get_data(as_text=True)
        assert overdue_rows_of(html) == overdue_rows_of(supervisor)
        assert "#reassign" not in html
