"""WCAG 2.1 AA in a real browser (issue 3): axe-core finds nothing on the main pages as each role sees them, the inbox
and the report form need no sideways scrolling at 360 px, and a form is filled in and sent with the keyboard alone,
the focus always visible.

axe-core comes from npm (package.json's devDependencies, installed by `npm ci` in scripts/setup.sh) and is put into
the page by the test only: it is never served to users.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BPMN_JS = ROOT / "webapp" / "static" / "vendor" / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
PASSWORD = "demo12345"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
# The contrast of an element's focus indicator (outline or box-shadow, whichever is stronger) against the background
# it sits on: WCAG 1.4.11 asks 3:1 of what shows where the keyboard is.
FOCUS_CONTRAST = """el => {
  const colours = text => (text.match(/rgba?\\([^)]*\\)/g) || []).map(c => c.match(/[\\d.]+/g).map(Number))
    .filter(c => c.length < 4 || c[3] > 0);
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const ratio = (a, b) => { const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
                            return (hi + 0.05) / (lo + 0.05); };
  let background = [255, 255, 255];
  for (let node = el.parentElement; node; node = node.parentElement) {
    const found = colours(getComputedStyle(node).backgroundColor);
    if (found.length) { background = found[0]; break; }
  }
  const style = getComputedStyle(el);
  const ring = style.outlineStyle === 'none' || parseFloat(style.outlineWidth) === 0 ? [] : colours(style.outlineColor);
  ring.push(...colours(style.boxShadow));
  return Math.max(0, ...ring.map(c => ratio(c, background)));
}"""


@pytest.fixture
def live_app(live_app):
    """Three years in different states, so that every purpose-built page can be reached: 2025 waits for the DIC
    leader's evaluation (STC), 2024 for DIC's consolidation (SNV), and this year STC's report waits for its head (a
    form drawn in the Modeler) while TTT's draft is overdue, with its reminder sent; one calendar day is adjusted."""
    from factories import report_payload

    from webapp.extensions import db
    from workflows import cycles, deadlines, tasks, users, worker
    from workflows.calendar import LOCAL_TZ, local_today
    from workflows.models import HumanTask, ProcessInstance, TaskState

    def person(username):
        return users.get_by_username(db.session, username)

    def open_task(step, unit_code=None):
        query = select(HumanTask).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == step)
        if unit_code:
            query = query.where(HumanTask.unit_code == unit_code)
        return db.session.scalars(query).one()

    def accepted_report(year, code):
        when = datetime.combine(date(year, 11, 10), time(9), tzinfo=LOCAL_TZ)
        tasks.complete_task(db.session, open_task("draft_report", code).id, person(f"{code.lower()}_officer"),
                            report_payload(), when)
        tasks.complete_task(db.session, open_task("approve_report", code).id, person(f"{code.lower()}_head"),
                            {"head_decision": "approve"}, when)
        tasks.complete_task(db.session, open_task("review_report", code).id, person("dic"),
                            {"dic_decision": "accept"}, when)

    today = local_today()
    with live_app.app_context():
        leader = person("dic_leader")
        cycles.open_cycle(db.session, 2025, date(2025, 12, 15), leader, unit_codes=["STC"], confirm_late=True)
        accepted_report(2025, "STC")
        tasks.complete_task(db.session, open_task("consolidate").id, person("dic"),
                            {"units": {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}})
        cycles.open_cycle(db.session, 2024, date(2024, 12, 15), leader, unit_codes=["SNV"], confirm_late=True)
        accepted_report(2024, "SNV")
        tasks.claim(db.session, open_task("consolidate").id, person("dic"))  # one task in DIC's own tab
        cycles.open_cycle(db.session, today.year, today + timedelta(days=30), leader, unit_codes=["STC", "TTT"])
        tasks.complete_task(db.session, open_task("draft_report", "STC").id, person("stc_officer"), report_payload())
        open_task("draft_report", "TTT").due_on = today - timedelta(days=3)
        db.session.commit()
        worker.run_pass(db.session)  # the overdue notice TTT's officer reads on the notifications page
        deadlines.add_override(db.session, date(today.year, 12, 31), "holiday", "Nghỉ bổ sung cuối năm",
                               "Thông báo 1/TB-VPCP", person("admin"))
        db.session.commit()
        live_app.config["A11Y"] = {
            "consolidate": open_task("consolidate").id,
            "evaluate": open_task("evaluate").id,
            "approve": open_task("approve_report", "STC").id,
            "draft": open_task("draft_report", "TTT").id,
            "instance": db.session.scalar(select(ProcessInstance.id).where(
                ProcessInstance.unit_code == "STC", ProcessInstance.process_key == "agency_report",
                ProcessInstance.year == today.year)),
            "year": today.year,
        }
    return live_app


def _login(browser, server: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{server}/tasks/**")
    return page


def _violations(page) -> list[str]:
    """axe's WCAG 2.1 A and AA violations on the page as it is now, one line per rule and offending element.

    Also text whose contrast axe measured too low but left "to review", as it does for text the colour of its own
    background (1:1, which it takes for text hidden on purpose): on these pages such text is a button nobody sees.
    """
    if not AXE.exists():
        pytest.fail(f"axe-core is not in {AXE.parent}: run `npm ci` (scripts/setup.sh does) first")
    if not page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated rather than added as a <script>: the pages' Content-Security-Policy forbids inline scripts, and
        # switching it off (bypass_csp) would also apply inline styles that users' browsers refuse.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(RUN_AXE, WCAG_21_AA)
    found = [(rule, node) for rule in results["violations"] for node in rule["nodes"]]
    for rule in results["incomplete"]:
        if rule["id"] == "color-contrast":
            for node in rule["nodes"]:
                data = next((check.get("data") for check in node["any"] if isinstance(check.get("data"), dict)), {})
                expected = float(str(data.get("expectedContrastRatio", "4.5")).split(":")[0])
                if data.get("contrastRatio") and data["contrastRatio"] < expected:
                    found.append((rule, node))
    return [f"{page.url} [{rule['id']}, {rule['impact']}] {rule['help']}: {node['target']}\n    "
            + " ".join((node.get("failureSummary") or "").split()) for rule, node in found]


def _visit(page, url: str, found: list[str]) -> None:
    response = page.goto(url)
    assert response.ok, f"{url} answered {response.status}"
    found.extend(_violations(page))


def _assert_none(found: list[str]) -> None:
    assert not found, f"{len(found)} WCAG 2.1 AA violation(s) found by axe-core:\n" + "\n".join(found)


def test_the_login_page_has_no_violations_with_or_without_an_error(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    found: list[str] = []
    _visit(page, f"{server}/login", found)
    page.get_by_label("Tên đăng nhập").fill("stc_officer")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("alert").wait_for()
    found.extend(_violations(page))
    _assert_none(found)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_inbox_tab_has_no_violations(live_app, server, browser, language):
    page = _login(browser, server, "dic")
    found: list[str] = []
    page.goto(f"{server}/tasks/?lang={language}")  # the choice is kept for the pages that follow
    for tab, rows in (("mine", 1), ("group", 0), ("done", 3)):  # a list, the empty state, a list
        _visit(page, f"{server}/tasks/?tab={tab}", found)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("main table tbody tr").count() == rows
    _visit(page, f"{server}/tasks/?tab=done&step=draft_report&sort=unit", found)  # filtered
    _assert_none(found)


def test_the_task_forms_have_no_violations_also_with_their_errors_shown(live_app, server, browser):
    ids = live_app.config["A11Y"]
    found: list[str] = []
    page = _login(browser, server, "stc_head")  # a form drawn in the Modeler (camunda:formData), the report above it
    _visit(page, f"{server}/tasks/{ids['approve']}", found)
    page.get_by_role("button", name="Gửi", exact=True).click()  # no decision chosen
    assert page.get_by_label("Quyết định").get_attribute("aria-invalid") == "true"
    found.extend(_violations(page))

    page = _login(browser, server, "ttt_officer")  # the purpose-built report form
    _visit(page, f"{server}/tasks/{ids['draft']}", found)
    page.get_by_label("Số cán bộ chuyên trách CNTT").fill("ba")
    page.get_by_role("button", name="Gửi", exact=True).click()
    assert page.get_by_text("Phải là số nguyên.").is_visible()
    found.extend(_violations(page))
    _assert_none(found)


def test_dics_consolidation_and_evaluation_pages_have_no_violations(live_app, server, browser):
    ids = live_app.config["A11Y"]
    found: list[str] = []
    page = _login(browser, server, "dic")
    _visit(page, f"{server}/tasks/{ids['consolidate']}", found)
    page.get_by_role("button", name="Gửi", exact=True).click()  # nothing entered: refused, naming SNV
    assert page.locator("#missing").get_by_text("SNV").is_visible()
    found.extend(_violations(page))
    _visit(page, f"{server}/tasks/{ids['consolidate']}?open=SNV", found)  # SNV's row opened in place
    page.locator('input[name="rank-SNV"]').fill("0")  # not a positive whole number
    page.get_by_role("button", name="Lưu nháp của SNV").click()
    page.locator("#u-SNV td.status").get_by_text("Đã lưu nháp của SNV.").wait_for()
    page.goto(f"{server}/tasks/{ids['consolidate']}?open=SNV")
    assert page.locator('input[name="rank-SNV"]').get_attribute("aria-invalid") == "true"
    found.extend(_violations(page))
    page = _login(browser, server, "dic_leader")
    _visit(page, f"{server}/tasks/{ids['evaluate']}", found)
    _visit(page, f"{server}/tasks/{ids['evaluate']}?open=STC", found)  # a row opened onto its facts and form
    _assert_none(found)


def test_cycle_history_and_overdue_pages_have_no_violations(live_app, server, browser):
    ids = live_app.config["A11Y"]
    found: list[str] = []
    page = _login(browser, server, "dic_leader")
    _visit(page, f"{server}/cycles/", found)
    _visit(page, f"{server}/cycles/{ids['year']}", found)
    _visit(page, f"{server}/cycles/2025", found)  # with its results
    _visit(page, f"{server}/cycles/instances/{ids['instance']}", found)
    page = _login(browser, server, "supervisor")
    _visit(page, f"{server}/supervise/overdue", found)
    assert page.locator("main table").get_by_text("Thanh tra tỉnh").first.is_visible()
    _visit(page, f"{server}/supervise/cycles/{ids['year']}", found)
    _assert_none(found)


def test_the_process_diagram_pages_have_no_violations(live_app, server, browser):
    if not BPMN_JS.exists():
        pytest.fail(f"bpmn-js is not in {BPMN_JS.parent}: run `npm ci && npm run vendor` (scripts/setup.sh does) first")
    ids = live_app.config["A11Y"]
    found: list[str] = []
    page = _login(browser, server, "dic_leader")
    for url in (f"{server}/processes/agency_report/v1", f"{server}/processes/instances/{ids['instance']}/diagram"):
        page.goto(url)
        page.wait_for_selector("[data-diagram-state=ready]", timeout=15_000)  # judged with the diagram drawn
        found.extend(_violations(page))
    _assert_none(found)


def test_admin_calendar_and_notification_pages_have_no_violations(live_app, server, browser):
    found: list[str] = []
    page = _login(browser, server, "admin")
    _visit(page, f"{server}/admin/users", found)
    _visit(page, f"{server}/admin/calendar/", found)
    assert page.get_by_role("button", name="Bỏ điều chỉnh").count() == 1
    page = _login(browser, server, "ttt_officer")
    _visit(page, f"{server}/notifications/", found)
    assert page.get_by_role("button", name="Mở công việc").count() == 1  # the overdue notice, with its actions
    _visit(page, f"{server}/notifications/preferences", found)
    _assert_none(found)


def test_the_inbox_and_the_report_form_fit_a_360_px_wide_screen(live_app, server, browser, shots):
    ids = live_app.config["A11Y"]
    page = _login(browser, server, "ttt_officer")
    page.set_viewport_size({"width": 360, "height": 740})
    for name, url in (("inbox", f"{server}/tasks/"), ("report-form", f"{server}/tasks/{ids['draft']}")):
        page.goto(url)
        page.screenshot(path=str(shots / f"narrow-360-{name}.png"), full_page=True)
        scroll_width, client_width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert client_width == 360
        assert scroll_width <= client_width, f"{url} scrolls sideways at 360 px ({scroll_width} px wide)"


def _tab_to(page, target, limit: int = 80) -> list[str]:
    """Press Tab until TARGET has the focus; the weak focus indicators met on the way."""
    weak = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return weak
        focused = page.locator(":focus")
        if focused.count() and focused.evaluate(FOCUS_CONTRAST) < 3:
            weak.append(focused.evaluate("el => el.outerHTML.slice(0, 120)"))
    pytest.fail(f"{limit} presses of Tab never reached {target}")


def test_a_head_approves_a_report_with_the_keyboard_alone_and_always_sees_the_focus(live_app, server, browser):
    ids = live_app.config["A11Y"]
    page = _login(browser, server, "stc_head")
    page.goto(f"{server}/tasks/{ids['approve']}")
    decision = page.get_by_label("Quyết định")
    send = page.get_by_role("button", name="Gửi", exact=True)

    weak = _tab_to(page, decision)  # from the top of the page, through the links and the report
    page.keyboard.press("ArrowDown")  # "— Chọn —" → the first choice
    assert decision.input_value() == "approve"
    weak += _tab_to(page, send)
    assert send.evaluate(FOCUS_CONTRAST) >= 3, "the focused Send button shows no visible focus"
    assert weak == [], "focus indicators below 3:1 against their background:\n" + "\n".join(weak)
    with page.expect_navigation():  # Enter only starts it
        page.keyboard.press("Enter")
    assert "Đã hoàn thành" in page.get_by_role("status").first.inner_text()
    page.goto(f"{server}/tasks/{ids['approve']}")
    assert page.get_by_text("Đã hoàn thành").first.is_visible()
