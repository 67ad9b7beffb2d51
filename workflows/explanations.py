"""One sentence per evaluated head: the outcome, the facts and rule behind it, the articles, and any override.

Vietnamese and English are built side by side from the same facts (a parallel builder rather than catalogue lookups:
the clauses are assembled, so word order and conjunctions differ between the languages). The reason clauses are
`Text`, whose English is in the one catalogue like every other message (use_english, installed by the app factory).
The sentence is what documents, pages and the API show; reason codes stay available next to it for those who need
them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from workflows.messages import Text
from workflows.models import Evaluation, Override, UnitHistory
from workflows.units import UnitOfYear, units_of_year
from workflows.vocabulary import RATING_LABELS, REWARD_LABELS, SANCTION_LABELS

RATING_EN = {"excellent": "Excellently completed duties", "complete": "Completed duties",
             "incomplete": "Did not complete duties", "manual_review": "Manual review needed"}
SANCTION_EN = {"none": "no sanction", "criticism": "Criticism", "reprimand": "Reprimand", "warning": "Warning",
               "manual_review": "manual review"}
REWARD_EN = {"eligible": "eligible for a reward proposal", "ad_hoc_eligible": "proposed for an ad-hoc reward",
             "none": "no reward proposed"}
RATING_ARTICLE = {"excellent": "Điều 15.1", "complete": "Điều 15.2", "incomplete": "Điều 15.3"}
SANCTION_ARTICLES = {"criticism": ("Điều 17.1a",), "reprimand": ("Điều 17.1a", "Điều 17.1b"),
                     "warning": ("Điều 17.1c",)}
STAGE = {"evaluate": ("Sở TT&TT", "DIC"),
         "dic_self_review": ("Thẩm định kết quả của Sở TT&TT", "the review of DIC's result"),
         "home_affairs": ("Sở Nội vụ", "Home Affairs"), "committee": ("UBND tỉnh", "the Provincial People's Committee")}
FIELD = {"rating": ("xếp loại", "the rating"), "sanction": ("hình thức xử lý", "the sanction"),
         "reward": ("khen thưởng", "the reward")}

# Every reason code of the decision tables (vocabulary.REASON_LABELS) as a clause that fits inside the sentence:
# Vietnamese, with the English in the one catalogue (webapp/translations) like every other message.
REASON_SENTENCES: dict[str, Text] = {
    "BOT15_BUT_NO_VIOLATION": Text(
        "đứng trong 15% cuối Chỉ số ICT nhưng không vi phạm mục nào, nên vẫn hoàn thành nhiệm vụ (Điều 15.2)"),
    "NOT_RANKED": Text("đơn vị không có xếp hạng Chỉ số ICT nên không thể xếp Hoàn thành xuất sắc (Điều 15.1)"),
    "RANK_TIE": Text("đồng hạng tại ranh giới nhóm 20% cao nhất hoặc 15% thấp nhất nên nhóm xếp hạng chưa chắc chắn"),
    "TOP20_BUT_VIOLATION": Text(
        "đứng trong 20% cao nhất Chỉ số ICT nhưng có mục vi phạm; số mục vi phạm quyết định (Điều 15.3)"),
    "OR_READING_ONLY": Text(
        "chậm triển khai kết luận của UBND tỉnh nhưng không vi phạm mục nào: chỉ thỏa Điều 17.1a nếu hiểu "
        "điều kiện theo nghĩa 'hoặc'"),
    "MISSING_INPUT:slow_conclusions": Text("thiếu dữ liệu về việc chậm triển khai kết luận của UBND tỉnh (Điều 17.1a)"),
    "MISSING_INPUT:ict_rank": Text("thiếu xếp hạng Chỉ số ICT của năm đánh giá"),
    "MISSING_INPUT:prev_ict_rank": Text("thiếu xếp hạng Chỉ số ICT của năm trước (Điều 17.1b cần hai năm liền)"),
    "KHT_NO_SANCTION_RULE": Text(
        "không hoàn thành nhiệm vụ nhưng không chậm triển khai kết luận của UBND tỉnh, nên Điều 17.1 không "
        "quy định hình thức xử lý"),
    "BOT15_2Y_NOT_USED": Text(
        "đứng trong 15% cuối Chỉ số ICT hai năm liền nhưng không vi phạm đúng hai mục, nên Điều 17.1b không "
        "áp dụng"),
    "OVERLAP_A_B": Text("Điều 17.1a và 17.1b cùng áp dụng; áp dụng quy định cụ thể hơn"),
    "GAP_THREE_SECTIONS": Text("vi phạm ba mục, trường hợp Điều 17.1 không quy định hình thức xử lý"),
    "N4_NO_SUPERIOR_REQUEST": Text(
        "vi phạm cả bốn mục nhưng cơ quan quản lý cấp trên chưa yêu cầu kiểm điểm (Điều 17.1c)"),
    "SPECIAL_ACHIEVEMENT": Text("có thành tích đặc biệt xuất sắc, được đề nghị khen thưởng đột xuất (Điều 16.2)"),
    "RATING_PENDING_REVIEW": Text("xếp loại do người có thẩm quyền xem xét"),
    "LATE_REPORT": Text("báo cáo nộp muộn hoặc không nộp (Điều 19)"),
    "NO_REPORT": Text("không có báo cáo được tiếp nhận, nên kết quả do Sở TT&TT quyết định"),
    "CONFLICT_OF_INTEREST": Text("Sở TT&TT tự đánh giá mình, nên kết quả được người ngoài Sở thẩm định lại"),
    "SUBJECT_AMBIGUOUS": Text(
        "có nhiều người được đánh giá (thủ trưởng thay đổi trong năm, hoặc thủ trưởng và cấp phó được phân công), "
        "nên Sở Nội vụ chọn người"),
    "CANBO_NOT_CONGCHUC": Text(
        "người đứng đầu cấp huyện là cán bộ dân cử, không phải công chức, nên hình thức kỷ luật cần được rà "
        "soát pháp lý"),
}

# The English of a Text from the catalogue, for the English sentence. The web app installs it at start-up
# (webapp/i18n.english, through use_english); without it a clause shows in Vietnamese, visibly.
_english: Callable[[Text], str] = str


def use_english(translate: Callable[[Text], str]) -> None:
    """Read the English of the sentences' clauses with TRANSLATE (a Text's template through the catalogue)."""
    global _english
    _english = translate


@dataclass(frozen=True)
class Explanation:
    vi: str
    en: str


def reason_sentence(code: str) -> Text:
    """The clause for a reason code (English through the catalogue); an unforeseen missing input still reads as one."""
    if code in REASON_SENTENCES:
        return REASON_SENTENCES[code]
    if code.startswith("MISSING_INPUT:"):
        return Text("thiếu dữ liệu: {field}", field=code.split(":", 1)[1])
    return Text("lý do {code}", code=code)


def _reason(code: str, en: bool) -> str:
    text = reason_sentence(code)
    return _english(text) if en else str(text)


def _articles(articles: Iterable[str], en: bool) -> str:
    """('Điều 17.1a', 'Điều 17.1b') → 'Điều 17.1a, 17.1b' / 'Articles 17.1a, 17.1b'."""
    numbers = [a.replace("Điều ", "") for a in dict.fromkeys(articles)]
    if not numbers:
        return ""
    word = ("Articles " if len(numbers) > 1 else "Article ") if en else "Điều "
    return f" ({word}{', '.join(numbers)})"


def _sections(sections: list[int], en: bool) -> str:
    names = [f"{'Section' if en else 'Mục'} {s}" for s in sections]
    joiner = " and " if en else " và "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]


def _subject(block: str, name: str, en: bool) -> str:
    if block == "district":
        return f"Chair of the People's Committee of {name}" if en else f"Chủ tịch UBND {name[:1].lower()}{name[1:]}"
    return f"Head of {name}" if en else f"Thủ trưởng {name}"


def _rank(rank: int | None, units: int | None, year: int, en: bool) -> str:
    if rank is None:
        return "not ranked in " + str(year) if en else f"không có xếp hạng năm {year}"
    return f"{rank}/{units} in {year}" if en else f"{rank}/{units} năm {year}"


def explain(facts: Mapping[str, Any]) -> Explanation:
    """The sentence for one head from FACTS: unit_name (unit_name_en for the English sentence, when known), block,
    year, the case (ranks, sections, slow, superior), the final rating/sanction/reward, the rule and reasons the
    tables gave, and overrides (stage, field, from, to, reason, by)."""
    return Explanation(_build(facts, en=False), _build(facts, en=True))


def _build(f: Mapping[str, Any], en: bool) -> str:  # noqa: C901 (one clause per outcome reads best in one place)
    year = f["year"]
    case = f.get("case") or {}
    sections = list(f.get("sections_violated") or case.get("sections_violated") or [])
    rank, units = f.get("ict_rank"), f.get("ict_units")
    prev_rank, prev_units = case.get("prev_ict_rank"), case.get("prev_ict_units")
    rating, sanction, reward = f.get("rating") or "manual_review", f.get("sanction") or "none", f.get("reward")
    rule = f.get("sanction_rule")
    reasons = list(f.get("reasons") or [])
    used: set[str] = set()
    rating_label = (RATING_EN if en else RATING_LABELS).get(rating, rating)

    # Rating (Điều 15)
    if rating == "incomplete":
        if sections:
            why = f"violated {_sections(sections, en)}" if en else f"vi phạm {_sections(sections, en)}"
        else:
            why = "as recorded" if en else "theo quyết định đã ghi nhận"
    elif rating == "excellent":
        why = (f"violated no section and is in the top 20% of the ICT Index, {_rank(rank, units, year, en)}" if en
               else f"không vi phạm mục nào và đứng trong 20% cao nhất Chỉ số ICT, {_rank(rank, units, year, en)}")
    elif rating == "complete":
        why = (f"violated no section; ICT Index {_rank(rank, units, year, en)}" if en
               else f"không vi phạm mục nào; Chỉ số ICT {_rank(rank, units, year, en)}")
    else:
        why = "the rating needs a human's review" if en else "xếp loại cần người có thẩm quyền xem xét"
    recorded_only = rating == "incomplete" and not sections
    rating_clause = f"{rating_label} {why}" if recorded_only else f"{rating_label} {'because it' if en else 'vì'} {why}"
    if rating in RATING_ARTICLE:
        rating_clause += _articles([RATING_ARTICLE[rating]], en)
    clauses = [rating_clause]

    # Sanction (Điều 17)
    slow = ("slow to implement the Provincial People's Committee's conclusions on IT" if en
            else "chậm triển khai kết luận của UBND tỉnh")
    label = (SANCTION_EN if en else SANCTION_LABELS).get(sanction, sanction)
    propose = "proposed" if en else "đề xuất"
    if sanction == "reprimand" and rule == "R3":
        used.add("OVERLAP_A_B")
        last, this = _rank(prev_rank, prev_units, year - 1, en), _rank(rank, units, year, en)
        two_years = (f"in the bottom 15% of the ICT Index two years running, {last} and {this}" if en
                     else f"đứng trong 15% cuối Chỉ số ICT hai năm liền, {last} và {this}")
        clauses.append(f"{propose} {label} {'because it was' if en else 'vì'} {slow} {'and' if en else 'và'} "
                       f"{two_years}{_articles(SANCTION_ARTICLES['reprimand'], en)}")
    elif sanction == "criticism" and rule in ("R1", "R2"):
        clauses.append(f"{propose} {label} {'because it was' if en else 'vì'} {slow}"
                       f"{_articles(SANCTION_ARTICLES['criticism'], en)}")
    elif sanction == "warning" and rule == "R6":
        why = ("it violated all four sections, and its superior body required a self-criticism review and found a "
               "lack of responsibility" if en else
               "vi phạm cả bốn mục, cơ quan quản lý cấp trên yêu cầu kiểm điểm và kết luận thiếu trách nhiệm")
        clauses.append(f"{propose} {label} {'because' if en else 'vì'} {why}"
                       f"{_articles(SANCTION_ARTICLES['warning'], en)}")
    elif sanction == "manual_review":
        clauses.append("the sanction needs a human's review" if en
                       else "hình thức xử lý cần người có thẩm quyền xem xét")
    elif sanction in SANCTION_ARTICLES:
        # Chosen by a person (an override settles a manual case): the override clause below says who and why.
        clauses.append(f"{'sanction' if en else 'hình thức xử lý'}: {label}{_articles(['Điều 17.1'], en)}")
    elif sanction != "none":
        clauses.append(f"{'sanction' if en else 'hình thức xử lý'}: {label}")
    elif rating == "incomplete":
        clauses.append("no sanction proposed" if en else "không đề xuất xử lý")

    # Reward (Điều 16)
    if reward == "eligible":
        eligible = "eligible for a reward proposal" if en else "đủ điều kiện đề nghị khen thưởng"
        clauses.append(eligible + _articles(["Điều 16.1"], en))
    elif reward == "ad_hoc_eligible":
        used.add("SPECIAL_ACHIEVEMENT")
        clauses.append(_reason("SPECIAL_ACHIEVEMENT", en))

    notes = [_reason(code, en) for code in reasons if code not in used]
    if notes:
        clauses.append(("note: " if en else "lưu ý: ") + "; ".join(notes))
    for o in f.get("overrides") or ():
        stage = STAGE.get(o["stage"], (o["stage"], o["stage"]))[1 if en else 0]
        field = FIELD.get(o["field"], (o["field"], o["field"]))[1 if en else 0]
        values = {"rating": RATING_EN if en else RATING_LABELS, "sanction": SANCTION_EN if en else SANCTION_LABELS,
                  "reward": REWARD_EN if en else REWARD_LABELS}.get(o["field"], {})
        new = values.get(o["to"], o["to"])
        if en:
            clauses.append(f"{stage} ({o['by']}) set {field} to {new}, reason: “{o['reason']}”")
        else:
            clauses.append(f"{stage} ({o['by']}) điều chỉnh {field} thành {new}, lý do: “{o['reason']}”")
    subject = _subject(f.get("block") or "department", (en and f.get("unit_name_en")) or f["unit_name"], en)
    return f"{subject}: {'; '.join(clauses)}."


def facts_of(evaluation: Evaluation, name: str, name_en: str | None = None) -> dict[str, Any]:
    """The facts of one evaluation row that the sentence needs (the case as the tables saw it, and overrides)."""
    proposed = evaluation.proposed or {}
    return {
        "year": evaluation.year, "unit_name": name, "unit_name_en": name_en, "block": evaluation.block.value,
        "ict_rank": evaluation.ict_rank, "ict_units": evaluation.ict_units,
        "sections_violated": evaluation.sections_violated, "case": proposed.get("case") or {},
        "rating": evaluation.rating, "sanction": evaluation.sanction, "reward": evaluation.reward,
        "sanction_rule": proposed.get("sanction_rule"), "reasons": evaluation.reasons,
        "overrides": [{"stage": o.stage, "field": o.field, "from": o.old_value, "to": o.new_value,
                       "reason": o.reason, "by": o.by.full_name or o.by.username} for o in evaluation.overrides],
    }


def explain_evaluation(session: Session, evaluation: Evaluation) -> Explanation:
    on = date(evaluation.year, 12, 31)
    names = session.execute(select(UnitHistory.name_vi, UnitHistory.name_en).where(
        UnitHistory.code == evaluation.unit_code, UnitHistory.valid_from <= on,
        or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on))).first()
    return explain(facts_of(evaluation, *(names or (evaluation.unit_code, None))))


def year_rows(session: Session, year: int) -> list[Evaluation]:
    """YEAR's computed rows (not imported prior ranks) in unit order, with their overrides and who made them: all a
    sentence reads of the rows, in three queries whatever the number of units."""
    return list(session.scalars(
        select(Evaluation).where(Evaluation.year == year, Evaluation.imported.is_(False)).order_by(Evaluation.unit_code)
        .options(selectinload(Evaluation.overrides).joinedload(Override.by))))


def of_rows(rows: Iterable[Evaluation], units: Iterable[UnitOfYear]) -> dict[str, Explanation]:
    """Each row's sentence, by unit, with the names the units bore (units_of_year); rows as year_rows loads them."""
    names = {u.code: (u.name_vi, u.name_en) for u in units}
    return {e.unit_code: explain(facts_of(e, *names.get(e.unit_code, (e.unit_code, None)))) for e in rows}


def of_year(session: Session, year: int) -> dict[str, Explanation]:
    """Each unit's sentence for YEAR, set-based (year_rows, and the year's unit names in one more query)."""
    return of_rows(year_rows(session, year), units_of_year(session, year))
