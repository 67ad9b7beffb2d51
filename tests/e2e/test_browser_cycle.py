"""One agency's report from draft to the Committee's decision, in a real browser, logging in as each role.

Saves a screenshot of each role's inbox (and of the key pages) in tests/e2e/screenshots/.
"""
from __future__ import annotations

from datetime import date

from webapp.extensions import db
from workflows import cycles, users
from workflows.criteria import CRITERIA

YEAR = 2026
PASSWORD = "demo12345"


def open_cycle_for(app, codes: list[str]) -> None:
    with app.app_context():
        leader = users.get_by_username(db.session, "dic_leader")
        cycles.open_cycle(db.session, YEAR, date(YEAR, 12, 15), leader, unit_codes=codes)


class Browser:
    """Acts as one person after another in the same browser, as a shared office computer would be used."""

    def __init__(self, browser, server: str, shots) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        self.server, self.shots = server, shots

    def login(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.server}/login")
        if page.get_by_role("button", name="Đăng xuất").count():
            page.get_by_role("button", name="Đăng xuất").click()
            page.goto(f"{self.server}/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{self.server}/tasks/**")

    def open_task(self, step_name: str, role: str) -> None:
        page = self.page
        page.goto(f"{self.server}/tasks/")
        page.screenshot(path=str(self.shots / f"inbox-{role}.png"), full_page=True)
        page.get_by_role("link", name=step_name).first.click()
        page.get_by_role("heading", name=step_name).wait_for()

    def submit(self) -> None:
        """Send the form and wait for the page that answers it: the click only starts the navigation, and the page
        still shown (the task's own, perhaps with an older notice) would otherwise be read in its place."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Gửi", exact=True).click()

    def flash(self) -> str:
        return self.page.get_by_role("status").first.inner_text()


def test_an_agency_report_goes_from_draft_to_the_committees_decision(live_app, server, browser, shots):
    open_cycle_for(live_app, ["STC"])
    b = Browser(browser, server, shots)
    page = b.page

    # The officer drafts the report: every criterion, the figures, the budget.
    b.login("stc_officer")
    b.open_task("Lập báo cáo và tự đánh giá", "agency_officer")
    for criterion in CRITERIA:
        page.locator(f'input[name="status-{criterion.id}"][value="pass"]').check()
    page.get_by_label("Số cán bộ chuyên trách CNTT").fill("ba")  # a mistake, caught next to the field
    page.get_by_label("Tỷ lệ văn bản đi gửi điện tử (%)").fill("92")
    page.get_by_label("Tỷ lệ văn bản đến xử lý trên hệ thống (%)").fill("88")
    page.locator('input[name="budget-software"]').fill("250.000.000")
    b.submit()
    assert page.get_by_text("Phải là số nguyên.").is_visible()
    assert page.get_by_label("Tỷ lệ văn bản đi gửi điện tử (%)").input_value() == "92"  # nothing typed is lost
    page.screenshot(path=str(shots / "report-validation.png"), full_page=True)
    page.get_by_label("Số cán bộ chuyên trách CNTT").fill("3")
    b.submit()
    assert "Đã hoàn thành" in b.flash()

    # The head returns it with a reason; the officer sees the reason on top and sends it again.
    b.login("stc_head")
    b.open_task("Phê duyệt báo cáo", "agency_head")
    assert page.get_by_text("Nội dung báo cáo của cơ quan").is_visible()
    page.get_by_label("Quyết định").select_option("return")
    page.get_by_label("Ý kiến / lý do trả lại").fill("Bổ sung minh chứng cho tiêu chí M2.9.1.")
    b.submit()
    b.login("stc_officer")
    b.open_task("Lập báo cáo và tự đánh giá", "agency_officer-returned")
    assert page.get_by_role("alert").filter(has_text="Bổ sung minh chứng cho tiêu chí M2.9.1.").is_visible()
    page.locator('textarea[name="evidence-M2.9.1"]').fill("QĐ 12/QĐ-STC ngày 02/03/2026")
    b.submit()

    # This time the head's deputy approves, within the written assignment (Điều 2.3).
    b.login("stc_deputy")
    b.open_task("Phê duyệt báo cáo", "deputy")
    assert page.get_by_text("thay mặt").first.is_visible()
    page.get_by_label("Quyết định").select_option("approve")
    b.submit()

    # DIC accepts the report; being the only report of the cycle, consolidation opens at once.
    b.login("dic")
    b.open_task("Thẩm định, tiếp nhận báo cáo", "dic_officer")
    page.get_by_label("Kết quả thẩm định").select_option("accept")
    b.submit()
    b.open_task("Tổng hợp, thẩm định tiêu chí và xếp hạng ICT Index", "dic_officer-consolidation")
    # Gửi on the untouched page closes nothing: it names the unit still without a rank (issue 9).
    assert "0 / 1 đơn vị đã có thứ hạng" in page.locator("#progress").inner_text()
    page.get_by_label("Tôi đã kiểm tra số liệu").check()
    b.submit()
    assert "Chưa có thứ hạng: STC" in page.get_by_role("alert").first.inner_text()
    # The unit's row opens in place onto its own form (fetched by the script) and saves as its draft.
    page.get_by_text("Nhập, sửa số liệu của Sở Tài chính").click()
    page.locator('input[name="rank-STC"]').fill("1")
    page.locator('input[name="units-STC"]').fill("1")
    page.locator('input[name="slow-STC"][value="no"]').check()
    page.get_by_role("button", name="Lưu nháp của STC").click()
    page.locator("#u-STC td.status").get_by_text("Đã lưu nháp của STC.").wait_for()
    page.screenshot(path=str(shots / "consolidation.png"), full_page=True)
    page.goto(page.url.split("#")[0])  # a GET (reloading would send the refused form again)
    assert "1 / 1 đơn vị đã có thứ hạng" in page.locator("#progress").inner_text()
    page.get_by_label("Tôi đã kiểm tra số liệu").check()
    b.submit()
    assert "Đã hoàn thành" in b.flash()

    # DIC's leader reviews the proposal of the decision tables, a row per unit, and confirms.
    b.login("dic_leader")
    b.open_task("Đánh giá trách nhiệm người đứng đầu (Điều 15)", "dic_leader")
    assert page.get_by_text("Hoàn thành xuất sắc nhiệm vụ").first.is_visible()
    page.get_by_text("Xem căn cứ, điều chỉnh kết quả của Sở Tài chính").click()
    page.locator('select[name="ov-STC-rating"]').wait_for()
    page.screenshot(path=str(shots / "evaluation.png"), full_page=True)
    page.get_by_label("Tôi xác nhận kết quả đánh giá").check()
    b.submit()

    # Home Affairs: the four-eyes review of DIC's own result, then the proposal to the Committee.
    b.login("home_affairs")
    b.open_task("Thẩm định kết quả đánh giá của chính Sở TT&TT (bốn mắt)", "home_affairs")
    b.submit()
    b.open_task("Đề xuất khen thưởng, xử lý trách nhiệm (tờ trình)", "home_affairs-proposal")
    page.get_by_label("Quyết định của Sở Nội vụ").select_option("propose")
    b.submit()

    # The Committee decides, with the decision's number and date.
    b.login("committee")
    b.open_task("Quyết định khen thưởng, xử lý trách nhiệm", "committee")
    page.get_by_label("Ý kiến của UBND tỉnh").select_option("decide")
    page.get_by_label("Số quyết định").fill("215/QĐ-UBND")
    page.get_by_label("Ngày quyết định").fill("20/04/2027")
    b.submit()
    assert "Đã hoàn thành" in b.flash()

    # The year's results are recorded and readable by DIC.
    b.login("dic_leader")
    page.goto(f"{server}/cycles/{YEAR}")
    assert page.get_by_text("Hoàn thành xuất sắc nhiệm vụ").first.is_visible()
    assert page.get_by_text("215/QĐ-UBND").first.is_visible()
    page.screenshot(path=str(shots / "cycle-results.png"), full_page=True)


def test_the_inbox_works_on_a_narrow_screen_and_by_keyboard(live_app, server, browser, shots):
    open_cycle_for(live_app, ["STC"])
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(f"{server}/login")
    page.keyboard.press("Tab")  # the skip link comes first
    page.keyboard.press("Tab")
    page.get_by_label("Tên đăng nhập").focus()
    page.keyboard.type("stc_officer")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/tasks/**")
    link = page.get_by_role("link", name="Lập báo cáo và tự đánh giá")
    assert link.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1  # no sideways scrolling
    page.screenshot(path=str(shots / "inbox-narrow.png"), full_page=True)
