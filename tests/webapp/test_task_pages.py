"""The purpose-built task pages: each role's page, submissions that keep what was typed, evidence files, overrides."""
from __future__ import annotations

import functools
import hashlib
import io
import re
import zipfile
from datetime import date

import pytest
import werkzeug.test
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import func, select

from webapp.extensions import db
from workflows import cycles, evidence, tasks
from workflows.criteria import CRITERIA
from workflows.errors import NotAllowed, NotFound
from workflows.models import Evaluation, Evidence, HumanTask, Override, Report, TaskState, User
from workflows.units import units_of_year

PASSWORD = "simulation-only"
CODES = ["STC", "SNV", "STTTT"]
DAY = date(2025, 11, 10)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def client(app, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["UPLOAD_DIR"] = str(tmp_path / "evidence")
    with app.app_context():
        open_small_cycle(db.session, CODES, year=2025)
    return app.test_client()


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def task_id(app, step: str, unit_code: str | None = None) -> int:
    with app.app_context():
        return open_task(db.session, step, unit_code).id


def task_state(app, task: int) -> TaskState:
    with app.app_context():
        return db.session.get(HumanTask, task).state


def report_form(action: str = "submit", **changes: str) -> dict[str, str]:
    data = {"it_staff_count": "3", "edoc_sent_pct": "80", "edoc_received_pct": "75", "difficulties": "",
            "action": action, "budget-software": "100.000.000"}
    for c in CRITERIA:
        data.update({f"status-{c.id}": "pass", f"note-{c.id}": "", f"evidence-{c.id}": ""})
    data.update(changes)
    return data


def fragment(page: str, start: str, end: str | None = None) -> str:
    """The part of PAGE from START up to END (or the end), to check that an error sits next to its field."""
    begin = page.index(start)
    stop = page.index(end, begin) if end else len(page)
    return page[begin:stop]


def complete(username: str, step: str, data: dict, unit_code: str | None = None, when: date = DAY) -> None:
    tasks.complete_task(db.session, open_task(db.session, step, unit_code).id, user(username), data, at(when))


def submit_and_accept(code: str, violations: tuple[int, ...] = ()) -> None:
    complete(f"{code.lower()}_officer", "draft_report", report_payload(violations), code)
    complete(f"{code.lower()}_head", "approve_report", {"head_decision": "approve"}, code)
    complete("dic", "review_report", {"dic_decision": "accept"}, code)


def to_consolidation(app) -> None:
    """STC reports cleanly, SNV with Mục 2 violated, STTTT never reports: the deadline passes (LATE_REPORT)."""
    with app.app_context():
        submit_and_accept("STC")
        submit_and_accept("SNV", violations=(2,))
        cycles.fire_due(db.session, at(date(2025, 12, 16), 1))
        open_task(db.session, "consolidate")


CONSOLIDATED = {
    "STC": {"ict_rank": 1, "slow_conclusions": False},
    "SNV": {"ict_rank": 2, "slow_conclusions": None},  # Mục 2 violated, slow unknown: manual review
    "STTTT": {"ict_rank": 3, "slow_conclusions": False,  # never reported: DIC appraises it
              "appraisal": {c.id: "pass" for c in CRITERIA}},
}


def to_evaluation(app) -> None:
    to_consolidation(app)
    with app.app_context():
        complete("dic", "consolidate", {"units": CONSOLIDATED}, when=date(2026, 1, 15))
        open_task(db.session, "evaluate")


def settle(reason: str = "Đã xem xét hồ sơ thực tế.") -> dict:
    """Overrides that settle every manual review (inside an app context)."""
    rows = db.session.scalars(select(Evaluation).where(Evaluation.year == 2025, Evaluation.imported.is_(False)))
    return {"overrides": [{"unit_code": e.unit_code, "field": f, "value": "complete" if f == "rating" else "none",
                           "reason": reason}
                          for e in rows for f in ("rating", "sanction") if getattr(e, f) == "manual_review"]}


def to_home_affairs(app) -> None:
    to_evaluation(app)
    with app.app_context():
        complete("dic_leader", "evaluate", settle(), when=date(2026, 1, 20))
        complete("home_affairs", "review_dic_self_evaluation", {"overrides": []}, when=date(2026, 1, 21))
        open_task(db.session, "home_affairs_proposal")


# --- the officer's report --------------------------------------------------------------------------------------------

def test_report_page_shows_the_checklist_by_section_with_three_choices_evidence_and_budget(app, client):
    login(client, "stc_officer")
    response = client.get(f"/tasks/{task_id(app, 'draft_report', 'STC')}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tự đánh giá theo bộ tiêu chí" in page
    for title in ("Mục 1. Xây dựng và sử dụng cơ sở hạ tầng thông tin", "Mục 4. Triển khai ứng dụng CNTT"):
        assert title in page
    criterion = fragment(page, 'id="c-M1.5.1"', "</fieldset>")
    assert "<legend>" in criterion and "Đầu tư, sử dụng, duy trì" in criterion
    for value, label in (("pass", "Đạt"), ("fail", "Vi phạm"), ("na", "Không áp dụng")):
        assert f'type="radio" name="status-M1.5.1" value="{value}"' in criterion and label in criterion
    assert 'for="note-M1.5.1"' in criterion and 'for="evidence-M1.5.1"' in criterion
    assert 'type="file" id="files-M1.5.1" name="files-M1.5.1" multiple' in criterion
    assert "Số tiêu chí vi phạm trong mục:" in page and 'data-fail-count="2">0<' in page
    assert "Kinh phí ứng dụng CNTT theo nội dung chi" in page and 'for="budget-infrastructure"' in page
    assert "Hạ tầng kỹ thuật" in page and "Số cán bộ chuyên trách CNTT" in page  # the drawn formData fields
    assert "js/task-pages.js" in page


def test_report_submitted_through_the_page_goes_to_the_head(app, client):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    form = report_form(**{"status-M2.7.1": "fail", "evidence-M1.5.1": "Số 12/QĐ-STC\n\nhttps://stc.bacninh.gov.vn",
                          "status-M3.11.1": "na", "note-M3.11.1": "Không phải cơ quan chuyên môn"})
    response = client.post(f"/tasks/{task}", data=form)
    assert response.status_code == 302 and response.location.endswith("/tasks/")
    assert task_state(app, task) == TaskState.COMPLETED
    with app.app_context():
        assert open_task(db.session, "approve_report", "STC")
        report = db.session.scalar(select(Report).where(Report.unit_code == "STC"))
        assert report.budget == {"software": 100_000_000}
        assert report.criteria["M2.7.1"]["status"] == "fail"
        assert report.criteria["M1.5.1"]["evidence"] == ["Số 12/QĐ-STC", "https://stc.bacninh.gov.vn"]
        assert report.criteria["M3.11.1"] == {"status": "na", "note": "Không phải cơ quan chuyên môn", "evidence": []}
        assert report.figures["it_staff_count"] == 3
    # The head judges the report as it stands; its headings sit one level under the page's own (no h1 → h3 jump).
    client.post("/logout")
    login(client, "stc_head")
    approve = client.get(f"/tasks/{task_id(app, 'approve_report', 'STC')}").get_data(as_text=True)
    assert "<h2>Số liệu</h2>" in approve and "<h2>Kinh phí ứng dụng CNTT</h2>" in approve
    assert "<h3>" not in approve


def test_not_applicable_without_a_note_is_refused_next_to_the_criterion_keeping_everything_typed(app, client):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    form = report_form(**{"status-M3.11.1": "na", "status-M2.9.1": "fail", "note-M2.9.1": "Đang xây dựng quy chế",
                          "evidence-M4.12.1": "KH số 5/KH-STC", "it_staff_count": "7",
                          "budget-training": "2.500.000", "budget-other": "nhiều"})
    response = client.post(f"/tasks/{task}", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Báo cáo chưa hợp lệ" in page
    assert "Tiêu chí không áp dụng phải ghi rõ lý do." in fragment(page, 'id="c-M3.11.1"', "</fieldset>")
    assert page.count("Tiêu chí không áp dụng phải ghi rõ lý do.") == 1
    assert "Số tiền phải là số nguyên không âm (đồng)." in fragment(page, 'for="budget-other"', "</div>")
    assert re.search(r'name="status-M3\.11\.1" value="na"\s+checked', page)
    assert re.search(r'name="status-M2\.9\.1" value="fail"\s+checked', page)
    assert ">Đang xây dựng quy chế</textarea>" in page and ">KH số 5/KH-STC</textarea>" in page
    assert 'value="7"' in fragment(page, 'id="f-it_staff_count"', ">")
    assert 'value="2.500.000"' in page and 'value="nhiều"' in page
    assert 'data-fail-count="2">1<' in page  # the server-rendered count follows what was typed
    assert task_state(app, task) == TaskState.OPEN


def test_a_saved_draft_fills_the_form_again(app, client):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    response = client.post(f"/tasks/{task}", data=report_form("draft", **{"status-M1.6.1": "fail",
                                                                           "note-M1.6.1": "Chưa kết nối"}))
    assert response.status_code == 302
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đã lưu nháp." in page
    assert re.search(r'name="status-M1\.6\.1" value="fail"\s+checked', page) and ">Chưa kết nối</textarea>" in page
    assert 'data-fail-count="1">1<' in page and 'value="100.000.000"' in page


def test_a_returned_report_is_prefilled_with_what_was_sent(app, client):
    with app.app_context():
        complete("stc_officer", "draft_report", report_payload(violations=(2,)), "STC")
        complete("stc_head", "approve_report", {"head_decision": "return", "head_comment": "Bổ sung minh chứng"}, "STC")
    login(client, "stc_officer")
    page = client.get(f"/tasks/{task_id(app, 'draft_report', 'STC')}").get_data(as_text=True)
    assert "Bổ sung minh chứng" in page and "điền sẵn nội dung báo cáo gửi lần trước" in page
    assert re.search(r'name="status-M2\.7\.1" value="fail"\s+checked', page)
    assert re.search(r'name="status-M1\.5\.1" value="pass"\s+checked', page)
    assert 'data-fail-count="2">9<' in page and 'value="100.000.000"' in page


def test_an_evidence_file_is_stored_under_a_random_name_with_its_hash(app, client, tmp_path):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    form = report_form("draft", **{"files-M1.5.1": (io.BytesIO(PDF), "../Báo cáo hạ tầng.pdf")})
    assert client.post(f"/tasks/{task}", data=form, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        row = db.session.scalar(select(Evidence))
        assert row.criterion_id == "M1.5.1" and row.filename == "Báo cáo hạ tầng.pdf"
        assert re.fullmatch(r"[0-9a-f]{32}", row.stored_name)
        assert row.content_type == "application/pdf" and row.size == len(PDF)
        assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.uploaded_by_id == user("stc_officer").id
        evidence_id = row.id
    stored = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [row.stored_name] and stored[0].read_bytes() == PDF
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    files = fragment(page, 'id="c-M1.5.1"', "</fieldset>")
    assert f'href="/tasks/evidence/{evidence_id}"' in files and "Báo cáo hạ tầng.pdf" in files


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def test_a_refused_file_blocks_submission_and_good_files_stay_attached(app, client, tmp_path, monkeypatch):
    # Werkzeug's test client spools a body over 500 KB to a temporary file it never closes: keep it in memory.
    monkeypatch.setattr(werkzeug.test, "stream_encode_multipart",
                        functools.partial(werkzeug.test.stream_encode_multipart, threshold=64 * 1024 * 1024))
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    form = report_form(**{
        "files-M1.5.1": [(io.BytesIO(b"MZ\x90\x00"), "cai-dat.exe"), (io.BytesIO(b"not a pdf"), "gia.pdf"),
                         (io.BytesIO(PNG), "so-do.png")],
        "files-M2.7.1": [(io.BytesIO(b"%PDF-" + b"0" * evidence.MAX_BYTES), "qua-lon.pdf"),
                         (io.BytesIO(_docx()), "quy-che.docx")],
        "note-M4.14.3": "Dùng LibreOffice",
    })
    response = client.post(f"/tasks/{task}", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    first, second = fragment(page, 'id="c-M1.5.1"', "</fieldset>"), fragment(page, 'id="c-M2.7.1"', "</fieldset>")
    assert "Không nhận tệp cai-dat.exe: Loại tệp không được phép" in first
    assert "Không nhận tệp gia.pdf: Nội dung tệp không phải PDF" in first
    assert "Không nhận tệp qua-lon.pdf: Tệp lớn hơn 10 MB." in second
    assert "so-do.png" in first and "quy-che.docx" in second  # kept and listed although the report was refused
    assert ">Dùng LibreOffice</textarea>" in page
    assert task_state(app, task) == TaskState.OPEN
    with app.app_context():
        assert sorted(db.session.scalars(select(Evidence.filename))) == ["quy-che.docx", "so-do.png"]
    assert len([p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]) == 2
    # the officer resubmits without the bad files: accepted, and the stored files remain the report's
    response = client.post(f"/tasks/{task}", data=report_form(), content_type="multipart/form-data")
    assert response.status_code == 302 and task_state(app, task) == TaskState.COMPLETED


def test_only_people_who_may_see_the_report_download_its_evidence(app, client, tmp_path):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    client.post(f"/tasks/{task}", data=report_form("draft", **{"files-M1.5.1": (io.BytesIO(PDF), "bc.pdf")}),
                content_type="multipart/form-data")
    upload_dir = str(tmp_path / "evidence")
    with app.app_context():
        evidence_id = db.session.scalar(select(Evidence.id))
        for name in ("stc_officer", "stc_head", "dic", "home_affairs", "committee", "supervisor", "admin"):
            path, filename, content_type = evidence.open_for_download(db.session, evidence_id, user(name), upload_dir)
            assert path.read_bytes() == PDF and filename == "bc.pdf" and content_type == "application/pdf"
        with pytest.raises(NotAllowed):
            evidence.open_for_download(db.session, evidence_id, user("snv_officer"), upload_dir)
        with pytest.raises(NotFound):
            evidence.open_for_download(db.session, evidence_id + 1, user("dic"), upload_dir)
        path.unlink()
        with pytest.raises(NotFound):
            evidence.open_for_download(db.session, evidence_id, user("dic"), upload_dir)


def test_another_agency_gets_403_and_an_onlooker_cannot_attach_files(app, client, tmp_path):
    task = task_id(app, "draft_report", "STC")
    login(client, "snv_officer")
    assert client.get(f"/tasks/{task}").status_code == 403
    assert client.post(f"/tasks/{task}", data=report_form()).status_code == 403
    client.post("/logout")
    login(client, "supervisor")  # may look at the task, may not act on it
    assert client.get(f"/tasks/{task}").status_code == 200
    form = report_form(**{"files-M1.5.1": (io.BytesIO(PDF), "bc.pdf")})
    assert client.post(f"/tasks/{task}", data=form, content_type="multipart/form-data").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Evidence)) is None
    assert not (tmp_path / "evidence").exists() or not any(p.is_file() for p in (tmp_path / "evidence").rglob("*"))
    assert task_state(app, task) == TaskState.OPEN


def test_evidence_checks_the_content_not_only_the_name():
    assert evidence.check_file("a.PDF", PDF) == "application/pdf"
    assert evidence.check_file("a.jpeg", b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert evidence.check_file("a.docx", _docx()).endswith("wordprocessingml.document")
    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    assert evidence.check_file("a.odt", odt.getvalue()) == "application/vnd.oasis.opendocument.text"
    for name, data in (("a.xlsx", _docx()), ("a.ods", odt.getvalue()), ("a.png", PDF), ("a.html", b"<html>"),
                       ("a.pdf", b""), ("a.docx", b"PK\x03\x04broken")):
        with pytest.raises(Exception) as error:
            evidence.check_file(name, data)
        assert error.type.__name__ == "InvalidInput"
    assert evidence.display_name("C:\\Users\\x\\Kế hoạch\x00.pdf") == "Kế hoạch.pdf"


# --- DIC's consolidation ---------------------------------------------------------------------------------------------

def test_consolidation_page_lists_every_unit_with_its_report_and_the_controls(app, client):
    to_consolidation(app)
    login(client, "dic")
    task = task_id(app, "consolidate")
    response = client.get(f"/tasks/{task}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nhập thứ hạng ICT Index từ tệp CSV" in page and 'name="ranks_csv"' in page and 'name="ranks_file"' in page
    assert "Khối sở, ban, ngành" in page and "0 / 3 đơn vị đã có thứ hạng" in page
    snv = fragment(page, 'id="u-SNV"', 'id="u-STC"')
    assert "Sở Nội vụ" in snv and "Đã tiếp nhận" in snv and "Mục 2" in snv and "Còn thiếu: thứ hạng" in snv
    assert "<details" in snv and 'name="rank-SNV"' not in snv  # a closed row carries no form: the page stays small
    page = client.get(f"/tasks/{task}?open=SNV").get_data(as_text=True)  # the row opened in place
    snv = fragment(page, 'id="u-SNV"', 'id="u-STC"')
    assert f'action="/tasks/{task}/units/SNV"' in snv
    assert 'type="number"' in snv and 'name="rank-SNV"' in snv and 'name="units-SNV"' in snv
    assert all(f'name="slow-SNV" value="{v}"' in snv for v in ("yes", "no", ""))
    assert 'name="superior_requires_review-SNV"' in snv and 'name="special_achievement-SNV"' in snv
    assert 'name="ap-SNV-M2.7.1"' in snv and snv.count("<select") == len(CRITERIA)
    assert re.search(r'name="ap-SNV-M2\.7\.1" data-self="fail"', snv)
    assert "Lưu và mở STC" in snv  # the next row of the table as shown
    dic = fragment(page, 'id="u-STTTT"', "</tr>")
    assert "LATE_REPORT" in dic and "Báo cáo nộp muộn hoặc không nộp (Điều 19)" in dic
    page = client.get(f"/tasks/{task}?open=STTTT").get_data(as_text=True)
    assert "24 tiêu chí chưa thẩm định" in fragment(page, 'id="u-STTTT"', "</details>")
    # the script fetches a row's form alone
    alone = client.get(f"/tasks/{task}/units/STC").get_data(as_text=True)
    assert 'name="rank-STC"' in alone and "<html" not in alone and "Lưu nháp của STC" in alone


def test_a_units_form_saves_its_draft_and_the_table_shows_its_problems(app, client):
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    form = {"rank-STC": "5", "units-STC": "3", "slow-STC": "yes", "lacks_responsibility-STC": "1",
            "ap-STC-M1.5.1": "fail", "f": "todo", "next": "STTTT"}
    response = client.post(f"/tasks/{task}/units/STC", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tasks/{task}?f=todo&open=STTTT#u-STTTT")
    page = client.get(f"/tasks/{task}?open=STC").get_data(as_text=True)
    assert "Đã lưu nháp của STC." in page
    stc = fragment(page, 'id="u-STC"', "</tbody>")
    assert "Có lỗi" in stc and "Thứ hạng vượt quá số đơn vị của khối (3)." in stc
    assert 'value="5"' in stc and 'value="3"' in stc
    assert re.search(r'name="slow-STC" value="yes"\s+checked', stc)
    assert re.search(r'name="lacks_responsibility-STC" value="1"\s+checked', stc)
    assert re.search(r'value="fail"\s+selected', fragment(page, 'name="ap-STC-M1.5.1"', "</select>"))
    assert "Thứ hạng vượt quá" not in fragment(page, 'id="u-SNV"', "</tbody>")
    assert "1 đã lưu nháp" in page
    # filtered to the units with problems, only STC is listed
    page = client.get(f"/tasks/{task}?f=problems").get_data(as_text=True)
    assert 'id="u-STC"' in page and 'id="u-SNV"' not in page
    # with the script, the same save answers JSON and the page stays
    response = client.post(f"/tasks/{task}/units/SNV", data={"rank-SNV": "1"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["saved"] == "SNV"
    assert task_state(app, task) == TaskState.OPEN
    with app.app_context():
        assert db.session.scalar(select(Evaluation.ict_rank).where(Evaluation.unit_code == "STC")) is None


def test_csv_import_fills_the_ranks(app, client):
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    client.post(f"/tasks/{task}/units/STC", data={"rank-STC": "9", "slow-STC": "no"})
    response = client.post(f"/tasks/{task}/ranks", data={"ranks_csv": "ma,hang,so_don_vi\nSTC,2,3\nsnv,1,3\n"})
    assert response.status_code == 303
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đã nhập thứ hạng ICT Index của 2 đơn vị từ CSV." in page and "2 / 3 đơn vị đã có thứ hạng" in page
    assert "2/3" in fragment(page, 'id="u-STC"', "</tr>") and "1/3" in fragment(page, 'id="u-SNV"', "</tr>")
    page = client.get(f"/tasks/{task}?open=STC").get_data(as_text=True)
    assert re.search(r'name="slow-STC" value="no"\s+checked', page)  # the rest of STC's draft kept
    # a file works the same way
    form = {"ranks_file": (io.BytesIO(b"STTTT,3\n"), "r.csv")}
    response = client.post(f"/tasks/{task}/ranks", data=form, content_type="multipart/form-data")
    assert response.status_code == 303
    assert "<td>3</td>" in fragment(client.get(f"/tasks/{task}").get_data(as_text=True), 'id="u-STTTT"', "</tr>")


def test_csv_import_shows_each_bad_line_in_vietnamese_and_keeps_the_text(app, client):
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    text = "code,rank,units\nSTC,x\nSNV,5,2\nXYZ,1"
    response = client.post(f"/tasks/{task}/ranks", data={"ranks_csv": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = fragment(page, 'id="csv-errors"', "</div>")
    assert "Dòng 2: cần dạng mã đơn vị,thứ hạng" in errors and "Dòng 3: thứ hạng 5 nằm ngoài khoảng 1–2" in errors
    assert f">{text}</textarea>" in page
    response = client.post(f"/tasks/{task}/ranks", data={"ranks_csv": "STC,1\nXYZ,2"})
    assert response.status_code == 422
    assert "Mã XYZ: không thuộc kỳ đánh giá năm 2025" in response.get_data(as_text=True)
    assert "0 / 3 đơn vị đã có thứ hạng" in response.get_data(as_text=True)  # nothing imported
    assert task_state(app, task) == TaskState.OPEN


def test_gui_on_an_empty_consolidation_is_refused_naming_the_missing_units(app, client):
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    missing = fragment(page, 'id="missing"', "</div>")
    assert "3 đơn vị chưa có thứ hạng" in missing and "1 đơn vị chưa thẩm định đủ tiêu chí" in missing
    assert all(code in missing for code in ("SNV", "STC", "STTTT"))
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1", "confirmed": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Chưa có thứ hạng: SNV, STC, STTTT. Chưa thẩm định đủ: STTTT." in page
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1"})  # not confirmed
    assert response.status_code == 422 and "Đánh dấu xác nhận trước khi gửi." in response.get_data(as_text=True)
    assert task_state(app, task) == TaskState.OPEN
    with app.app_context():
        assert all(e.rating is None for e in db.session.scalars(select(Evaluation)))


def test_consolidation_submitted_through_the_page_records_ranks_inputs_and_appraisal(app, client):
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    unit_forms = {
        "STC": {"rank-STC": "1", "slow-STC": "no", "special_achievement-STC": "1", "ap-STC-M1.5.1": "pass"},
        "SNV": {"rank-SNV": "2", "slow-SNV": "yes", "ap-SNV-M2.7.1": "fail"},
        "STTTT": {"rank-STTTT": "3", "slow-STTTT": "no",  # never reported: DIC appraises every criterion
                  **{f"ap-STTTT-{c.id}": "fail" if c.id == "M4.12.1" else "pass" for c in CRITERIA}},
    }
    for code, form in unit_forms.items():
        assert client.post(f"/tasks/{task}/units/{code}", data=form).status_code == 303
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "3 / 3 đơn vị đã có thứ hạng" in page and "3 / 3 đã thẩm định đủ" in page
    assert "Tất cả đơn vị đã có thứ hạng và đã thẩm định đủ tiêu chí." in page
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1", "confirmed": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        rows = {e.unit_code: e for e in db.session.scalars(select(Evaluation).where(Evaluation.year == 2025))}
        assert (rows["STC"].ict_rank, rows["STC"].ict_units) == (1, 3)  # the block size defaults to the ranked count
        assert rows["STC"].special_achievement and rows["SNV"].slow_conclusions is True
        assert rows["SNV"].sections_violated == [2] and rows["STTTT"].sections_violated == [4]
        assert rows["STC"].appraisal["M1.5.1"] == "pass" and rows["STTTT"].appraisal["M4.12.1"] == "fail"
        assert len(rows["STTTT"].appraisal) == len(CRITERIA)
        assert open_task(db.session, "evaluate")


def test_the_whole_table_in_one_form_and_a_block_stated_not_ranked(app, client):
    """Scripts may still post every unit at once; a block not ranked this year is stated with a reason."""
    to_consolidation(app)
    task = task_id(app, "consolidate")
    login(client, "dic")
    form = {"action": "submit", "rank-STC": "1", "rank-SNV": "2", "rank-STTTT": "3",
            **{f"ap-STTTT-{c.id}": "pass" for c in CRITERIA}, "not_ranked-department": "1"}
    response = client.post(f"/tasks/{task}", data=form)
    assert response.status_code == 422
    assert "Ghi rõ lý do khối này không được xếp hạng năm nay." in response.get_data(as_text=True)
    form = {"action": "submit", "final": "1", "confirmed": "1", **{f"ap-STTTT-{c.id}": "pass" for c in CRITERIA},
            "rank-STC": "", "not_ranked-department": "1", "not_ranked_reason-department": "Bộ chưa công bố ICT Index"}
    response = client.post(f"/tasks/{task}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert all(e.ict_rank is None for e in db.session.scalars(select(Evaluation)))


def test_the_consolidation_page_of_28_units_stays_under_150_kb(app, client):
    with app.app_context():
        open_small_cycle(db.session, [u.code for u in units_of_year(db.session, 2026)], year=2026)
        cycles.fire_due(db.session, at(date(2026, 12, 16), 1))  # no report came: the page at its fullest
        task = open_task(db.session, "consolidate").id
        assert db.session.scalar(select(func.count()).where(Evaluation.year == 2026)) == 28
    login(client, "dic")
    page = client.get(f"/tasks/{task}")
    assert page.status_code == 200 and len(page.data) < 150_000, len(page.data)
    opened = client.get(f"/tasks/{task}?open=STC")
    assert 'name="rank-STC"' in opened.get_data(as_text=True) and len(opened.data) < 150_000


# --- outcomes --------------------------------------------------------------------------------------------------------

def test_evaluation_page_puts_manual_reviews_first_with_reasons_articles_and_rule(app, client):
    to_evaluation(app)
    login(client, "dic_leader")
    task = task_id(app, "evaluate")
    response = client.get(f"/tasks/{task}?sort=status")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kết quả đề xuất theo bảng quyết định" in page and "cần xem xét thủ công" in page
    assert page.index('id="u-SNV"') < page.index('id="u-STC"')
    assert "Cần quyết định" in fragment(page, 'id="u-SNV"', "</tr>")
    # SNV by the tables, STTTT because it never reported (NO_REPORT)
    assert "0 / 2 đơn vị cần xem xét thủ công đã được quyết định" in page
    page = client.get(f"/tasks/{task}?sort=status&open=SNV").get_data(as_text=True)
    snv = fragment(page, 'id="u-SNV"', "</tbody>")
    assert "Cần xem xét thủ công" in snv and "Thiếu dữ liệu: chậm triển khai kết luận của UBND tỉnh" in snv
    assert "MISSING_INPUT:slow_conclusions" in snv and "Quy tắc áp dụng" in snv and "R8" in snv
    assert "Không hoàn thành nhiệm vụ" in snv and "Điều 15" in snv
    assert 'name="ov-SNV-sanction"' in snv and 'aria-required="true"' in snv and 'name="ov-SNV-reason"' in snv
    page = client.get(f"/tasks/{task}?open=STC").get_data(as_text=True)
    stc = fragment(page, 'id="u-STC"', "</tbody>")
    assert "Hoàn thành xuất sắc nhiệm vụ" in stc and "<details" in stc and "— Giữ nguyên: " in stc


def test_an_override_without_a_reason_is_refused_and_a_settled_review_goes_on(app, client):
    to_evaluation(app)
    task = task_id(app, "evaluate")
    login(client, "dic_leader")
    client.post(f"/tasks/{task}/units/SNV", data={"ov-SNV-sanction": "criticism", "ov-SNV-reason": "  "})
    client.post(f"/tasks/{task}/units/STC", data={"ov-STC-reason": "ghi nhầm, không chọn giá trị"})  # changes nothing
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1", "confirmed": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Có lỗi" in fragment(page, 'id="u-SNV"', "</tr>")
    assert "criticism" not in fragment(page, 'id="u-STC"', "</tr>")
    page = client.get(f"/tasks/{task}?open=SNV").get_data(as_text=True)
    snv = fragment(page, 'id="u-SNV"', "</tbody>")
    assert re.search(r'value="criticism"\s+selected', snv)
    assert task_state(app, task) == TaskState.OPEN
    assert "2 đơn vị cần xem xét thủ công chưa được quyết định" in page  # a choice without a reason settles nothing
    client.post(f"/tasks/{task}/units/SNV", data={"ov-SNV-sanction": "", "ov-SNV-reason": ""})
    # nothing chosen at all: the manual review itself must still be settled
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1", "confirmed": "1"})
    assert response.status_code == 422
    assert "Cần quyết định xếp loại/hình thức xử lý" in response.get_data(as_text=True)
    client.post(f"/tasks/{task}/units/SNV", data={
        "ov-SNV-sanction": "criticism", "ov-SNV-reason": "Đã có văn bản của VP UBND: chậm triển khai 1 kết luận."})
    # STTTT never reported: no table rates it (NO_REPORT), DIC must settle it too
    client.post(f"/tasks/{task}/units/STTTT", data={
        "ov-STTTT-rating": "complete", "ov-STTTT-sanction": "none",
        "ov-STTTT-reason": "Báo cáo gửi bằng văn bản giấy, đã kiểm tra đủ tiêu chí."})
    response = client.post(f"/tasks/{task}", data={"action": "submit", "final": "1", "confirmed": "1"})
    assert response.status_code == 302
    with app.app_context():
        overrides = db.session.scalars(select(Override).order_by(Override.id)).all()
        assert sorted((o.stage, o.field, o.old_value, o.new_value) for o in overrides) == [
            ("evaluate", "rating", "manual_review", "complete"), ("evaluate", "sanction", "manual_review", "criticism"),
            ("evaluate", "sanction", "manual_review", "none")]
        assert [o.reason for o in overrides if o.new_value == "criticism"][0].startswith("Đã có văn bản")
        assert open_task(db.session, "review_dic_self_evaluation")


def test_other_roles_get_403_on_the_dic_pages(app, client):
    to_evaluation(app)
    task = task_id(app, "evaluate")
    login(client, "dic")  # a DIC officer, not the leader
    assert client.get(f"/tasks/{task}").status_code == 403
    assert client.post(f"/tasks/{task}", data={"action": "submit"}).status_code == 403
    client.post("/logout")
    login(client, "stc_officer")
    assert client.get(f"/tasks/{task}").status_code == 403
    assert client.post(f"/tasks/{task}", data={"action": "submit"}).status_code == 403
    assert task_state(app, task) == TaskState.OPEN


def test_dic_self_review_confirms_or_changes_only_dics_result(app, client):
    to_evaluation(app)
    with app.app_context():
        complete("dic_leader", "evaluate", settle(), when=date(2026, 1, 20))
    task = task_id(app, "review_dic_self_evaluation")
    login(client, "dic_leader")
    assert client.get(f"/tasks/{task}").status_code == 403
    client.post("/logout")
    login(client, "home_affairs")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Kết quả đánh giá của chính Sở Thông tin và Truyền thông" in page
    assert "Sở Thông tin và Truyền thông" in page and 'id="unit-STC-title"' not in page
    assert 'name="dic_review" value="confirm" checked' in page and 'name="ov-STTTT-rating"' in page
    response = client.post(f"/tasks/{task}", data={"action": "submit", "dic_review": "change",
                                                   "ov-STTTT-reason": "Xem lại"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Chọn giá trị mới." in page and 'name="dic_review" value="change" checked' in page
    response = client.post(f"/tasks/{task}", data={"action": "submit", "dic_review": "change",
                                                   "ov-STTTT-reward": "eligible", "ov-STTTT-reason": "Thành tích"})
    assert response.status_code == 302
    with app.app_context():
        override = db.session.scalar(select(Override).where(Override.stage == "dic_self_review"))
        assert (override.stage, override.field, override.new_value) == ("dic_self_review", "reward", "eligible")
        assert open_task(db.session, "home_affairs_proposal")


def test_home_affairs_and_committee_see_the_outcomes_and_change_only_with_a_reason(app, client):
    to_home_affairs(app)
    task = task_id(app, "home_affairs_proposal")
    login(client, "home_affairs")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Kết quả đánh giá của Sở TT&TT" in page and "Đề xuất điều chỉnh (nếu có)" in page
    table = fragment(page, '<table class="responsive outcomes">', "</table>")
    assert "Sở Tài chính" in table and "Hoàn thành xuất sắc nhiệm vụ" in table and "Sở Nội vụ" in table
    assert "Quyết định của Sở Nội vụ" in page and 'name="ha_decision"' in page  # the drawn fields
    form = {"action": "submit", "ha_decision": "propose", "ov-STC-reward": "none", "ov-SNV-reason": "không đổi"}
    response = client.post(f"/tasks/{task}", data=form)
    assert response.status_code == 422 and "Phải ghi rõ lý do điều chỉnh." in response.get_data(as_text=True)
    assert re.search(r'value="propose"\s+selected', response.get_data(as_text=True))
    form["ov-STC-reason"] = "Chưa đủ hồ sơ khen thưởng."
    assert client.post(f"/tasks/{task}", data=form).status_code == 302
    client.post("/logout")
    task = task_id(app, "committee_decision")
    login(client, "home_affairs")
    assert client.get(f"/tasks/{task}").status_code == 403
    client.post("/logout")
    login(client, "committee")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đề xuất của Sở Nội vụ" in page and "Quyết định của UBND tỉnh" in page and "Số quyết định" in page
    assert "Sở Nội vụ đề xuất: Khen thưởng Đủ điều kiện đề nghị khen thưởng → Không đề nghị. Lý do: Chưa đủ hồ sơ" \
        in fragment(page, "Sở Tài chính", "</tr>")
    form = {"action": "submit", "committee_action": "decide", "decision_number": "123/QĐ-UBND",
            "decision_date": "20/04/2026", "ov-SNV-sanction": "reprimand", "ov-SNV-reason": "Vi phạm nghiêm trọng."}
    response = client.post(f"/tasks/{task}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        changes = db.session.scalars(select(Override).order_by(Override.id)).all()
        assert [(o.stage, o.field, o.new_value) for o in changes][-2:] == [
            ("home_affairs", "reward", "none"), ("committee", "sanction", "reprimand")]
        assert all(e.final for e in db.session.scalars(select(Evaluation).where(Evaluation.year == 2025)))


def test_budget_amounts_are_read_as_people_write_them():
    from webapp.tasks.pages import _vnd_value

    assert [_vnd_value(v) for v in ("1.000.000", "1,000,000", "2 500 000đ", "750000")] == [
        1_000_000, 1_000_000, 2_500_000, 750_000]
    assert [_vnd_value(v) for v in ("1,5", "1.00", "nhiều")] == ["1,5", "1.00", "nhiều"]  # left for the step to refuse


# --- reassigning within the role ----------------------------------------------------------------------------------


def test_a_head_reassigns_an_officers_task_from_its_page_with_a_reason(app, client):
    with app.app_context():
        from workflows import users
        from workflows.models import Role
        users.create_user(db.session, "stc_officer2", PASSWORD, "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
        db.session.commit()
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_head")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Giao lại cho người khác cùng vai trò" in page
    assert 'value="stc_officer2"' in page and "Đỗ Thị Bình" in page

    refused = client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer2", "reason": " "})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Nhập lý do giao lại." in body
    assert re.search(r'<option value="stc_officer2" selected>', body)  # the choice survives the error

    done = client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer2", "reason": "Chị An nghỉ phép"})
    assert done.status_code == 303
    shown = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đã giao công việc cho Đỗ Thị Bình." in shown
    assert "Đang giao cho: Đỗ Thị Bình." in shown
    history_page = client.get(f"/cycles/instances/{_instance_of(app, task)}").get_data(as_text=True)
    assert "Chị An nghỉ phép" in history_page


def test_an_officer_sees_no_reassign_form_and_a_forged_post_is_403(app, client):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    assert "Giao lại cho người khác" not in client.get(f"/tasks/{task}").get_data(as_text=True)
    response = client.post(f"/tasks/{task}/reassign", data={"assignee": "stc_officer", "reason": "Tự giao"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(HumanTask, task).assignee_id is None


def test_claim_and_unclaim_from_the_page_record_the_reason(app, client):
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    client.post(f"/tasks/{task}/claim", data={"reason": "Tôi làm phần này"})
    client.post(f"/tasks/{task}/unclaim", data={"reason": "Chuyển cho đồng nghiệp"})
    with app.app_context():
        from workflows.models import AuditEvent
        events = db.session.execute(select(AuditEvent.kind, AuditEvent.data).where(
            AuditEvent.task_id == task, AuditEvent.kind.in_(["task_claimed", "task_unclaimed"]))
            .order_by(AuditEvent.id)).all()
    assert [(k, d["reason"]) for k, d in events] == [("task_claimed", "Tôi làm phần này"),
                                                     ("task_unclaimed", "Chuyển cho đồng nghiệp")]


def _instance_of(app, task: int) -> int:
    with app.app_context():
        return db.session.get(HumanTask, task).instance_id


# --- holding a task ------------------------------------------------------------------------------------------------


def test_a_saved_draft_holds_the_task_and_the_rest_of_the_group_reads_it_only(app, client):
    with app.app_context():
        from workflows import users
        from workflows.models import Notification, Role
        users.create_user(db.session, "stc_officer2", PASSWORD, "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
        db.session.commit()
    task = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    before = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Chờ xử lý" in before and "chưa có người nhận (cả nhóm)" in before
    client.post(f"/tasks/{task}", data=report_form("draft"))
    mine = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Người xử lý: <strong class=\"holder\">" in mine and "Đang xử lý" in mine
    with app.app_context():
        holder = db.session.get(HumanTask, task).assignee
        assert holder is not None and holder.username == "stc_officer"
        holder_name = holder.full_name

    client.post("/logout")
    login(client, "stc_officer2")
    other = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert f"Công việc đang do {holder_name} xử lý từ " in other
    assert 'name="action" value="draft"' not in other  # no form to edit the draft
    refused = client.post(f"/tasks/{task}", data=report_form("draft", it_staff_count="9"))
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(HumanTask, task).draft["it_staff_count"] == "3"
    asked = client.post(f"/tasks/{task}/ask", follow_redirects=True)
    assert "Đã gửi đề nghị tới" in asked.get_data(as_text=True)
    with app.app_context():
        told = db.session.scalar(select(Notification).where(Notification.kind == "handover_requested"))
        assert told is not None and told.user_id == user("stc_officer").id and "Đỗ Thị Bình" in told.body


# --- returns ---------------------------------------------------------------------------------------------------------


def test_a_return_reads_as_a_return_and_its_answer_reaches_the_next_reviewer(app, client):
    login(client, "stc_officer")
    client.post(f"/tasks/{task_id(app, 'draft_report', 'STC')}", data=report_form())
    client.post("/logout")
    login(client, "stc_head")
    approve = task_id(app, "approve_report", "STC")
    done = client.post(f"/tasks/{approve}", data={"head_decision": "return", "head_comment": "Thiếu minh chứng M2.9.1",
                                                  "action": "submit"}, follow_redirects=True)
    said = done.get_data(as_text=True)
    assert "Đã trả lại: Phê duyệt báo cáo. Lý do: Thiếu minh chứng M2.9.1" in said
    assert "Đã hoàn thành: Phê duyệt" not in said
    with app.app_context():
        from workflows.models import AuditEvent
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.task_id == approve,
                                                           AuditEvent.kind == "task_completed"))
        assert event.message == "Trả lại 'Phê duyệt báo cáo'. Lý do: Thiếu minh chứng M2.9.1"
    client.post("/logout")

    login(client, "stc_officer")
    redo = task_id(app, "draft_report", "STC")
    page = client.get(f"/tasks/{redo}").get_data(as_text=True)
    assert 'name="return_answer"' in page
    client.post(f"/tasks/{redo}", data={**report_form(), "return_answer": "Đã bổ sung quy chế ATTT"})
    client.post("/logout")
    login(client, "stc_head")
    again = client.get(f"/tasks/{task_id(app, 'approve_report', 'STC')}").get_data(as_text=True)
    assert "Trả lời cho ý kiến trả lại của bạn:</strong> Đã bổ sung quy chế ATTT" in again
    english = client.get(f"/tasks/{task_id(app, 'approve_report', 'STC')}?lang=en").get_data(as_text=True)
    assert "Answer to your return:" in english


# --- what looked unfinished ------------------------------------------------------------------------------------------


def test_an_unknown_address_gets_the_applications_page_and_the_icon_exists(app, client):
    login(client, "stc_officer")
    missing = client.get("/khong-co-trang-nay?lang=en")
    assert missing.status_code == 404
    text = missing.get_data(as_text=True)
    assert "There is no page at /khong-co-trang-nay." in text and "<h1>Not Found</h1>" not in text
    assert client.get("/khong-co-trang-nay?lang=vi").get_data(as_text=True).count("Không tìm thấy trang") == 1
    api = client.get("/api/v1/khong-co")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_a_deputy_named_as_a_deputy_is_not_called_a_deputy_twice():
    from workflows.vocabulary import deputy_for
    assert deputy_for("Cấp phó Sở Y tế", "Thủ trưởng Sở Y tế") == "Cấp phó Sở Y tế thay mặt Thủ trưởng Sở Y tế"
    assert deputy_for("Lê Văn Cường", "Thủ trưởng Sở Y tế") == "cấp phó Lê Văn Cường thay mặt Thủ trưởng Sở Y tế"


def test_a_task_page_names_the_agency_and_a_completed_one_shows_what_was_submitted(app, client):
    login(client, "stc_officer")
    task = task_id(app, "draft_report", "STC")
    open_page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert '<strong title="STC">Sở Tài chính</strong>' in open_page
    client.post(f"/tasks/{task}", data=report_form())
    done = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đã hoàn thành" in done and "<h2>Dữ liệu đã gửi</h2>" in done
    submitted = done[done.index("<h2>Dữ liệu đã gửi</h2>"):]
    assert "Số cán bộ chuyên trách CNTT" in submitted and "Tự đánh giá theo tiêu chí" in submitted
    assert "_authority" not in submitted


def test_a_deadline_says_where_it_comes_from_in_words(app, client):
    from workflows.vocabulary import due_source_text
    assert due_source_text("dueInWorkingDays=3") == "3 ngày làm việc kể từ khi nhận"
    assert due_source_text("camunda:dueDate ${report_due}") == "hạn nộp báo cáo của kỳ đánh giá"
    assert due_source_text("camunda:dueDate ${other}") == "hạn đặt trong sơ đồ quy trình"
    login(client, "stc_officer")
    page = client.get(f"/tasks/{task_id(app, 'draft_report', 'STC')}").get_data(as_text=True)
    assert "(theo hạn nộp báo cáo của kỳ đánh giá)" in page and "camunda" not in page
    english = client.get(f"/tasks/{task_id(app, 'draft_report', 'STC')}?lang=en").get_data(as_text=True)
    assert "the cycle&#39;s report deadline" in english or "the cycle's report deadline" in english
