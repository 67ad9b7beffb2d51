"""A real browser can log in and sees the inbox in Vietnamese."""
from __future__ import annotations


def test_login_in_a_real_browser_shows_the_vietnamese_inbox(server, browser, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server}/login")
    page.get_by_label("Tên đăng nhập").fill("stc_officer")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_role("alert").inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    page.get_by_label("Mật khẩu").fill("demo12345")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{server}/tasks/")
    assert page.get_by_role("heading", name="Hộp công việc").is_visible()
    page.screenshot(path=str(shots / "login-inbox.png"), full_page=True)
