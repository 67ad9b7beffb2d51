"""English mode names units in English on the province-wide forms too: DIC's consolidation and evaluation tables and
Home Affairs' outcome form (issue 14); Vietnamese mode keeps the Vietnamese names."""
from __future__ import annotations

from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po
from test_task_pages import (  # noqa: F401 - the fixtures and the steps of the year
    client,
    fragment,
    login,
    task_id,
    to_consolidation,
    to_evaluation,
    to_home_affairs,
)


def page(browser, url: str) -> str:
    """The page's main content (the header names the signed-in person, whose title may hold a unit's name)."""
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True).split('id="main"', 1)[1]


def test_the_consolidation_table_names_units_in_the_pages_language(app, client, compiled_catalogue):  # noqa: F811
    to_consolidation(app)
    login(client, "dic")
    task = task_id(app, "consolidate")
    english = fragment(page(client, f"/tasks/{task}?lang=en"), 'id="u-SNV"', 'id="u-STC"')
    assert "Department of Home Affairs" in english and "Sở Nội vụ" not in english
    assert "Sở Nội vụ" in fragment(page(client, f"/tasks/{task}?lang=vi"), 'id="u-SNV"', 'id="u-STC"')


def test_the_evaluation_table_names_units_in_the_pages_language(app, client, compiled_catalogue):  # noqa: F811
    to_evaluation(app)
    login(client, "dic_leader")
    task = task_id(app, "evaluate")
    english = page(client, f"/tasks/{task}?lang=en")
    assert "Department of Home Affairs" in english and "Sở Nội vụ" not in english
    assert "Sở Nội vụ" in page(client, f"/tasks/{task}?lang=vi")


def test_the_outcome_form_names_units_in_the_pages_language(app, client, compiled_catalogue):  # noqa: F811
    to_home_affairs(app)
    login(client, "home_affairs")
    proposal = page(client, f"/tasks/{task_id(app, 'home_affairs_proposal')}?lang=en")
    assert "<strong>Department of Home Affairs</strong>" in proposal
    assert "<summary>Department of Finance (STC)" in proposal
    assert "Sở Nội vụ</strong>" not in proposal and "<summary>Sở Tài chính" not in proposal
    assert "<strong>Sở Nội vụ</strong>" in page(client, f"/tasks/{task_id(app, 'home_affairs_proposal')}?lang=vi")
