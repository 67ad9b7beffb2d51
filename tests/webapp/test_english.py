"""The English catalogue: pages switch to English with ?lang=en, and every message in the code has a translation."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from factories import open_small_cycle, open_task

from webapp.extensions import db

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
    """Extract exactly as `pybabel extract -F babel.cfg -k _l` does; run `pybabel update` when this fails."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    in_code = {message if isinstance(message, str) else message[0]
               for _filename, _lineno, message, _comments, _context in
               extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}
    in_code.discard("")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    missing = sorted(in_code - translated)
    assert not missing, f"{len(missing)} messages not in the English catalogue: {missing}"
