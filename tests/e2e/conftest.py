"""A live server on a real SQLite file (or the PostgreSQL test database) and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from testdb import TEST_DATABASE_URL, make_engine
from werkzeug.serving import make_server

from config import TestConfig

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOT_DIR", Path(__file__).parent / "screenshots"))


@pytest.fixture
def live_app(tmp_path):
    from webapp import create_app
    from webapp.extensions import db
    from workflows import demo

    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    engine = make_engine(url) if TEST_DATABASE_URL else None

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url if TEST_DATABASE_URL else f"sqlite:///{tmp_path / 'e2e.sqlite'}"
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        WTF_CSRF_ENABLED = True  # the browser goes through the real forms, tokens included
        UPLOAD_DIR = str(tmp_path / "evidence")

    app = create_app(Config)
    with app.app_context():
        if engine is None:
            from workflows.models import Base

            Base.metadata.create_all(db.engine)
        demo.seed(db.session, password="demo12345")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if engine is not None:
        engine.dispose()


def _closing_before_sending(app):
    """Runs the app's response to the end and closes it before Werkzeug's server writes a byte.

    Werkzeug's development server, used here only as the browser's test server, skips closing the response
    when the browser resets the connection after the answer was written (a click that navigates away): its
    clean-up reads the dead socket first, which raises. The file behind a static response then stays
    open until garbage collection, and its ResourceWarning fails whichever test happens to be running.
    """

    def buffered(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return buffered


@pytest.fixture
def server(live_app) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, _closing_before_sending(live_app), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
