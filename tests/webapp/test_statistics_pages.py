"""The agency history page and the statistics page: content, charts with their tables, links, and who is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from statistics_seed import seed_two_years

from webapp.extensions import db
from workflows.models import Cycle

PASSWORD = "simulation-only"


@pytest.fixture
def seeded(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        seed_two_years(db.session)
    return app


def client_for(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def test_history_page_shows_both_years_the_status_and_the_rank_chart(seeded):
    page = client_for(seeded, "dic_leader").get("/agencies/SKHDT/history")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<caption>Kết quả qua các năm</caption>" in html
    assert "19/20" in html and "18/20" in html and "Khiển trách" in html and "Phê bình" in html
    assert 'data-two-years="yes"' in html and "hai năm liền" in html
    assert 'role="img"' in html and "<title id=\"rank-chart-title\">Thứ hạng ICT Index qua các năm</title>" in html
    assert "<caption>Thứ hạng ICT Index qua các năm</caption>" in html
    assert "<polyline" in html


def test_history_page_for_own_agency_and_refusals(seeded):
    assert client_for(seeded, "skhdt_officer").get("/agencies/SKHDT/history").status_code == 200
    assert client_for(seeded, "vpub_officer").get("/agencies/SKHDT/history").status_code == 403
    assert client_for(seeded, "owner").get("/agencies/SKHDT/history").status_code == 403
    assert client_for(seeded, "dic").get("/agencies/NOPE/history").status_code == 404
    assert seeded.test_client().get("/agencies/SKHDT/history").status_code == 302  # to the login page


def test_statistics_page_has_each_chart_with_its_table(seeded):
    html = client_for(seeded, "committee").get("/statistics/").get_data(as_text=True)
    for caption in ("Số cơ quan theo xếp loại, từng năm", "Số lượt vi phạm theo mục, cộng tất cả các năm",
                    "Số cơ quan vi phạm từng mục, theo năm", "Báo cáo theo thời hạn nộp, từng năm",
                    "Số cơ quan theo chiều thay đổi thứ hạng", "Thứ hạng từng cơ quan, nhiều bậc tăng nhất trước"):
        assert f"<caption>{caption}</caption>" in html
    assert html.count('class="stacked"') == 3  # two years of ratings, one year of reports
    assert 'class="part excellent"' in html and 'class="bar late"' in html
    assert "Năm 2025 so với năm 2024." in html
    assert 'href="/agencies/SXD/history"' in html  # units link to their history
    assert "▼ 14" in html  # SGTVT 5 → 19


def test_statistics_are_refused_to_agencies_and_offered_in_the_menu_to_others(seeded):
    officer = client_for(seeded, "skhdt_officer")
    assert officer.get("/statistics/").status_code == 403
    assert 'href="/statistics/"' not in officer.get("/agencies/SKHDT/history").get_data(as_text=True)
    for username in ("dic", "home_affairs", "committee", "supervisor", "admin"):
        client = client_for(seeded, username)
        assert client.get("/statistics/").status_code == 200
        assert 'href="/statistics/"' in client.get("/cycles/").get_data(as_text=True)


def test_cycle_page_links_each_unit_to_its_history(seeded):
    with seeded.app_context():
        assert db.session.scalar(select(Cycle.year).where(Cycle.year == 2025))
    html = client_for(seeded, "dic_leader").get("/cycles/2025").get_data(as_text=True)
    # the progress table and the results table both link to the history
    assert html.count('href="/agencies/SKHDT/history"') == 2
    own = client_for(seeded, "skhdt_officer").get("/cycles/2025").get_data(as_text=True)
    assert 'href="/agencies/SKHDT/history"' in own


def test_history_page_in_english(seeded):
    client = client_for(seeded, "dic_leader")
    html = client.get("/agencies/SKHDT/history?lang=en").get_data(as_text=True)
    assert "Results over the years" in html and "Bottom 15%" in html
