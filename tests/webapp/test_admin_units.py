"""The units administration page: every change kind with clear errors, the 2025 changes on request with their sources,
heads' dates of office (form, CSV import, `flask heads import`), and the persons evaluated on the result pages."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_task, setup_people, submit_report
from sqlalchemy import select

from webapp.extensions import db
from workflows import cycles, tasks, unit_changes
from workflows.models import AuditEvent, OfficeTerm, UnitChange
from workflows.units import units_of_year

PASSWORD = "simulation-only"


@pytest.fixture
def admin_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        setup_people(db.session, ["STC", "SYT"])
    return app


def client_for(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_only_the_admin_sees_the_units_pages(admin_app):
    for url in ("/admin/units", "/admin/units/STC"):
        assert client_for(admin_app, "dic_leader").get(url).status_code == 403
        assert client_for(admin_app, "admin").get(url).status_code == 200
    assert client_for(admin_app, "dic_leader").post("/admin/units/known-changes").status_code == 403


def test_the_units_page_offers_every_change_kind_and_the_2025_changes_with_their_sources_unloaded(admin_app):
    page = client_for(admin_app, "admin").get("/admin/units").get_data(as_text=True)
    for label in ("Đổi tên", "Hợp nhất", "Chia tách", "Giải thể", "Thành lập mới"):
        assert label in page
    assert "nguồn S24" in page and "nguồn S23" in page and "chưa ghi" in page
    with admin_app.app_context():
        assert db.session.scalar(select(UnitChange)) is None  # nothing is loaded by default


def test_the_admin_loads_the_2025_changes_from_the_page_once(admin_app):
    client = client_for(admin_app, "admin")
    assert client.post("/admin/units/known-changes").status_code == 303
    page = client.get("/admin/units").get_data(as_text=True)
    assert "Đã nạp 13 thay đổi đơn vị năm 2025" in page and page.count("đã ghi</span>") == 13
    assert "Nạp các thay đổi năm 2025 chưa ghi" not in page
    client.post("/admin/units/known-changes")
    assert "Các thay đổi năm 2025 đã được ghi từ trước" in client.get("/admin/units").get_data(as_text=True)
    with admin_app.app_context():
        assert len(db.session.scalars(select(UnitChange)).all()) == len(unit_changes.KNOWN_CHANGES_2025)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "unit_changes_loaded")) is not None


def test_a_split_from_the_page_with_errors_keeps_what_was_typed_then_records(admin_app):
    client = client_for(admin_app, "admin")
    form = {"kind": "split", "code": "SYT", "effective_on": "01/04/2026", "document": "",
            "successor_code": ["SYT1", "STC", "", ""], "successor_name_vi": ["Sở Y tế", "", "", ""],
            "successor_name_en": ["", "", "", ""], "continuation": "SYT1"}
    refused = client.post("/admin/units/changes", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Ghi số, ngày văn bản làm căn cứ thay đổi." in page and "đang được dùng cho một đơn vị khác" in page
    assert 'value="SYT1"' in page and "Nhập tên đơn vị mới." in page
    form.update(document="NQ 5/NQ-HĐND", successor_code=["SYT1", "SDS", "", ""],
                successor_name_vi=["Sở Y tế", "Sở Dân số", "", ""])
    assert client.post("/admin/units/changes", data=form).status_code == 303
    with admin_app.app_context():
        assert {"SYT1", "SDS"} <= {u.code for u in units_of_year(db.session, 2026)}
        change = db.session.scalar(select(UnitChange).where(UnitChange.kind == "split"))
        assert change.note == "continuation: SYT1"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "unit_changed")) is not None


@pytest.mark.parametrize("kind, form, field_text", [
    ("rename", {"code": "STC", "name_vi": "", "effective_on": "01/01/2026", "document": "QĐ 1"}, "Nhập tên mới"),
    ("merge", {"code": "STC", "effective_on": "01/01/2026", "document": "QĐ 1"}, "Chọn các đơn vị được hợp nhất"),
    ("dissolve", {"code": "STC", "effective_on": "31/02/2026", "document": "QĐ 1"}, "Nhập ngày hiệu lực"),
    ("establish", {"code": "SMOI", "name_vi": "Sở Mới", "effective_on": "01/01/2026", "document": "QĐ 1"},
     "Chọn khối"),
    ("bogus", {"code": "STC", "effective_on": "01/01/2026", "document": "QĐ 1"}, "Chọn loại thay đổi"),
    ("merge", {"code": "", "from_codes": ["STC", "SYT"], "name_vi": "Sở Mới", "effective_on": "01/01/2026",
               "document": "QĐ 1"}, "Mã đơn vị gồm 2–20 chữ in hoa hoặc số."),
])
def test_each_change_kind_names_its_bad_field(admin_app, kind, form, field_text):
    response = client_for(admin_app, "admin").post("/admin/units/changes", data={"kind": kind, **form})
    assert response.status_code == 422 and field_text in response.get_data(as_text=True)


def test_the_admin_records_and_deletes_a_heads_term_on_the_unit_page(admin_app):
    client = client_for(admin_app, "admin")
    refused = client.post("/admin/units/STC/terms", data={"valid_from": "hôm qua", "document": ""})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Nhập họ tên thủ trưởng hoặc chọn tài khoản." in page
    assert "Ghi số, ngày quyết định bổ nhiệm." in page
    assert "Chưa có ngày giữ chức vụ" in page
    ok = client.post("/admin/units/STC/terms", data={"username": "stc_head", "valid_from": "01/07/2025",
                                                    "document": "QĐ 77/QĐ-UBND"})
    assert ok.status_code == 303
    page = client.get("/admin/units/STC").get_data(as_text=True)
    assert "01/07/2025" in page and "QĐ 77/QĐ-UBND" in page and "stc_head" in page
    with admin_app.app_context():
        term_id = db.session.scalar(select(OfficeTerm.id))
    assert client.post(f"/admin/units/terms/{term_id}/delete").status_code == 303
    with admin_app.app_context():
        assert db.session.scalar(select(OfficeTerm)) is None
        kinds = set(db.session.scalars(select(AuditEvent.kind)))
        assert {"office_term_added", "office_term_removed"} <= kinds


def test_a_terms_csv_pasted_on_the_page_is_all_or_nothing(admin_app):
    client = client_for(admin_app, "admin")
    bad = "STC,Ông A,,01/01/2020,30/06/2025,QĐ 1\nSTC,,,01/07/2025,,QĐ 2\n"
    refused = client.post("/admin/units/terms/import", data={"csv": bad})
    assert refused.status_code == 422 and "line 2" in refused.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalar(select(OfficeTerm)) is None
    good = "STC,Ông A,,01/01/2020,30/06/2025,QĐ 1\nSTC,Bà B,,01/07/2025,,QĐ 2\n"
    assert client.post("/admin/units/terms/import", data={"csv": good}).status_code == 303
    with admin_app.app_context():
        assert len(db.session.scalars(select(OfficeTerm)).all()) == 2


def test_flask_heads_import_names_bad_lines_with_exit_2_then_imports(admin_app, tmp_path):
    runner = admin_app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,person_name,username,valid_from,valid_to,document\nXYZ,Ông A,,01/01/2020,,QĐ 1\n"
                   "STC,Bà B,nobody,01/07/2025,,QĐ 2\n", encoding="utf-8")
    result = runner.invoke(args=["heads", "import", str(bad)])
    assert result.exit_code == 2 and "line 2" in result.output and "line 3" in result.output
    good = tmp_path / "good.csv"
    good.write_text("STC,Bà B,stc_head,01/07/2025,,QĐ 2\n", encoding="utf-8")
    result = runner.invoke(args=["heads", "import", str(good)])
    assert result.exit_code == 0 and "Imported 1 terms of office." in result.output
    with admin_app.app_context():
        term = db.session.scalar(select(OfficeTerm))
        assert term.person_name == "Bà B" and term.user.username == "stc_head"


def test_the_home_affairs_page_asks_who_is_evaluated_and_the_results_name_them(admin_app):
    with admin_app.app_context():
        people = setup_people(db.session, ["STC"])
        cycles.open_cycle(db.session, 2025, date(2025, 12, 15), people["dic_leader"], now=at(date(2025, 11, 2)),
                          unit_codes=["STC"])
        db.session.add_all([
            OfficeTerm(unit_code="STC", person_name="Bà Nửa Đầu", valid_from=date(2021, 1, 4),
                       valid_to=date(2025, 6, 30), document="QĐ 1"),
            OfficeTerm(unit_code="STC", person_name="Ông Nửa Sau", valid_from=date(2025, 7, 1), valid_to=None,
                       document="QĐ 2")])
        db.session.commit()
        submit_report(db.session, people, "STC")
        tasks.complete_task(db.session, open_task(db.session, "review_report", "STC").id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
        tasks.complete_task(db.session, open_task(db.session, "consolidate").id, people["dic"],
                            {"units": {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                            at(date(2026, 1, 5)))
        tasks.complete_task(db.session, open_task(db.session, "evaluate").id, people["dic_leader"],
                            {"overrides": []}, at(date(2026, 1, 6)))
        tasks.complete_task(db.session, open_task(db.session, "review_dic_self_evaluation").id,
                            people["home_affairs"], {}, at(date(2026, 1, 7)))
        task_id = open_task(db.session, "home_affairs_proposal").id
    client = client_for(admin_app, "home_affairs")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Bà Nửa Đầu" in page and "04/01/2021" in page and 'name="sc-STC"' in page
    refused = client.post(f"/tasks/{task_id}", data={"ha_decision": "propose", "action": "complete"})
    assert refused.status_code == 422 and "Chọn người được đánh giá và ghi lý do (A15)." in refused.get_data(
        as_text=True)
    done = client.post(f"/tasks/{task_id}", data={"ha_decision": "propose", "action": "complete",
                                                  "sc-STC": "Ông Nửa Sau", "sc-STC-reason": "Thủ trưởng ngày 31/12."})
    assert done.status_code in (302, 303)
    results = client.get("/cycles/2025").get_data(as_text=True)
    assert "Ông Nửa Sau (thủ trưởng, từ 01/07/2025)" in results and "Lý do: Thủ trưởng ngày 31/12." in results
    api = admin_app.test_client()
    token = api.post("/api/v1/auth/token", json={"username": "home_affairs", "password": PASSWORD}).get_json()["token"]
    rows = api.get("/api/v1/cycles/2025/results", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert rows[0]["persons_evaluated"] == ["Ông Nửa Sau"] and rows[0]["subject_choice"]["by"] == "home_affairs"
    assert [s["name"] for s in rows[0]["subjects"]][:2] == ["Ông Nửa Sau", "Bà Nửa Đầu"]
    schema = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert {"persons_evaluated", "subject_choice", "no_office_terms"} <= set(schema["Result"]["properties"])


def test_the_units_pages_read_in_english(admin_app):
    client = client_for(admin_app, "admin")
    client.post("/admin/units/STC/terms", data={"person_name": "Bà A", "valid_from": "01/01/2024",
                                                "document": "QĐ 1"})
    page = client.get("/admin/units?lang=en").get_data(as_text=True)
    for text in ("Units and their changes", "Split", "Establishment", "The known changes of 2025",
                 "terms of office from CSV", "No dates of office"):
        assert text in page, text
    unit = client.get("/admin/units/STC").get_data(as_text=True)
    assert "terms of office" in unit and "present" in unit and "Bà A" in unit
