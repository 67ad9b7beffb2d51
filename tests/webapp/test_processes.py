"""The process pages: processes and versions, a version's diagram data and counts per step, an instance's diagram,
the stored XML for bpmn-js, decision tables and testing one; who may see each."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from factories import open_small_cycle, submit_report
from sqlalchemy import select

from webapp.extensions import db
from workflows import definitions, rules
from workflows.models import ProcessInstance

PASSWORD = "simulation-only"
TODAY = date(2025, 11, 20)  # STC's review (due 17/11) is late; TTT's draft (due 15/12) is not
CENTRAL = ("dic", "dic_leader", "supervisor", "admin")
R3_FORM = {"sections_violated": "[4, 1]", "slow_conclusions": "true", "ict_class": "bot15",
           "prev_ict_class": "bot15", "superior_requires_review": "false", "lacks_responsibility": "false"}


@pytest.fixture
def site(app, monkeypatch):
    """2025 open for STC and TTT, STC's report with DIC; the clock on 20/11/2025."""
    app.config["WTF_CSRF_ENABLED"] = False
    monkeypatch.setattr("webapp.processes.views.local_today", lambda: TODAY)
    with app.app_context():
        people = open_small_cycle(db.session, ["STC", "TTT"])
        submit_report(db.session, people, "STC")
        db.session.commit()
    return app


def client_for(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def instance_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == code))


def stored_files(app, key: str) -> dict[str, str]:
    with app.app_context():
        return dict(definitions.latest_version(db.session, key).files)


def diagram_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>', html, re.DOTALL)
    assert found, "the page has no diagram data"
    return json.loads(found.group(1))


def row(html: str, row_id: str) -> list[str]:
    """The cells of table row ROW_ID as text."""
    found = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.DOTALL)
    assert found, f"no row {row_id}"
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", found.group(1), re.DOTALL)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


# --- who may see what -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/processes/", "/processes/agency_report/v1", "/processes/agency_report/v1/xml/agency_report.bpmn",
    "/processes/unit_evaluation/v1/decisions/sanction/test",
])
def test_an_agency_officer_may_not_open_the_process_pages(site, url):
    response = client_for(site, "stc_officer").get(url)
    assert response.status_code == 403
    assert "Bạn không có quyền truy cập trang này." in response.get_data(as_text=True)
    assert client_for(site, "home_affairs").get(url).status_code == 403


def test_the_process_pages_need_a_login(site):
    client = site.test_client()
    for url in ("/processes/", f"/processes/instances/{instance_id(site, 'STC')}/diagram"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["owner", *CENTRAL])
def test_process_owners_dic_supervisors_and_administrators_see_the_process_pages(site, username):
    client = client_for(site, username)
    for url in ("/processes/", "/processes/agency_report/v1", "/processes/unit_evaluation/v1/decisions/rating/test"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("username", ["dic", "dic_leader", "supervisor"])
def test_those_who_view_the_process_pages_but_do_not_edit_definitions_get_no_upload(site, username):
    client = client_for(site, username)
    menu = client.get("/processes/").get_data(as_text=True)
    assert 'href="/processes/"' in menu and 'href="/definitions/"' not in menu
    assert client.get("/definitions/").status_code == 403


@pytest.mark.parametrize("username", ["owner", "admin"])
def test_definition_editors_see_both_the_process_pages_and_the_uploads(site, username):
    client = client_for(site, username)
    menu = client.get("/processes/").get_data(as_text=True)
    assert 'href="/processes/"' in menu and 'href="/definitions/"' in menu
    assert client.get("/definitions/").status_code == 200


def test_an_instance_diagram_is_shown_to_its_own_agency_and_central_roles_only(site):
    stc, ttt = instance_id(site, "STC"), instance_id(site, "TTT")
    officer = client_for(site, "stc_officer")
    assert officer.get(f"/processes/instances/{stc}/diagram").status_code == 200
    assert officer.get(f"/processes/instances/{stc}/diagram.xml").status_code == 200
    assert officer.get(f"/processes/instances/{ttt}/diagram").status_code == 403
    assert officer.get(f"/processes/instances/{ttt}/diagram.xml").status_code == 403
    for username in ("home_affairs", "committee", "owner", *CENTRAL):
        assert client_for(site, username).get(f"/processes/instances/{ttt}/diagram").status_code == 200, username
    assert officer.get("/processes/instances/999999/diagram").status_code == 404


# --- the list, a version and an instance ----------------------------------------------------------------------------


def test_the_process_list_links_every_version(site):
    page = client_for(site, "owner").get("/processes/").get_data(as_text=True)
    for key in ("agency_report", "annual_cycle", "unit_evaluation"):
        assert f'href="/processes/{key}/v1"' in page
    assert "Báo cáo kết quả ứng dụng CNTT hằng năm" in page and "Dùng cho kỳ đánh giá mới" in page


def test_a_version_page_counts_open_late_and_completed_tasks_per_step_for_the_year(site):
    response = client_for(site, "owner").get("/processes/agency_report/v1?year=2025")
    page = response.get_data(as_text=True)
    # The table (no JavaScript needed): step, open, late, completed.
    assert row(page, "step-draft_report") == ["Lập báo cáo và tự đánh giá draft_report", "1", "0", "1"]
    assert row(page, "step-approve_report") == ["Phê duyệt báo cáo approve_report", "0", "0", "1"]
    assert row(page, "step-review_report") == ["Thẩm định, tiếp nhận báo cáo review_report", "1", "1", "0"]
    assert "Kỳ đánh giá năm 2025" in page
    # The same facts for the diagram.
    assert diagram_data(page) == {
        "marks": {"draft_report": "current", "approve_report": "completed", "review_report": "late"},
        "counts": {"draft_report": {"open": 1, "late": 0}, "review_report": {"open": 1, "late": 1}},
    }
    assert 'data-xml-url="/processes/agency_report/v1/xml/agency_report.bpmn"' in page
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page
    assert "/static/js/diagram.js" in page and "<noscript>" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


def test_a_version_page_defaults_to_its_newest_year_and_can_show_every_year(site):
    client = client_for(site, "owner")
    default = client.get("/processes/agency_report/v1").get_data(as_text=True)
    assert '<option value="2025" selected>' in default
    every = client.get("/processes/agency_report/v1?year=all").get_data(as_text=True)
    assert '<option value="all" selected>' in every and diagram_data(every) == diagram_data(default)
    empty = client.get("/processes/agency_report/v1?year=2024").get_data(as_text=True)
    assert row(empty, "step-draft_report")[1:] == ["0", "0", "0"] and diagram_data(empty)["marks"] == {}


def test_an_unknown_version_or_process_is_not_found(site):
    client = client_for(site, "owner")
    assert client.get("/processes/agency_report/v7").status_code == 404
    assert client.get("/processes/nothing/v1").status_code == 404
    assert client.get("/processes/unit_evaluation/v1/decisions/nothing/test").status_code == 404


def test_an_instance_diagram_marks_its_completed_current_and_late_steps(site):
    page = client_for(site, "stc_officer").get(f"/processes/instances/{instance_id(site, 'STC')}/diagram")
    html = page.get_data(as_text=True)
    assert diagram_data(html) == {
        "marks": {"draft_report": "completed", "approve_report": "completed", "review_report": "late"},
        "counts": {"review_report": {"open": 1, "late": 1}},
    }
    assert "Sơ đồ hồ sơ 2025/STC" in html and "17/11/2025" in html and "Quá hạn" in html
    assert f'data-xml-url="/processes/instances/{instance_id(site, "STC")}/diagram.xml"' in html


# --- the stored XML -------------------------------------------------------------------------------------------------


def test_the_xml_endpoint_returns_exactly_the_stored_file(site):
    client = client_for(site, "owner")
    files = stored_files(site, "unit_evaluation")
    assert len(files) == 6
    for name, text in files.items():
        response = client.get(f"/processes/unit_evaluation/v1/xml/{name}")
        assert response.status_code == 200
        assert response.data == text.encode("utf-8")
        assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # Data for bpmn-js only: opened directly it downloads, and could run nothing anyway.
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{name}"
    assert client.get("/processes/unit_evaluation/v1/xml/agency_report.bpmn").status_code == 404
    assert client.get("/processes/unit_evaluation/v1/xml/..%2Fconfig.py").status_code == 404


def test_an_instance_diagram_xml_is_its_versions_process_file(site):
    response = client_for(site, "stc_officer").get(f"/processes/instances/{instance_id(site, 'STC')}/diagram.xml")
    assert response.data == stored_files(site, "agency_report")["agency_report.bpmn"].encode("utf-8")
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"


# --- decision tables ------------------------------------------------------------------------------------------------


def test_a_version_shows_its_decision_tables_as_readable_tables(site):
    page = client_for(site, "owner").get("/processes/unit_evaluation/v1").get_data(as_text=True)
    for decision in ("ict_rank_class", "prev_ict_rank_class", "rating", "reward", "sanction"):
        assert f'id="dt-{decision}"' in page
        assert f'href="/processes/unit_evaluation/v1/decisions/{decision}/test"' in page
    assert "Duy nhất (UNIQUE): với mỗi bộ giá trị đầu vào chỉ được có nhiều nhất một quy tắc khớp." in page
    r3 = row(page, "rule-sanction_rule_r3")
    assert r3[0] == "10" and r3[1] == "2 bằng 2" and r3[3] == "&#34;bot15&#34; bằng &#34;bot15&#34;"
    assert r3[6] == "&#34;reprimand&#34;" and r3[-1].startswith("R3 – Điều 17.1a và 17.1b chồng lấn")
    assert "từ 1 đến 2" in page and "count(sections_violated)" in page


def test_the_test_form_types_each_input(site):
    page = client_for(site, "owner").get("/processes/unit_evaluation/v1/decisions/sanction/test").get_data(
        as_text=True)
    assert '<select id="in-slow_conclusions" name="slow_conclusions"' in page
    assert 'list="s-ict_class"' in page and '<option value="not_ranked">' in page
    assert 'placeholder="[1, 4]"' in page
    assert 'id="ket-qua"' not in page  # nothing evaluated before the owner asks


def test_testing_a_table_gives_the_same_outcome_as_the_rules_and_names_the_matched_rule(site):
    with site.app_context():
        outcome = rules.evaluate(db.session, {
            "block": "department", "sections_violated": [4, 1], "ict_rank": 19, "ict_units": 20, "prev_ict_rank": 19,
            "prev_ict_units": 20, "slow_conclusions": True, "superior_requires_review": False,
            "lacks_responsibility": False, "special_achievement": False})
    client = client_for(site, "owner")
    ranks = client.post("/processes/unit_evaluation/v1/decisions/ict_rank_class/test",
                        data={"ict_rank": "19", "ict_units": "20", "top_share": "0,2", "bottom_share": "0.15"})
    assert ranks.status_code == 200
    assert row(ranks.get_data(as_text=True), "out-ict_class") == ["Nhóm xếp hạng ICT Index năm đánh giá ict_class",
                                                                  "&#34;bot15&#34;"]

    response = client.post("/processes/unit_evaluation/v1/decisions/sanction/test", data=R3_FORM)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (outcome["sanction"], outcome["sanction_rule"]) == ("reprimand", "R3")
    assert row(page, "out-sanction")[1] == "&#34;reprimand&#34;" and row(page, "out-sanction_rule")[1] == "&#34;R3&#34;"
    applied = re.search(r'<ul class="applied">(.*?)</ul>', page, re.DOTALL).group(1)
    assert "Quy tắc 10" in applied and "sanction_rule_r3" in applied and "R3 – Điều 17.1a và 17.1b" in applied
    why = row(page, "r-sanction_rule_r3")
    assert why[-1] == "Được áp dụng" and all(cell.startswith("✓ khớp") for cell in why[1:-1])
    assert row(page, "r-sanction_rule_r2")[3] == \
        "✗ không khớp &#34;bot15&#34; – là một trong: &#34;top20&#34;, &#34;middle&#34;"
    assert 'value="[4, 1]"' in page  # the form keeps what was typed


def test_input_that_cannot_be_read_comes_back_with_a_reason_per_field(site):
    unreadable = {**R3_FORM, "sections_violated": "hai mục", "slow_conclusions": "có"}
    response = client_for(site, "owner").post("/processes/unit_evaluation/v1/decisions/sanction/test", data=unreadable)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nhập một danh sách, ví dụ [1, 4]; [] là danh sách rỗng." in page
    assert "Chọn đúng (true), sai (false) hoặc để trống (null)." in page
    assert 'value="hai mục"' in page and 'id="ket-qua"' not in page


def test_a_feel_value_field_takes_values_never_expressions(site):
    client = client_for(site, "owner")
    url = "/processes/unit_evaluation/v1/decisions/ict_rank_class/test"
    response = client.post(url, data={"ict_rank": "__import__('os')", "ict_units": "20", "top_share": "0.2",
                                      "bottom_share": "0.15"})
    assert response.status_code == 422 and "Nhập một số, ví dụ 20 hoặc 0,15." in response.get_data(as_text=True)
    response = client.post("/processes/unit_evaluation/v1/decisions/rating/test",
                           data={"sections_violated": "[count(x)]", "ict_class": "middle", "rank_tie": ""})
    assert response.status_code == 422


@pytest.mark.parametrize(("policy", "aggregation", "words"), [
    ("UNIQUE", None, "Duy nhất (UNIQUE)"),
    ("FIRST", None, "Quy tắc đầu tiên (FIRST): các quy tắc được xét từ trên xuống"),
    ("ANY", None, "Bất kỳ (ANY): nhiều quy tắc có thể cùng khớp nhưng phải cho cùng một kết quả"),
    ("RULE ORDER", None, "Theo thứ tự quy tắc (RULE ORDER)"),
    ("COLLECT", None, "mỗi cột kết quả là một danh sách"),
    ("COLLECT", "SUM", "Thu thập và cộng (COLLECT SUM)"),
    ("COLLECT", "MIN", "Thu thập và lấy nhỏ nhất (COLLECT MIN)"),
    ("COLLECT", "MAX", "Thu thập và lấy lớn nhất (COLLECT MAX)"),
    ("COLLECT", "COUNT", "Thu thập và đếm (COLLECT COUNT)"),
    ("PRIORITY", None, "PRIORITY: hệ thống không chạy được chính sách này."),
])
def test_every_hit_policy_is_explained_in_vietnamese(app, policy, aggregation, words):
    from dataclasses import replace

    from flask import render_template_string

    from workflows import dmn_tables

    with app.app_context():
        sanction = dmn_tables.decision_table(definitions.latest_version(db.session, "unit_evaluation"), "sanction")
        with app.test_request_context():
            text = render_template_string('{% from "processes/_table.html" import hit_policy_text %}'
                                          "{{ hit_policy_text(table) }}",
                                          table=replace(sanction, hit_policy=policy, aggregation=aggregation))
    assert words in text


def test_in_english_the_cells_are_described_in_english(site):
    client = client_for(site, "owner")
    english = client.get("/processes/unit_evaluation/v1?lang=en").get_data(as_text=True)
    assert row(english, "rule-sanction_rule_r8_slow")[1] == "[1..2] from 1 to 2"  # through the catalogue
    vietnamese = client.get("/processes/unit_evaluation/v1?lang=vi").get_data(as_text=True)
    assert row(vietnamese, "rule-sanction_rule_r8_slow")[1] == "[1..2] từ 1 đến 2"


def test_the_test_form_names_each_variable_in_words_in_both_languages(site):
    client = client_for(site, "owner")
    page = client.get("/processes/unit_evaluation/v1/decisions/sanction/test?lang=vi").get_data(as_text=True)
    assert '<label for="in-sections_violated">Các mục vi phạm <code>sections_violated</code></label>' in page
    english = client.get("/processes/unit_evaluation/v1/decisions/sanction/test?lang=en").get_data(as_text=True)
    assert '<label for="in-sections_violated">Sections violated <code>sections_violated</code></label>' in english
