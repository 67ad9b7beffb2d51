"""In a real browser, bpmn-js draws a process's diagram from the stored BPMN file and marks its steps, under the
process pages' Content-Security-Policy."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

VENDOR = Path(__file__).resolve().parents[2] / "webapp" / "static" / "vendor" / "bpmn-js"
PASSWORD = "demo12345"
# Every CSP violation the page causes, as "directive blocked-uri" (a listener the page's own CSP cannot block).
WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
                          e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture
def live_app(live_app):
    """The demo data plus this year open for STC and TTT: STC's report drafted and waiting for its head, TTT's draft
    past its due date."""
    from factories import report_payload

    from webapp.extensions import db
    from workflows import cycles, tasks, users
    from workflows.calendar import local_today
    from workflows.models import HumanTask, ProcessInstance, TaskState

    today = local_today()
    with live_app.app_context():
        leader = users.get_by_username(db.session, "dic_leader")
        cycles.open_cycle(db.session, today.year, today + timedelta(days=30), leader, unit_codes=["STC", "TTT"])
        drafts = {t.unit_code: t for t in db.session.scalars(
            select(HumanTask).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == "draft_report"))}
        tasks.complete_task(db.session, drafts["STC"].id, users.get_by_username(db.session, "stc_officer"),
                            report_payload())
        drafts["TTT"].due_on = today - timedelta(days=1)
        db.session.commit()
        live_app.config["STC_INSTANCE"] = db.session.scalar(
            select(ProcessInstance.id).where(ProcessInstance.unit_code == "STC"))
        live_app.config["YEAR"] = today.year
    return live_app


def _vendored() -> None:
    if not (VENDOR / "bpmn-navigated-viewer.production.min.js").exists():
        pytest.fail(f"bpmn-js is not in {VENDOR}: run `npm ci && npm run vendor` (the set-up script does) first")


def _login(browser, server: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(WATCH_CSP)
    page.goto(f"{server}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{server}/tasks/")
    return page


def test_the_version_page_draws_the_diagram_with_steps_marked_and_counted(live_app, server, browser, shots):
    _vendored()
    page = _login(browser, server, "owner")
    page.goto(f"{server}/processes/agency_report/v1?year={live_app.config['YEAR']}")
    page.wait_for_selector("[data-diagram-state=ready]", timeout=15_000)
    assert page.locator(".diagram svg .djs-element").count() > 5
    # STC waits for its head; TTT's draft is late (which outweighs STC's completed draft on the same step).
    assert page.locator('.djs-element.step-current[data-element-id="approve_report"]').count() == 1
    assert page.locator('.djs-element.step-late[data-element-id="draft_report"]').count() == 1
    assert page.locator(".djs-overlay-step-count .step-badge:not(.late)").all_inner_texts() == ["1", "1"]
    assert page.locator(".djs-overlay-step-count .step-badge.late").all_inner_texts() == ["1"]
    page.screenshot(path=str(shots / "process-version-diagram.png"), full_page=True)
    page.goto(f"{server}/processes/agency_report/v1?year={live_app.config['YEAR']}&lang=en")
    page.wait_for_selector("[data-diagram-state=ready]", timeout=15_000)
    titles = page.locator(".djs-overlay-step-count .step-badge").evaluate_all("els => els.map(e => e.title)")
    assert sorted(titles) == ["1 open task", "1 open task", "1 overdue task"]
    page.goto(f"{server}/processes/agency_report/v1?year={live_app.config['YEAR']}&lang=vi")
    page.wait_for_selector("[data-diagram-state=ready]", timeout=15_000)
    box = page.locator(".diagram").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)  # zoom, then pan: what people do with it, still within the page's CSP
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3, steps=5)
    page.mouse.up()
    assert page.evaluate("window.__csp") == []


def test_an_agency_officer_sees_their_instance_diagram_with_completed_and_current_steps(live_app, server, browser,
                                                                                         shots):
    _vendored()
    page = _login(browser, server, "stc_officer")
    page.goto(f"{server}/processes/instances/{live_app.config['STC_INSTANCE']}/diagram")
    page.wait_for_selector("[data-diagram-state=ready]", timeout=15_000)
    assert page.locator('.djs-element.step-completed[data-element-id="draft_report"]').count() == 1
    assert page.locator('.djs-element.step-current[data-element-id="approve_report"]').count() == 1
    assert page.locator('.djs-element.step-current[data-element-id="review_report"]').count() == 0
    assert page.evaluate("window.__csp") == []
    page.screenshot(path=str(shots / "process-instance-diagram.png"), full_page=True)
