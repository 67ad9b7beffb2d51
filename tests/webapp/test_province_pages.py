"""The province-wide pages (consolidation, evaluation): what they cost per request, and the answer to a return."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

from factories import at, open_small_cycle
from sqlalchemy import event, select
from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po
from test_task_pages import (  # noqa: F401 (client is a fixture)
    client,
    complete,
    login,
    settle,
    task_id,
    to_evaluation,
    to_home_affairs,
    user,
)

from webapp.extensions import db
from workflows import cycles, task_schema, tasks
from workflows.criteria import CRITERIA
from workflows.models import HumanTask, TaskState
from workflows.units import units_of_year


def _count_schemas(monkeypatch) -> list[str]:
    built: list[str] = []
    real = task_schema.task_schema

    def counting(fields, form_key, evaluations):  # noqa: ANN001, ANN202
        built.append(form_key)
        return real(fields, form_key, evaluations)

    monkeypatch.setattr(task_schema, "task_schema", counting)
    return built


def test_the_pages_and_a_rows_fragment_do_not_build_the_apis_json_schema(app, client, monkeypatch):  # noqa: F811
    """At 280 units the consolidation's schema cost more than the rest of the page; only the API returns it."""
    to_evaluation(app)
    built = _count_schemas(monkeypatch)
    login(client, "dic_leader")
    evaluate = task_id(app, "evaluate")
    assert client.get(f"/tasks/{evaluate}").status_code == 200
    assert client.get(f"/tasks/{evaluate}?open=SNV").status_code == 200
    assert client.get(f"/tasks/{evaluate}/units/SNV").status_code == 200
    assert built == []
    with app.app_context():  # what the API's GET /tasks/<id> asks for
        schema = tasks.task_page(db.session, evaluate, user("dic_leader"), date(2026, 1, 20), with_schema=True).schema
    assert built == ["app:evaluation"] and "SNV" in str(schema)


def test_an_opened_evaluation_row_costs_a_few_queries_more_not_one_per_unit(app, client, db_engine):  # noqa: F811
    """The opened row explains its unit: the year's sentences are read set-based, not a query or two per unit."""
    with app.app_context():
        units = units_of_year(db.session, 2026)
        open_small_cycle(db.session, [u.code for u in units], year=2026)
        cycles.fire_due(db.session, at(date(2026, 12, 16), 1))  # no report came: DIC appraises every unit
        sizes = Counter(u.block for u in units)
        seen: Counter = Counter()
        entries = {}
        for u in units:
            seen[u.block] += 1
            entries[u.code] = {"ict_rank": seen[u.block], "ict_units": sizes[u.block], "slow_conclusions": False,
                               "appraisal": {c.id: "pass" for c in CRITERIA}}
        # The 2025 cycle's deadline has passed too: take 2026's steps by year.
        consolidate = db.session.scalar(select(HumanTask.id).where(HumanTask.step_id == "consolidate",
                                                                   HumanTask.year == 2026))
        tasks.complete_task(db.session, consolidate, user("dic"), {"units": entries, "confirmed": True},
                            at(date(2027, 1, 5)))
        evaluate = db.session.scalar(select(HumanTask.id).where(HumanTask.step_id == "evaluate",
                                                                HumanTask.year == 2026))
    assert len(units) == 28
    login(client, "dic_leader")
    client.get(f"/tasks/{evaluate}?open=STC")  # warm-up: the caches a request fills
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        closed = client.get(f"/tasks/{evaluate}")
        closed_count = len(statements)
        opened = client.get(f"/tasks/{evaluate}?open=STC")
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert closed.status_code == opened.status_code == 200
    assert "Giải thích:</strong> Thủ trưởng Sở Tài chính" in opened.get_data(as_text=True)
    # Opening a row adds the explanations' three queries (names, rows, overrides), not 28 or 56.
    assert len(statements) - 2 * closed_count <= 4, statements[closed_count:]


def test_a_province_wide_step_returned_by_home_affairs_takes_an_answer_the_next_reviewer_reads(app,
                                                                                            client):  # noqa: F811
    to_home_affairs(app)
    login(client, "home_affairs")
    proposal = task_id(app, "home_affairs_proposal")
    done = client.post(f"/tasks/{proposal}", data={"ha_decision": "return_to_consolidation", "action": "submit",
                                                   "ha_reason": "Thứ hạng của SNV chưa khớp công bố của Bộ"},
                       follow_redirects=True)
    assert "Đã trả lại: Đề xuất khen thưởng, xử lý trách nhiệm (tờ trình). Lý do: Thứ hạng của SNV chưa khớp công bố " \
           "của Bộ" in done.get_data(as_text=True)
    client.post("/logout")

    login(client, "dic")
    consolidate = task_id(app, "consolidate")
    page = client.get(f"/tasks/{consolidate}").get_data(as_text=True)
    finish = page[page.index('id="finish"'):]
    assert 'name="return_answer"' in finish  # in the final form, sent with the confirmation
    sent = client.post(f"/tasks/{consolidate}", data={"final": "1", "confirmed": "1", "action": "submit",
                                                      "return_answer": "Đã đối chiếu: SNV hạng 2/3."})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with app.app_context():
        complete("dic_leader", "evaluate", settle(), when=date(2026, 2, 2))
        complete("home_affairs", "review_dic_self_evaluation", {"overrides": []}, when=date(2026, 2, 3))
    client.post("/logout")

    login(client, "home_affairs")
    again = client.get(f"/tasks/{task_id(app, 'home_affairs_proposal')}").get_data(as_text=True)
    assert "Trả lời cho ý kiến trả lại của bạn:</strong> Đã đối chiếu: SNV hạng 2/3." in again


def test_the_evaluation_page_returned_by_home_affairs_takes_an_answer_too(app, client):  # noqa: F811
    to_home_affairs(app)
    login(client, "home_affairs")
    client.post(f"/tasks/{task_id(app, 'home_affairs_proposal')}",
                data={"ha_decision": "return_to_dic", "ha_reason": "Nêu rõ căn cứ", "action": "submit"})
    client.post("/logout")
    login(client, "dic_leader")
    evaluate = task_id(app, "evaluate")
    page = client.get(f"/tasks/{evaluate}").get_data(as_text=True)
    assert 'name="return_answer"' in page[page.index('id="finish"'):]
    client.post(f"/tasks/{evaluate}", data={"final": "1", "confirmed": "1", "action": "submit",
                                            "return_answer": "Căn cứ Điều 15.2."})
    with app.app_context():
        assert db.session.get(HumanTask, evaluate).state == TaskState.COMPLETED
    client.post("/logout")
    login(client, "home_affairs")
    review = client.get(f"/tasks/{task_id(app, 'review_dic_self_evaluation')}").get_data(as_text=True)
    assert "Trả lời cho ý kiến trả lại của bạn:</strong> Căn cứ Điều 15.2." in review


def test_the_rows_words_are_translated_once_and_name_each_unit_in_both_languages(app, client,  # noqa: F811
                                                                                 compiled_catalogue):  # noqa: F811
    to_evaluation(app)
    login(client, "dic_leader")
    evaluate = task_id(app, "evaluate")
    page = client.get(f"/tasks/{evaluate}").get_data(as_text=True)
    assert "<summary>Xem căn cứ, điều chỉnh kết quả của Sở Nội vụ</summary>" in page
    assert '?open=SNV#u-SNV">Mở biểu mẫu của SNV</a>' in page
    assert '<span class="tag-review">Cần xem xét thủ công</span>' in page  # SNV: slow conclusions unknown
    english = client.get(f"/tasks/{evaluate}?lang=en").get_data(as_text=True)
    assert "<summary>See the grounds of, or change, the result of " in english
    assert '?open=SNV#u-SNV">Open the form of SNV</a>' in english
    assert '<span class="tag-review">Manual review needed</span>' in english
    snv = english[english.index('id="u-SNV"'):]
    assert '<td class="status">Decision needed' in snv and "Cần quyết định" not in english
    opened = client.get(f"/tasks/{evaluate}?open=STC&lang=en").get_data(as_text=True)  # STC's grounds, opened
    assert "Article 15." in opened and not re.search(r"Điều \d", opened)  # an outcome's grounds, in English too
    assert re.search(r"Điều 15\.\d", client.get(f"/tasks/{evaluate}?open=STC&lang=vi").get_data(as_text=True))
    client.post("/logout")
    login(client, "dic")
    with app.app_context():
        # Back to consolidation through Home Affairs, so that the consolidation table shows its late unit.
        complete("dic_leader", "evaluate", settle(), when=date(2026, 1, 20))
        complete("home_affairs", "review_dic_self_evaluation", {"overrides": []}, when=date(2026, 1, 21))
        complete("home_affairs", "home_affairs_proposal", {"ha_decision": "return_to_consolidation",
                                                           "ha_reason": "Kiểm tra lại"}, when=date(2026, 1, 22))
    consolidate = task_id(app, "consolidate")
    table = client.get(f"/tasks/{consolidate}?lang=vi").get_data(as_text=True)
    assert "<summary>Nhập, sửa số liệu của Sở Tài chính</summary>" in table
    late = table[table.index('id="u-STTTT"'):]
    assert '<span class="late">LATE_REPORT</span> <span class="muted">Báo cáo nộp muộn' in late
    english = client.get(f"/tasks/{consolidate}?lang=en").get_data(as_text=True)
    assert "<summary>Enter or edit the data of " in english and ">Open the form of STC</a>" in english
