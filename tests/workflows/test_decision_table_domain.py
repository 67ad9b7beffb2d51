"""The decision tables, continued: rank classes, and the whole input domain against the outcomes of docs/RULES.md.
"""
from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from lxml import etree
from test_decision_tables import (  # noqa: F401 - helpers and the fixtures every test here uses
    BPMN_DIR,
    DMN_NS,
    compile_each_file_set_once,
    deployed,
    unit,
)

from workflows import engine, rules
from workflows.errors import EngineError
from workflows.models import Block
from workflows.units import units_of_year

# --- rank classes ------------------------------------------------------------------------------------------------


def classes(units: int, top: int, bottom: int) -> list[str]:
    return ["top20"] * top + ["middle"] * (units - top - bottom) + ["bot15"] * bottom


# (N, size of the top class, size of the bottom class), worked out by hand from docs/RULES.md, Rank classes:
# top20 ⇔ rank ≤ max(1, floor(0.20·N)); bot15 ⇔ rank > N − max(1, floor(0.15·N)); top wins when both hold.
BOUNDARIES = [
    pytest.param(1, 1, 0, id="N=1 the only unit is top 20%, not bottom 15%"),
    pytest.param(2, 1, 1, id="N=2 rank 1 top, rank 2 bottom"),
    pytest.param(3, 1, 1, id="N=3 one top, one bottom"),
    pytest.param(5, 1, 1, id="N=5 floor(1.0) top, floor(0.75) raised to 1 bottom"),
    pytest.param(7, 1, 1, id="N=7 floor(1.4)=1 top, floor(1.05)=1 bottom"),
    pytest.param(8, 1, 1, id="N=8 rank 1 top, rank 8 bottom"),
    pytest.param(10, 2, 1, id="N=10 floor(2.0)=2 top, floor(1.5)=1 bottom"),
    pytest.param(13, 2, 1, id="N=13 floor(2.6)=2 top, floor(1.95)=1 bottom"),
    pytest.param(14, 2, 2, id="N=14 floor(2.8)=2 top, floor(2.1)=2 bottom"),
    pytest.param(20, 4, 3, id="N=20 ranks 1-4 top, 18-20 bottom"),
    pytest.param(27, 5, 4, id="N=27 floor(5.4)=5 top, floor(4.05)=4 bottom"),
]


@pytest.mark.parametrize(("units", "top", "bottom"), BOUNDARIES)
def test_rank_classes_follow_the_floored_shares_for_both_years(session, deployed, units, top, bottom):  # noqa: F811
    # the other year is a block of 1, so a table that read the other year's rank or block size would be caught
    alone = {"ict_rank": 1, "ict_units": 1, "prev_ict_rank": 1, "prev_ict_units": 1}
    this_year = [rules.evaluate(session, {**unit(0), **alone, "ict_rank": rank, "ict_units": units})["ict_class"]
                 for rank in range(1, units + 1)]
    last_year = [
        rules.evaluate(session, {**unit(0), **alone, "prev_ict_rank": rank, "prev_ict_units": units})["prev_ict_class"]
        for rank in range(1, units + 1)
    ]
    assert this_year == classes(units, top, bottom)
    assert last_year == classes(units, top, bottom)


def test_the_real_blocks_of_bac_ninh_split_as_domain_md_says(session, deployed):  # noqa: F811
    block_size = defaultdict(int)
    for row in units_of_year(session, 2024):
        block_size[row.block] += 1
    assert dict(block_size) == {Block.DEPARTMENT: 20, Block.DISTRICT: 8}
    for block, units, expected in (
        ("department", 20, {1: "top20", 4: "top20", 5: "middle", 17: "middle", 18: "bot15", 20: "bot15"}),
        ("district", 8, {1: "top20", 2: "middle", 7: "middle", 8: "bot15"}),
    ):
        for rank, ict_class in expected.items():
            case = {**unit(0), "block": block, "ict_rank": rank, "ict_units": units}
            assert rules.evaluate(session, case)["ict_class"] == ict_class, (block, rank)


def test_a_unit_alone_in_its_block_is_excellent_and_not_flagged_as_bottom(session, deployed):  # noqa: F811
    case = {**unit(0), "ict_rank": 1, "ict_units": 1, "prev_ict_rank": 1, "prev_ict_units": 1}
    outcome = rules.evaluate(session, case)
    assert (outcome["rating"], outcome["reward"], outcome["reasons"]) == ("excellent", "eligible", [])
    assert (outcome["ict_class"], outcome["prev_ict_class"]) == ("top20", "top20")


def test_a_rank_without_last_years_ranking_is_not_ranked_for_last_year(session, deployed):  # noqa: F811
    outcome = rules.evaluate(session, unit(0, "bot15", None))
    assert (outcome["ict_class"], outcome["prev_ict_class"]) == ("bot15", "not_ranked")


def test_the_configured_shares_move_the_class_boundaries(session, deployed):  # noqa: F811
    def class_of(rank: int, **shares: float) -> str:
        return rules.evaluate(session, {**unit(0), "ict_rank": rank, "ict_units": 10}, **shares)["ict_class"]

    assert [class_of(r) for r in (2, 3, 9, 10)] == ["top20", "middle", "middle", "bot15"]
    assert [class_of(r, top_share=0.30, bottom_share=0.20) for r in (3, 4, 8, 9)] == [
        "top20", "middle", "middle", "bot15"]


# --- exhaustive: the whole input domain of the tables ------------------------------------------------------------


def documented_outcome(n: int, slow: bool | None, now: str | None, before: str | None, superior: bool,
                       lacks: bool, special: bool, tie: bool) -> tuple:
    """(rating, sanction, sanction_rule, reward, reasons) as docs/RULES.md §4 states them; None = not ranked."""
    if n >= 1:
        rating, rating_reasons = "incomplete", ["TOP20_BUT_VIOLATION"] if now == "top20" else []
    elif now is None:
        rating, rating_reasons = "manual_review", ["NOT_RANKED"]
    elif tie:
        rating, rating_reasons = "manual_review", ["RANK_TIE"]
    elif now == "top20":
        rating, rating_reasons = "excellent", []
    else:
        rating, rating_reasons = "complete", ["BOT15_BUT_NO_VIOLATION"] if now == "bot15" else []

    both_years_bottom = now == before == "bot15"
    if n == 0:
        sanction, rule, sanction_reasons = ("manual_review", "R9", ["OR_READING_ONLY"]) if slow else ("none", "-", [])
    elif n <= 2 and slow is None:
        sanction, rule, sanction_reasons = "manual_review", "R8", ["MISSING_INPUT:slow_conclusions"]
    elif n <= 2 and not slow:
        sanction, rule, sanction_reasons = "manual_review", "R4", ["KHT_NO_SANCTION_RULE"]
    elif n == 1:
        sanction, rule, sanction_reasons = "criticism", "R1", ["BOT15_2Y_NOT_USED"] if both_years_bottom else []
    elif n == 2 and now is None:
        sanction, rule, sanction_reasons = "manual_review", "R8", ["MISSING_INPUT:ict_rank"]
    elif n == 2 and now == "bot15" and before is None:
        sanction, rule, sanction_reasons = "manual_review", "R8", ["MISSING_INPUT:prev_ict_rank"]
    elif n == 2:
        sanction, rule, sanction_reasons = ("reprimand", "R3", ["OVERLAP_A_B"]) if both_years_bottom else (
            "criticism", "R2", [])
    elif n == 3:
        sanction, rule, sanction_reasons = "manual_review", "R5", ["GAP_THREE_SECTIONS"]
    else:
        sanction, rule, sanction_reasons = ("warning", "R6", []) if superior and lacks else (
            "manual_review", "R7", ["N4_NO_SUPERIOR_REQUEST"])

    if rating == "excellent":
        reward, reward_reasons = "eligible", ["SPECIAL_ACHIEVEMENT"] if special else []
    else:
        reward = "ad_hoc_eligible" if special else "none"
        reward_reasons = ["RATING_PENDING_REVIEW"] if rating == "manual_review" else []
    reasons = rating_reasons + sanction_reasons + reward_reasons
    if both_years_bottom and n != 2 and "BOT15_2Y_NOT_USED" not in reasons:
        reasons.append("BOT15_2Y_NOT_USED")  # docs/RULES.md §4: 17.1b needs exactly two sections; say why it is unused
    return rating, sanction, rule, reward, reasons


def test_a_rank_tie_under_reprimand_goes_to_a_human(deployed):  # noqa: F811
    """R3 rests on 'bottom 15% two years running'; a tie across the boundary makes that uncertain."""
    case = rules.validate_case(unit(2, "bot15", "bot15", slow=True, tie=True))
    outcome = rules.outcome_from(engine.run_straight_through(deployed.spec_json, rules.with_shares(case, 0.2, 0.15)))
    assert outcome["sanction"] == "manual_review" and outcome["sanction_rule"] == "R3"
    assert "RANK_TIE" in outcome["reasons"] and "OVERLAP_A_B" in outcome["reasons"]


CLASSES = ("top20", "middle", "bot15", None)
DOMAIN = list(itertools.product(
    range(5), (True, False, None), CLASSES, CLASSES, itertools.product((True, False), repeat=2), (True, False),
    (False, True),
))


def table_rows() -> dict[str, set[int]]:
    """Every rule row of every deployed decision table, by table id (rows count from 1, as the trace does)."""
    rows = {}
    for path in sorted(BPMN_DIR.glob("*.dmn")):
        for table in etree.parse(str(path)).iterfind(".//dmn:decisionTable", DMN_NS):
            rows[table.get("id")] = set(range(1, len(table.findall("dmn:rule", DMN_NS)) + 1))
    return rows


def test_every_input_combination_has_exactly_one_documented_outcome_and_every_row_is_used(deployed):  # noqa: F811
    spec = deployed.spec_json
    used: dict[str, set[int]] = defaultdict(set)
    wrong, failed = [], []
    for combination in DOMAIN:
        n, slow, now, before, (superior, lacks), special, tie = combination
        if tie and (slow is not False or before != "middle" or superior or lacks):
            continue  # a tie feeds only the rating (and through it the reward): n × class × special covers it
        case = rules.validate_case(unit(n, now, before, slow=slow, superior=superior, lacks=lacks, special=special,
                                        tie=tie))
        try:  # UNIQUE overlaps raise inside the engine; a gap leaves an output unset and outcome_from refuses it
            data = engine.run_straight_through(spec, {**case, "top_share": 0.20, "bottom_share": 0.15})
            outcome = rules.outcome_from(data)
        except EngineError as exc:
            failed.append((combination, exc.message))
            continue
        for table, matched in data["decision_trace"].items():
            assert len(matched) == 1, (combination, table, matched)
            used[table].add(matched[0]["row"])
        # every output names the article(s) it rests on, from its own article
        for prefix, article in (("rating", "Điều 15."), ("sanction", "Điều 17."), ("reward", "Điều 16.")):
            assert data[f"{prefix}_articles"] and all(a.startswith(article) for a in data[f"{prefix}_articles"]), (
                combination, prefix, data[f"{prefix}_articles"])
        got = (outcome["rating"], outcome["sanction"], outcome["sanction_rule"], outcome["reward"], outcome["reasons"])
        if got != documented_outcome(n, slow, now, before, superior, lacks, special, tie):
            wrong.append((combination, got))
    assert failed == []
    assert wrong == []
    assert dict(used) == table_rows()
