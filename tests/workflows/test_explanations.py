"""The sentence per head: facts, rule, articles and overrides, in Vietnamese and English."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, select

from webapp.i18n import english
from workflows import demo, explanations
from workflows.explanations import REASON_SENTENCES, explain, reason_sentence
from workflows.models import Evaluation
from workflows.vocabulary import REASON_LABELS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def english_clauses():
    """The English of the reason clauses comes from the catalogue, as the app factory installs it."""
    po, mo = (ROOT / "webapp/translations/en/LC_MESSAGES" / name for name in ("messages.po", "messages.mo"))
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:  # generated, not committed
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", "webapp/translations"],
                       check=True, capture_output=True, cwd=ROOT)
    explanations.use_english(english)


def _facts(**changes):
    facts = {"year": 2025, "unit_name": "Sở Công Thương", "block": "department", "ict_rank": 19, "ict_units": 20,
             "sections_violated": [2, 4], "case": {"prev_ict_rank": 18, "prev_ict_units": 20},
             "rating": "incomplete", "sanction": "reprimand", "reward": "none", "sanction_rule": "R3",
             "reasons": ["OVERLAP_A_B"], "overrides": []}
    return {**facts, **changes}


def test_the_issue_example_word_for_word():
    assert explain(_facts()).vi == (
        "Thủ trưởng Sở Công Thương: Không hoàn thành nhiệm vụ vì vi phạm Mục 2 và Mục 4 (Điều 15.3); đề xuất Khiển "
        "trách vì chậm triển khai kết luận của UBND tỉnh và đứng trong 15% cuối Chỉ số ICT hai năm liền, 18/20 năm "
        "2024 và 19/20 năm 2025 (Điều 17.1a, 17.1b).")


def test_english_is_built_from_the_same_facts():
    en = explain(_facts()).en
    assert en.startswith("Head of Sở Công Thương: Did not complete duties because it violated Section 2 and Section 4 "
                         "(Article 15.3); proposed Reprimand")
    assert "18/20 in 2024 and 19/20 in 2025 (Articles 17.1a, 17.1b)" in en
    assert not re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", en.replace("Sở Công Thương", ""))


def test_criticism_warning_excellent_and_district_subject():
    r1 = explain(_facts(sections_violated=[1], sanction="criticism", sanction_rule="R1", reasons=[])).vi
    assert "vi phạm Mục 1 (Điều 15.3); đề xuất Phê bình vì chậm triển khai kết luận của UBND tỉnh (Điều 17.1a)" in r1
    r6 = explain(_facts(sections_violated=[1, 2, 3, 4], sanction="warning", sanction_rule="R6", reasons=[])).vi
    assert "Mục 1, Mục 2, Mục 3 và Mục 4" in r6 and "đề xuất Cảnh cáo" in r6 and "(Điều 17.1c)" in r6
    top = explain(_facts(block="district", unit_name="Huyện Yên Phong", ict_rank=1, ict_units=8, sections_violated=[],
                         rating="excellent", sanction="none", reward="eligible", sanction_rule="-", reasons=[]))
    assert top.vi == ("Chủ tịch UBND huyện Yên Phong: Hoàn thành xuất sắc nhiệm vụ vì không vi phạm mục nào và đứng "
                      "trong 20% cao nhất Chỉ số ICT, 1/8 năm 2025 (Điều 15.1); đủ điều kiện đề nghị khen thưởng "
                      "(Điều 16.1).")
    assert top.en.startswith("Chair of the People's Committee of Huyện Yên Phong: Excellently completed duties")


def test_manual_case_settled_by_an_override_names_reason_and_author():
    facts = _facts(sections_violated=[1, 2, 3], sanction="reprimand", sanction_rule="R5",
                   reasons=["GAP_THREE_SECTIONS"],
                   overrides=[{"stage": "committee", "field": "sanction", "from": "manual_review", "to": "reprimand",
                               "reason": "Vi phạm kéo dài.", "by": "Nguyễn Văn An"}])
    text = explain(facts)
    assert "vi phạm ba mục, trường hợp Điều 17.1 không quy định hình thức xử lý" in text.vi
    assert ("UBND tỉnh (Nguyễn Văn An) điều chỉnh hình thức xử lý thành Khiển trách, lý do: “Vi phạm kéo dài.”"
            in text.vi)
    assert ("the Provincial People's Committee (Nguyễn Văn An) set the sanction to Reprimand, reason: "
            "“Vi phạm kéo dài.”") in text.en


def test_every_reason_code_has_a_sentence_in_both_languages_through_the_catalogue():
    assert set(REASON_LABELS) <= set(REASON_SENTENCES)
    for code in REASON_LABELS:
        vi = reason_sentence(code)
        en = english(vi)
        assert vi and en and en != vi and code not in vi and code not in en, code
        assert not re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", en), en
    missing = reason_sentence("MISSING_INPUT:budget")
    assert (missing, english(missing)) == ("thiếu dữ liệu: budget", "an input is missing: budget")
    assert english(reason_sentence("NEW_CODE")) == "reason NEW_CODE"


def test_an_english_sentence_takes_its_reason_clauses_from_the_catalogue():
    facts = _facts(reasons=["OVERLAP_A_B", "LATE_REPORT"])
    assert "note: the report was late or missing (Article 19)." in explain(facts).en
    assert "lưu ý: báo cáo nộp muộn hoặc không nộp (Điều 19)." in explain(facts).vi


def test_every_unit_of_a_simulated_year_has_a_sentence_citing_an_article(session):
    demo.simulate(session, 2025, 28)
    sentences = explanations.of_year(session, 2025)
    assert len(sentences) == 28
    for code, text in sentences.items():
        assert re.search(r"\(Điều \d+", text.vi), (code, text.vi)
        assert re.search(r"\(Articles? \d+", text.en), (code, text.en)
        assert "_" not in text.vi and "_" not in text.en  # no bare reason code
    assert "Sở TT&TT" in sentences["STC"].vi and "lý do:" in sentences["STC"].vi
    assert "(Điều 19)" in sentences["SGDDT"].vi


def test_the_years_sentences_take_a_few_queries_whatever_the_number_of_units(session, db_engine):
    """The evaluation page and the year's page ask for every sentence: not two queries per unit (280 units)."""
    demo.simulate(session, 2025, 28)
    session.expire_all()  # nothing already loaded: overrides and names are read as a fresh request reads them
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        sentences = explanations.of_year(session, 2025)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert len(sentences) == 28 and len(statements) <= 4, statements
    assert "lý do:" in sentences["STC"].vi  # the override and who made it were loaded with the rows
    assert sentences["STC"] == explanations.explain_evaluation(session, session.scalar(
        select(Evaluation).where(Evaluation.year == 2025, Evaluation.unit_code == "STC")))


def test_the_english_sentence_names_the_unit_in_english_and_the_vietnamese_one_in_vietnamese(session):
    demo.simulate(session, 2025, 28)
    sentence = explanations.of_year(session, 2025)["STC"]
    assert sentence.en.startswith("Head of Department of Finance: ") and "Sở Tài chính" not in sentence.en
    assert sentence.vi.startswith("Thủ trưởng Sở Tài chính: ")
    one = explanations.explain_evaluation(session, session.scalar(
        select(Evaluation).where(Evaluation.year == 2025, Evaluation.unit_code == "STC")))
    assert one == sentence
    # Without an English name (facts built by hand), the English sentence keeps the Vietnamese one.
    assert explain(_facts(unit_name_en=None)).en.startswith("Head of Sở Công Thương: ")


def test_a_row_without_its_facts_still_reads_as_a_sentence():
    bare = explain({"year": 2025, "unit_name": "Sở Tài chính", "block": "department", "rating": "incomplete",
                    "sanction": "criticism", "reward": "none", "reasons": ["TOP20_BUT_VIOLATION"]})
    assert bare.vi.startswith("Thủ trưởng Sở Tài chính: Không hoàn thành nhiệm vụ theo quyết định đã ghi nhận "
                              "(Điều 15.3); hình thức xử lý: Phê bình (Điều 17.1)")
