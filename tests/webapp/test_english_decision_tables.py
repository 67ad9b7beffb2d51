"""A decision table's cells in words go through the one catalogue (issue 14): English mode reads them in English,
as every other message, and the test page's cell-by-cell reasons likewise."""
from __future__ import annotations

from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po
from test_processes import R3_FORM, client_for, row, site  # noqa: F401 - the fixture and helpers


def test_decision_table_cells_read_in_english_in_english_mode(site, compiled_catalogue):  # noqa: F811
    client = client_for(site, "owner")
    english = client.get("/processes/unit_evaluation/v1?lang=en").get_data(as_text=True)
    r3 = row(english, "rule-sanction_rule_r3")
    assert r3[1] == "2 equal to 2" and r3[3] == "&#34;bot15&#34; equal to &#34;bot15&#34;"
    assert "from 1 to 2" in english and "any value" in english
    assert "bất kỳ giá trị nào" not in english and "từ 1 đến 2" not in english and " bằng " not in english
    tested = client.post("/processes/unit_evaluation/v1/decisions/sanction/test?lang=en", data=R3_FORM)
    assert tested.status_code == 200
    page = tested.get_data(as_text=True)
    assert "equal to" in page and " bằng " not in page
    vietnamese = client.get("/processes/unit_evaluation/v1?lang=vi").get_data(as_text=True)
    assert "từ 1 đến 2" in vietnamese and "from 1 to 2" not in vietnamese
