"""English mode in a real browser: the inbox, a task page and the year's page name units and steps in English.

Saves screenshots of the English inbox and task page in tests/e2e/screenshots/ (the README shows them).
"""
from __future__ import annotations

from test_browser_cycle import PASSWORD, YEAR, open_cycle_for


def test_english_mode_names_units_and_steps_in_english_on_the_inbox_a_task_and_the_year(live_app, server, browser,
                                                                                        shots):
    open_cycle_for(live_app, ["STC", "SNV"])
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page.goto(f"{server}/login?lang=en")
    page.get_by_label("Username").fill("stc_officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/tasks/**")

    # The inbox: the step by the catalogue's English name, the unit by agencies.csv's.
    page.goto(f"{server}/tasks/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    row = page.locator("tbody tr").first
    assert "Department of Finance" in row.inner_text() and "Sở Tài chính" not in row.inner_text()
    page.screenshot(path=str(shots / "inbox-english.png"), full_page=True)

    # A task page: its heading and the unit beside it, and nothing marked as lacking an English name.
    row.get_by_role("link").first.click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Draft the report and self-assessment"
    assert page.locator("strong[title=STC]").inner_text() == "Department of Finance"
    assert page.locator("main .untranslated").count() == 0
    page.screenshot(path=str(shots / "task-english.png"))  # the top of the page: heading and unit

    # The year's page (progress and results) as DIC reads it: every unit in English.
    page.goto(f"{server}/login")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill("dic_leader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/tasks/**")
    page.goto(f"{server}/cycles/{YEAR}?lang=en")
    main = page.locator("main").inner_text()
    assert "Department of Finance" in main and "Department of Home Affairs" in main
    assert "Sở Tài chính" not in main and "Sở Nội vụ" not in main
