"""The English catalogue: pages switch to English with ?lang=en, and every message in the code has a translation."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from factories import open_small_cycle, open_task
from test_supervise import board_app  # noqa: F401 - the fixture: a cycle with known late steps, on 24/12/2025
from test_supervise import login as board_login

from webapp.extensions import db
from workflows.criteria import CRITERIA, SECTION_TITLES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PASSWORD = "simulation-only"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.fixture(scope="session")
def compiled_catalogue() -> Path:
    """The .mo is generated, not committed: build it when it is missing or older than the .po."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS)],
                       check=True, capture_output=True, cwd=ROOT)
    return MO


@pytest.fixture
def client(app, compiled_catalogue):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV", "STTTT"], year=2025)
    return app.test_client()


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def test_inbox_in_english_then_back_in_vietnamese(client):
    login(client, "stc_officer")
    english = page(client, "/tasks/?lang=en")
    assert '<html lang="en">' in english
    for text in ("Inbox", "My tasks", "Group tasks", "Log out", "Evaluation cycles", "Notifications", "Deadline"):
        assert text in english
    for text in ("Hộp công việc", "Việc của tôi", "Đăng xuất", "Hạn xử lý"):
        assert text not in english
    # the choice sticks for the session
    assert "My tasks" in page(client, "/tasks/")

    vietnamese = page(client, "/tasks/?lang=vi")
    assert '<html lang="vi">' in vietnamese
    assert "Hộp công việc" in vietnamese and "Việc của tôi" in vietnamese and "Đăng xuất" in vietnamese
    assert "My tasks" not in vietnamese and "Log out" not in vietnamese


def test_login_page_in_english(client):
    login_page = page(client, "/login?lang=en")
    for text in ("Log in", "Username", "Password", "Remember me"):
        assert text in login_page
    assert "Đăng nhập" not in login_page and "Mật khẩu" not in login_page


def test_task_page_in_english(app, client):
    login(client, "stc_officer")
    with app.app_context():
        task = open_task(db.session, "draft_report", "STC").id
    task_page = page(client, f"/tasks/{task}?lang=en")
    for text in ("Task details", "Evaluation year", "Self-assessment against the criteria set", "Article",
                 "Criteria violated in this section:", "IT-application budget by spending category",
                 "Save draft", "Submit", "History"):
        assert text in task_page, text
    for text in ("Thông tin công việc", "Lưu nháp", "Tự đánh giá theo bộ tiêu chí", "Lịch sử xử lý"):
        assert text not in task_page, text


def inbox_due_text(client, monkeypatch, today: date, lang: str) -> tuple[str, str]:
    """The days-left note of the STC officer's one task and the table caption, on TODAY."""
    monkeypatch.setattr("webapp.tasks.views.local_today", lambda: today)
    html = page(client, f"/tasks/?tab=group&lang={lang}")
    notes = re.findall(r'<span class="(?:late|soon|ok)">([^<]*)</span>', html)
    caption = re.search(r'<caption class="muted">([^<]*)</caption>', html)
    assert len(notes) == 1 and caption, html
    return notes[0], caption[1]


def test_inbox_counts_days_in_english_singular_and_plural(client, monkeypatch):
    login(client, "stc_officer")
    # the draft report is due on Monday 15/12/2025
    assert inbox_due_text(client, monkeypatch, date(2025, 12, 12), "en") == ("1 working day left", "1 task")
    assert inbox_due_text(client, monkeypatch, date(2025, 12, 10), "en")[0] == "3 working days left"
    assert inbox_due_text(client, monkeypatch, date(2025, 12, 16), "en")[0] == "Overdue by 1 working day"
    assert inbox_due_text(client, monkeypatch, date(2025, 12, 17), "en")[0] == "Overdue by 2 working days"
    english = page(client, "/tasks/?tab=group&lang=en")
    assert 'aria-label="1 task"' in english
    assert ">Draft the report and self-assessment</a>" in english and "Lập báo cáo và tự đánh giá" not in english

    assert inbox_due_text(client, monkeypatch, date(2025, 12, 16), "vi") == ("Quá hạn 1 ngày làm việc", "1 công việc")
    assert inbox_due_text(client, monkeypatch, date(2025, 12, 12), "vi")[0] == "Còn 1 ngày làm việc"
    vietnamese = page(client, "/tasks/?tab=group&lang=vi")
    assert ">Lập báo cáo và tự đánh giá</a>" in vietnamese and "Draft the report" not in vietnamese


def test_supervisors_board_counts_days_and_rounds_in_english(board_app, compiled_catalogue):  # noqa: F811
    def cells(lang: str) -> set[str]:
        html = board_login(board_app, "supervisor").get(f"/supervise/cycles/2025?lang={lang}").get_data(as_text=True)
        return set(re.findall(r'<span class="(?:state|rounds)">([^<]*)</span>', html))

    assert {"1 day late", "2 days late", "2 days overdue", "7 days overdue", "2 rounds"} <= cells("en")
    assert {"Trễ 1 ngày", "Trễ 2 ngày", "Quá hạn 7 ngày", "2 lượt"} <= cells("vi")


def test_task_page_names_the_step_and_the_criteria_in_english(app, client):
    login(client, "stc_officer")
    with app.app_context():
        task = open_task(db.session, "draft_report", "STC").id
    english = page(client, f"/tasks/{task}?lang=en")
    assert "<h1>Draft the report and self-assessment</h1>" in english
    for text in ("Section 1. Building and using the information infrastructure",
                 "Technical infrastructure invested in, used, maintained and upgraded to standard",
                 "> Met</label>", "> Violated</label>", "> Not applicable</label>",
                 "Number of IT officers", "Technical infrastructure <span"):
        assert text in english, text
    for text in ("Lập báo cáo và tự đánh giá", SECTION_TITLES[1], CRITERIA[0].title_vi, "> Đạt</label>",
                 "Số cán bộ chuyên trách CNTT", "Hạ tầng kỹ thuật"):
        assert text not in english, text

    vietnamese = page(client, f"/tasks/{task}?lang=vi")
    for text in ("<h1>Lập báo cáo và tự đánh giá</h1>", SECTION_TITLES[1], CRITERIA[0].title_vi, "> Đạt</label>"):
        assert text in vietnamese, text
    assert "Draft the report" not in vietnamese and "> Met</label>" not in vietnamese


def test_cycle_page_shows_statuses_steps_and_roles_in_english(client):
    login(client, "stc_officer")
    english = page(client, "/cycles/2025?lang=en")
    for text in ("<strong>Receiving reports</strong>", "Agency drafting its report",
                 "Draft the report and self-assessment", "IT officer"):
        assert text in english, text
    for text in ("Đang nhận báo cáo", "Cơ quan đang lập báo cáo", "Lập báo cáo và tự đánh giá",
                 ">Cán bộ chuyên trách CNTT<"):  # the role; the officer's own name ("… CNTT STC") stays as written
        assert text not in english, text
    vietnamese = page(client, "/cycles/2025?lang=vi")
    assert "<strong>Đang nhận báo cáo</strong>" in vietnamese and "Cán bộ chuyên trách CNTT" in vietnamese


def test_notification_kinds_and_counts_in_english(app, client, runner, tmp_path):
    app.config.update(MAIL_OUTBOX_DIR=str(tmp_path), MAIL_SERVER=None)
    assert runner.invoke(args=["tick", "--now", "2025-12-08T09:00"]).exit_code == 0  # five working days left
    login(client, "stc_officer")
    english = page(client, "/notifications/?lang=en")
    assert "<strong>Deadline reminder</strong>" in english and "1 notification, 1 unread" in english
    assert "Nhắc hạn" not in english
    vietnamese = page(client, "/notifications/?lang=vi")
    assert "<strong>Nhắc hạn</strong>" in vietnamese and "1 thông báo, 1 chưa đọc" in vietnamese


def test_every_entry_of_the_catalogue_is_translated():
    cat = catalogue()
    entries = [m for m in cat if m.id]
    assert entries
    untranslated = [m.id for m in entries
                    if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not untranslated, untranslated
    assert not [m.id for m in entries if m.fuzzy]
    for m in entries:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for s in strings:
            assert sorted(set(PLACEHOLDER.findall(s))) == wanted, (m.id, s)


def test_the_catalogue_covers_every_message_in_the_code():
    """Extract exactly as `pybabel extract -F babel.cfg -k _l -k Text` does; run `pybabel update` when this fails."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "Text": None}
    in_code = {message if isinstance(message, str) else message[0]
               for _filename, _lineno, message, _comments, _context in
               extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}
    in_code.discard("")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    missing = sorted(in_code - translated)
    assert not missing, f"{len(missing)} messages not in the English catalogue: {missing}"
