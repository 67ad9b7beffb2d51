"""Returns at every stage of a year, in a real browser, and a draft held by one officer that another cannot edit.

The walk ends on the year's results in English mode (the inbox and a task page in English: test_english_mode.py).

Each return is checked as the person who returned sees it (the notice says it is a return, with the reason in full),
as the history shows it, and as the receiver sees it (the reason on top); the receiver writes an answer that the next
reviewer then reads on their own page.
"""
from __future__ import annotations

from test_browser_cycle import YEAR, Browser, open_cycle_for

from webapp.extensions import db
from workflows import users
from workflows.criteria import CRITERIA
from workflows.models import HumanTask, Role, TaskState

DRAFT = "Lập báo cáo và tự đánh giá"
APPROVE = "Phê duyệt báo cáo"
REVIEW = "Thẩm định, tiếp nhận báo cáo"
CONSOLIDATE = "Tổng hợp, thẩm định tiêu chí và xếp hạng ICT Index"
EVALUATE = "Đánh giá trách nhiệm người đứng đầu (Điều 15)"
FOUR_EYES = "Thẩm định kết quả đánh giá của chính Sở TT&TT (bốn mắt)"
PROPOSAL = "Đề xuất khen thưởng, xử lý trách nhiệm (tờ trình)"
DECISION = "Quyết định khen thưởng, xử lý trách nhiệm"
# A reason longer than any notice would show cut short: it must arrive whole.
LONG = ("; kèm bảng đối chiếu số liệu của từng quý, biên bản kiểm tra thực tế tại đơn vị và ý kiến của phòng "
        "chuyên môn về từng tiêu chí còn thiếu minh chứng")


class Walk(Browser):
    def open_task(self, step_name: str, role: str) -> None:
        """As Browser.open_task, without the inbox's screenshot (test_browser_cycle.py takes those): ROLE is unused."""
        self.page.goto(f"{self.server}/tasks/")
        self.page.get_by_role("link", name=step_name).first.click()
        self.page.get_by_role("heading", name=step_name).wait_for()

    def fill_report(self) -> None:
        page = self.page
        for criterion in CRITERIA:
            page.locator(f'input[name="status-{criterion.id}"][value="pass"]').check()
        page.get_by_label("Số cán bộ chuyên trách CNTT").fill("3")
        page.get_by_label("Tỷ lệ văn bản đi gửi điện tử (%)").fill("92")
        page.get_by_label("Tỷ lệ văn bản đến xử lý trên hệ thống (%)").fill("88")
        page.locator('input[name="budget-software"]').fill("250.000.000")

    def returned(self, step: str, reason: str) -> None:
        """The notice after a return names it a return, with the reason whole; so does the history."""
        assert self.flash() == f"Đã trả lại: {step}. Lý do: {reason}"

    def history_says(self, task_step: str, line: str, role: str) -> None:
        """Open TASK_STEP and its history: LINE is in it, whole."""
        self.open_task(task_step, role)
        self.page.get_by_role("link", name="Lịch sử xử lý").click()
        self.page.get_by_role("heading", name="Lịch sử xử lý").wait_for()  # the instance's page, not the task's
        assert self.page.get_by_text(line, exact=False).count() >= 1, line

    def receives(self, step: str, reason: str, role: str) -> None:
        """The receiver's page shows the reason on top."""
        self.open_task(step, role)
        assert self.page.get_by_role("alert").filter(has_text=reason).is_visible()

    def answer(self, text: str) -> None:
        self.page.get_by_label("Trả lời ý kiến trả lại (người xem xét tiếp theo sẽ đọc)").fill(text)

    def sees_answer(self, text: str) -> None:
        banner = self.page.locator("p.banner.answer")
        assert banner.inner_text() == f"Trả lời cho ý kiến trả lại của bạn: {text}"

    def consolidate(self, role: str, answer: str | None = None) -> None:
        page = self.page
        self.open_task(CONSOLIDATE, role)
        if "1 / 1 đơn vị đã có thứ hạng" not in page.locator("#progress").inner_text():
            page.get_by_text("Nhập, sửa số liệu của Sở Tài chính").click()
            page.locator('input[name="rank-STC"]').fill("1")
            page.locator('input[name="units-STC"]').fill("1")
            page.locator('input[name="slow-STC"][value="no"]').check()
            page.get_by_role("button", name="Lưu nháp của STC").click()
            page.locator("#u-STC td.status").get_by_text("Đã lưu nháp của STC.").wait_for()
            page.goto(page.url.split("#")[0])
        page.get_by_label("Tôi đã kiểm tra số liệu").check()
        if answer:
            self.answer(answer)
        self.submit()
        assert self.flash() == f"Đã hoàn thành: {CONSOLIDATE}."

    def evaluate(self, role: str, answer: str | None = None) -> None:
        self.open_task(EVALUATE, role)
        self.page.get_by_label("Tôi xác nhận kết quả đánh giá").check()
        if answer:
            self.answer(answer)
        self.submit()
        assert self.flash() == f"Đã hoàn thành: {EVALUATE}."

    def four_eyes(self) -> None:
        self.open_task(FOUR_EYES, "home_affairs")
        self.submit()
        assert self.flash() == f"Đã hoàn thành: {FOUR_EYES}."


def test_a_return_at_every_stage_reads_as_one_and_its_answer_reaches_the_next_reviewer(live_app, server, browser,
                                                                                        shots):
    open_cycle_for(live_app, ["STC"])
    b = Walk(browser, server, shots)
    page = b.page

    b.login("stc_officer")
    b.open_task(DRAFT, "agency_officer")
    b.fill_report()
    b.submit()

    # 1. The head returns the report to the officer.
    reason = "Bổ sung minh chứng cho tiêu chí M2.9.1" + LONG
    b.login("stc_head")
    b.open_task(APPROVE, "agency_head")
    page.get_by_label("Quyết định").select_option("return")
    page.get_by_label("Ý kiến / lý do trả lại").fill(reason)
    b.submit()
    b.returned(APPROVE, reason)
    b.login("stc_officer")
    b.history_says(DRAFT, f"Trả lại '{APPROVE}'. Lý do: {reason}", "returned-by-head")
    b.receives(DRAFT, reason, "returned-by-head")
    b.answer("Đã bổ sung QĐ 12/QĐ-STC cho M2.9.1.")
    b.submit()
    b.login("stc_head")
    b.open_task(APPROVE, "agency_head-answered")
    b.sees_answer("Đã bổ sung QĐ 12/QĐ-STC cho M2.9.1.")
    page.get_by_label("Quyết định").select_option("approve")
    b.submit()

    # 2. DIC returns the report to the unit: it goes back to the officer's draft.
    reason = "Tỷ lệ văn bản đến chưa khớp số liệu hệ thống" + LONG
    b.login("dic")
    b.open_task(REVIEW, "dic_officer")
    page.get_by_label("Kết quả thẩm định").select_option("return")
    page.get_by_label("Ý kiến thẩm định / lý do trả lại").fill(reason)
    b.submit()
    b.returned(REVIEW, reason)
    b.login("stc_officer")
    b.history_says(DRAFT, f"Trả lại '{REVIEW}'. Lý do: {reason}", "returned-by-dic")
    b.receives(DRAFT, reason, "returned-by-dic")
    b.answer("Đã đối chiếu lại: 88% theo hệ thống quản lý văn bản.")
    b.submit()
    b.login("stc_head")
    b.open_task(APPROVE, "agency_head-again")
    page.get_by_label("Quyết định").select_option("approve")
    b.submit()
    b.login("dic")
    b.open_task(REVIEW, "dic_officer-answered")
    b.sees_answer("Đã đối chiếu lại: 88% theo hệ thống quản lý văn bản.")
    page.get_by_label("Kết quả thẩm định").select_option("accept")
    b.submit()
    b.consolidate("dic_officer-consolidation")
    b.login("dic_leader")
    b.evaluate("dic_leader")
    b.login("home_affairs")
    b.four_eyes()

    # 3. Home Affairs returns to the evaluation; DIC's leader answers on the evaluation page itself.
    reason = "Đề nghị nêu rõ căn cứ xếp loại của Sở Tài chính" + LONG
    b.open_task(PROPOSAL, "home_affairs")
    page.get_by_label("Quyết định của Sở Nội vụ").select_option("return_to_dic")
    page.get_by_label("Lý do trả lại / ghi chú").fill(reason)
    b.submit()
    b.returned(PROPOSAL, reason)
    b.login("dic_leader")
    b.history_says(EVALUATE, f"Trả lại '{PROPOSAL}'. Lý do: {reason}", "dic_leader-returned")
    b.receives(EVALUATE, reason, "dic_leader-returned")
    b.evaluate("dic_leader-returned", answer="Căn cứ: Điều 15.1, hạng 1/1, không vi phạm mục nào.")
    b.login("home_affairs")
    b.four_eyes()
    b.open_task(PROPOSAL, "home_affairs-answered")
    b.sees_answer("Căn cứ: Điều 15.1, hạng 1/1, không vi phạm mục nào.")

    # 4. Home Affairs returns to the consolidation; DIC's officer answers on the consolidation page.
    reason = "Thứ hạng ICT Index chưa khớp công bố của Bộ" + LONG
    page.get_by_label("Quyết định của Sở Nội vụ").select_option("return_to_consolidation")
    page.get_by_label("Lý do trả lại / ghi chú").fill(reason)
    b.submit()
    b.returned(PROPOSAL, reason)
    b.login("dic")
    b.history_says(CONSOLIDATE, f"Trả lại '{PROPOSAL}'. Lý do: {reason}", "dic_officer-returned")
    b.receives(CONSOLIDATE, reason, "dic_officer-returned")
    b.consolidate("dic_officer-returned", answer="Đã đối chiếu với công bố của Bộ: hạng 1/1.")
    b.login("dic_leader")
    b.evaluate("dic_leader-again")
    b.login("home_affairs")
    b.four_eyes()
    b.open_task(PROPOSAL, "home_affairs-answered-again")
    b.sees_answer("Đã đối chiếu với công bố của Bộ: hạng 1/1.")
    page.get_by_label("Quyết định của Sở Nội vụ").select_option("propose")
    b.submit()

    # 5. The Committee returns to Home Affairs; Home Affairs answers, the Committee reads it and decides.
    reason = "Tờ trình thiếu danh sách người đứng đầu được đề nghị khen thưởng" + LONG
    b.login("committee")
    b.open_task(DECISION, "committee")
    page.get_by_label("Ý kiến của UBND tỉnh").select_option("return_to_home_affairs")
    page.get_by_label("Lý do", exact=True).fill(reason)
    b.submit()
    b.returned(DECISION, reason)
    b.login("home_affairs")
    b.history_says(PROPOSAL, f"Trả lại '{DECISION}'. Lý do: {reason}", "home_affairs-returned")
    b.receives(PROPOSAL, reason, "home_affairs-returned")
    page.get_by_label("Quyết định của Sở Nội vụ").select_option("propose")
    b.answer("Đã bổ sung danh sách: Thủ trưởng Sở Tài chính.")
    b.submit()
    b.login("committee")
    b.open_task(DECISION, "committee-answered")
    b.sees_answer("Đã bổ sung danh sách: Thủ trưởng Sở Tài chính.")
    page.get_by_label("Ý kiến của UBND tỉnh").select_option("decide")
    page.get_by_label("Số quyết định").fill("215/QĐ-UBND")
    page.get_by_label("Ngày quyết định").fill("20/04/2027")
    b.submit()
    assert b.flash() == f"Đã hoàn thành: {DECISION}."
    page.goto(f"{server}/cycles/{YEAR}")
    assert page.get_by_text("215/QĐ-UBND").first.is_visible()

    # The results in English mode: the unit, the rating and the explaining sentence all in English.
    page.goto(f"{server}/cycles/{YEAR}?lang=en")
    results = page.get_by_role("heading", name="Evaluation results").locator("xpath=following-sibling::div[1]")
    row = results.locator("tbody tr").first
    assert row.locator("td").first.get_by_role("link").inner_text() == "Department of Finance"
    explanation = row.locator("td").last.inner_text()
    assert explanation.startswith("Head of Department of Finance: Excellently completed duties because it violated "
                                  "no section"), explanation
    assert "Sở Tài chính" not in explanation and "Hoàn thành xuất sắc" not in row.inner_text()
    page.screenshot(path=str(shots / "results-english.png"), full_page=True)


def test_a_draft_held_by_one_officer_is_read_only_to_another(live_app, server, browser, shots):
    open_cycle_for(live_app, ["STC"])
    with live_app.app_context():
        users.create_user(db.session, "stc_officer2", "demo12345", "Nguyễn Văn Bình", [Role.AGENCY_OFFICER], "STC",
                          demo=True)
        db.session.commit()
    b = Walk(browser, server, shots)
    page = b.page

    # Officer A saves a draft: that claims the task.
    b.login("stc_officer")
    b.open_task(DRAFT, "agency_officer-draft")
    page.get_by_label("Tỷ lệ văn bản đi gửi điện tử (%)").fill("92")
    page.get_by_role("button", name="Lưu nháp").click()
    assert b.flash() == "Đã lưu nháp."
    task_url = page.url

    # Officer B of the same unit sees it held by A, read-only, with no way to submit.
    b.login("stc_officer2")
    page.goto(task_url)
    held = page.locator(".card.held")
    assert held.inner_text().startswith("Công việc đang do Cán bộ chuyên trách CNTT Sở Tài chính xử lý từ ")
    assert "bạn chỉ xem được, không sửa được bản nháp" in held.inner_text()
    assert page.get_by_role("button", name="Gửi", exact=True).count() == 0
    assert page.get_by_role("button", name="Lưu nháp").count() == 0
    assert page.locator('input[name="edoc_sent_pct"]').count() == 0
    page.screenshot(path=str(shots / "task-held.png"), full_page=True)

    # A forged submission (with B's own valid CSRF token) is refused, and A's draft is untouched.
    token = page.locator('input[name="csrf_token"]').first.input_value()
    for action in ("submit", "draft"):
        response = page.request.post(task_url, form={"csrf_token": token, "action": action, "edoc_sent_pct": "10",
                                                     "it_staff_count": "1", "edoc_received_pct": "10"},
                                     max_redirects=0)
        assert response.status in (403, 409), (action, response.status)
    with live_app.app_context():
        task = db.session.get(HumanTask, int(task_url.rstrip("/").rsplit("/", 1)[1]))
        assert task.state == TaskState.OPEN and task.assignee.username == "stc_officer"
        assert task.draft["edoc_sent_pct"] == "92"
