"""After a simulated year each office downloads its DOCX from its page and the API; the results XLSX; templates."""
from __future__ import annotations

import io
import re

import pytest
from docx import Document
from openpyxl import load_workbook

from webapp.extensions import db
from workflows import cycles, demo, documents, users
from workflows.errors import InvalidInput
from workflows.models import Role

PASSWORD = "simulation-only"
YEAR = 2025
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def year_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        demo.simulate(db.session, YEAR, 28)
        users.create_user(db.session, "quantri", PASSWORD, "Quản trị", [Role.ADMIN])
        db.session.commit()
        expected = {r["unit_code"]: r for r in cycles.results(db.session, YEAR)}
    app.expected = expected
    return app


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username
    return client


def token(client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def text_of(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def assert_holds_every_unit(app, text: str) -> None:
    for row in app.expected.values():
        assert row["unit_name"] in text
        assert row["rating_vi"] in text
        assert row["explanation"] in text, row["unit_code"]


@pytest.mark.parametrize("username, kind", [("dic_leader", "dic_report"), ("home_affairs", "ha_proposal"),
                                            ("committee", "decision")])
def test_each_office_downloads_its_document_from_the_page_and_the_api(year_app, username, kind):
    client = login(year_app, username)
    page = client.get(f"/cycles/{YEAR}").get_data(as_text=True)
    link = f"/cycles/{YEAR}/documents/{kind}.docx"
    assert link in page
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == DOCX
    assert_holds_every_unit(year_app, text_of(response.data))

    api = year_app.test_client()
    headers = token(api, username)
    listed = api.get(f"/api/v1/cycles/{YEAR}/documents", headers=headers).get_json()
    url = next(d["url"] for d in listed if d["kind"] == kind)
    assert url == f"/api/v1/cycles/{YEAR}/documents/{kind}"
    from_api = api.get(url, headers=headers)
    assert from_api.status_code == 200 and from_api.mimetype == DOCX
    text = text_of(from_api.data)
    assert_holds_every_unit(year_app, text)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "Nơi nhận:" in text


def test_the_decision_lists_rewards_and_sanctions_and_the_task_page_links_it(year_app):
    client = login(year_app, "committee")
    text = text_of(client.get(f"/cycles/{YEAR}/documents/decision.docx").data)
    assert "QUYẾT ĐỊNH" in text and "TM. ỦY BAN NHÂN DÂN" in text
    assert "Khiển trách" in text and "Cảnh cáo" in text and "Đủ điều kiện đề nghị khen thưởng" in text
    with year_app.app_context():
        from sqlalchemy import select

        from workflows.models import HumanTask
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.step_id == "committee_decision"))
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f"/cycles/{YEAR}/documents/decision.docx" in page


def test_a_unit_reads_only_its_own_notice(year_app):
    client = login(year_app, "skhdt_head")
    links = client.get(f"/cycles/{YEAR}/documents").get_data(as_text=True)
    assert f"/cycles/{YEAR}/documents/unit_notice/SKHDT.docx" in links
    assert "unit_notice/STC.docx" not in links and "dic_report.docx" not in links
    notice = client.get(f"/cycles/{YEAR}/documents/unit_notice/SKHDT.docx")
    assert notice.status_code == 200
    text = text_of(notice.data)
    assert year_app.expected["SKHDT"]["explanation"] in text and "THÔNG BÁO" in text
    assert "Người được đánh giá: Thủ trưởng SKHDT (thủ trưởng)" in text  # the notice names the persons (A15)
    assert client.get(f"/cycles/{YEAR}/documents/unit_notice/STC.docx").status_code == 403
    assert client.get(f"/cycles/{YEAR}/documents/dic_report.docx").status_code == 403
    assert client.get(f"/cycles/{YEAR}/results.xlsx").status_code == 403
    api = year_app.test_client()
    headers = token(api, "skhdt_head")
    assert api.get(f"/api/v1/cycles/{YEAR}/documents/decision", headers=headers).status_code == 403
    assert api.get(f"/api/v1/cycles/{YEAR}/documents/unit_notice/SKHDT", headers=headers).status_code == 200


def test_documents_wait_for_their_stage(app):
    from factories import open_small_cycle
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV"], year=YEAR)
        db.session.commit()
    api = app.test_client()
    headers = token(api, "dic_leader")
    assert api.get(f"/api/v1/cycles/{YEAR}/documents", headers=headers).get_json() == []
    assert api.get(f"/api/v1/cycles/{YEAR}/documents/dic_report", headers=headers).status_code == 404
    assert api.get(f"/api/v1/cycles/{YEAR}/documents/nonsense", headers=headers).status_code == 404
    for path in ("documents", "documents/decision", "documents/unit_notice/STC", "results.xlsx"):
        assert api.get(f"/api/v1/cycles/{YEAR}/{path}").status_code == 401
    assert app.test_client().get(f"/cycles/{YEAR}/results.xlsx").status_code == 302  # to the login page


def test_results_rows_explain_themselves_citing_an_article(year_app):
    api = year_app.test_client()
    rows = api.get(f"/api/v1/cycles/{YEAR}/results", headers=token(api, "dic")).get_json()
    assert len(rows) == 28
    for row in rows:
        assert re.search(r"\(Điều \d+", row["explanation"]), row
        assert re.search(r"\(Articles? \d+", row["explanation_en"]), row
    skhdt = next(r for r in rows if r["unit_code"] == "SKHDT")
    assert "đề xuất Khiển trách vì chậm triển khai kết luận của UBND tỉnh" in skhdt["explanation"]


def test_the_results_page_shows_each_explanation_in_the_pages_language(year_app):
    client = login(year_app, "dic_leader")
    page = client.get(f"/cycles/{YEAR}").get_data(as_text=True)
    assert "Giải thích" in page
    assert "Thủ trưởng Sở Kế hoạch và Đầu tư: Không hoàn thành nhiệm vụ" in page
    english = client.get(f"/cycles/{YEAR}?lang=en").get_data(as_text=True)
    assert "Head of Department of Planning and Investment: Did not complete duties" in english
    assert "Head of Sở Kế hoạch và Đầu tư" not in english  # the unit by its English name in the English sentence
    assert "Notice of its result to Department of Planning and Investment (.docx)" in english  # the documents too
    assert "Thông báo kết quả cho Sở Kế hoạch và Đầu tư (.docx)" in page


def test_the_results_spreadsheet_has_every_unit_with_typed_cells(year_app):
    client = login(year_app, "home_affairs")
    response = client.get(f"/cycles/{YEAR}/results.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Mã đơn vị", "Cơ quan, đơn vị", "Khối", "Hạng ICT"] and "Giải thích" in header
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(year_app.expected)
    skhdt = rows["SKHDT"]
    assert isinstance(skhdt[3], int) and isinstance(skhdt[4], int) and skhdt[6] is False
    assert skhdt[-1] == year_app.expected["SKHDT"]["explanation"]
    persons = skhdt[header.index("Người được đánh giá")]  # A15: the persons, and why they are the ones
    assert persons.startswith("Thủ trưởng SKHDT (thủ trưởng)") and "Chưa có ngày giữ chức vụ" in persons
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref
    stc = rows["STC"]
    assert "Quyết định của Sở TT&TT" in stc[-2]  # the override with its reason
    api = year_app.test_client()
    from_api = api.get(f"/api/v1/cycles/{YEAR}/results.xlsx", headers=token(api, "committee"))
    assert from_api.status_code == 200 and from_api.data[:2] == b"PK"


def test_a_formula_looking_cell_is_kept_as_text():
    from workflows.results_export import _safe
    assert _safe("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and _safe("-1") == "'-1" and _safe("Sở") == "Sở"


def test_an_administrator_replaces_a_template_and_a_non_docx_is_refused(year_app):
    client = login(year_app, "quantri")
    assert client.get("/admin/document-templates").status_code == 200
    shipped = client.get("/admin/document-templates/decision.docx")
    assert shipped.status_code == 200 and "{{ year }}" in text_of(shipped.data)
    refused = client.post("/admin/document-templates", data={
        "kind": "unit_notice", "action": "upload", "template": (io.BytesIO(b"not a word file"), "x.docx")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "Word" in refused.get_data(as_text=True)
    broken = Document()
    broken.add_paragraph("{{ unit.unit_name ")  # an unclosed tag: does not render
    buffer = io.BytesIO()
    broken.save(buffer)
    refused = client.post("/admin/document-templates", data={
        "kind": "unit_notice", "action": "upload", "template": (io.BytesIO(buffer.getvalue()), "hong.docx")},
        content_type="multipart/form-data")
    assert refused.status_code == 422

    mine = Document()
    mine.add_paragraph("MẪU MỚI của văn phòng: {{ unit.unit_name }} — {{ unit.explanation }}")
    buffer = io.BytesIO()
    mine.save(buffer)
    accepted = client.post("/admin/document-templates", data={
        "kind": "unit_notice", "action": "upload", "template": (io.BytesIO(buffer.getvalue()), "mau-moi.docx")},
        content_type="multipart/form-data")
    assert accepted.status_code == 303
    head = login(year_app, "skhdt_head")
    text = text_of(head.get(f"/cycles/{YEAR}/documents/unit_notice/SKHDT.docx").data)
    assert text.startswith("MẪU MỚI của văn phòng: Sở Kế hoạch và Đầu tư — Thủ trưởng Sở Kế hoạch")
    # only an administrator may replace one
    assert head.post("/admin/document-templates", data={"kind": "decision", "action": "reset"}).status_code == 403
    client.post("/admin/document-templates", data={"kind": "unit_notice", "action": "reset"})
    assert "THÔNG BÁO" in text_of(head.get(f"/cycles/{YEAR}/documents/unit_notice/SKHDT.docx").data)


def test_a_template_cannot_reach_python_internals(year_app):
    with year_app.app_context():
        mine = Document()
        mine.add_paragraph("{{ unit.__class__.__mro__ }}")
        buffer = io.BytesIO()
        mine.save(buffer)
        admin = users.get_by_username(db.session, "quantri")
        with pytest.raises(InvalidInput):
            documents.replace_template(db.session, "unit_notice", "x.docx", buffer.getvalue(), admin, YEAR)


def test_the_units_page_explains_its_result_to_its_head_once_decided(year_app):
    with year_app.app_context():
        from sqlalchemy import select

        from workflows.models import ProcessInstance
        instance_id = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == "SKHDT"))
    page = login(year_app, "skhdt_head").get(f"/cycles/instances/{instance_id}").get_data(as_text=True)
    assert "Thủ trưởng Sở Kế hoạch và Đầu tư: Không hoàn thành nhiệm vụ vì vi phạm Mục 2 và Mục 4" in page
    assert f"/cycles/{YEAR}/documents/unit_notice/SKHDT.docx" in page
