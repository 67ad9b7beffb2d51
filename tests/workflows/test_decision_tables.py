"""The decision tables of Điều 15–17 (bpmn/*.dmn), deployed and run through SpiffWorkflow as the process runs them.

Every case goes through `rules.evaluate`: the deployed `unit_evaluation` process, its five business-rule tasks and
our FEEL decision engine. Expected outcomes come from DOMAIN.md §3 (rank classes, R1–R9, reason codes, A1–A26).
"""
from __future__ import annotations

import hashlib
import itertools
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from workflows import definitions, engine, rules, vocabulary
from workflows.errors import EngineError, InvalidInput
from workflows.models import Block
from workflows.units import load_units, units_of_year

BPMN_DIR = definitions.BPMN_DIR
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

# The words a reviewer reads on the evaluation page (DOMAIN.md §7), written out here rather than taken from rules.py.
EXPECTED_RATING = {
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "complete": "Hoàn thành nhiệm vụ",
    "incomplete": "Không hoàn thành nhiệm vụ",
    "manual_review": "Cần xem xét thủ công",
}
EXPECTED_SANCTION = {
    "none": "Không xử lý",
    "criticism": "Phê bình",
    "reprimand": "Khiển trách",
    "warning": "Cảnh cáo",
    "manual_review": "Cần xem xét thủ công",
}
SHOWN = ("rating", "sanction", "sanction_rule", "reward", "reasons", "articles", "rating_vi", "sanction_vi")


# --- setup -------------------------------------------------------------------------------------------------------


def deploy(session) -> Any:
    """Units of Bắc Ninh and every file of bpmn/ deployed into SESSION; returns the unit_evaluation version."""
    load_units(session)
    definitions.deploy_directory(session)
    session.commit()
    return definitions.latest_version(session, rules.EVALUATION_PROCESS)


_compiled: dict[tuple, dict[str, engine.CompiledProcess]] = {}


@pytest.fixture(autouse=True)
def compile_each_file_set_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parsing bpmn/ takes ~0.1 s and most tests here deploy the same files into a fresh database; compile_files is a
    # pure function of the bytes, so reuse its result for identical file sets (the deployment itself still runs).
    real = engine.compile_files

    def compile_files(files):
        key = tuple(sorted((name, hashlib.sha256(content).hexdigest()) for name, content in files.items()))
        if key not in _compiled:
            _compiled[key] = real(files)
        return _compiled[key]

    monkeypatch.setattr(engine, "compile_files", compile_files)


@pytest.fixture
def deployed(session):
    return deploy(session)


# Ranks in a block of 20 that land in each class; None = the unit has no ICT Index rank that year.
UNITS = 20
RANK_OF = {"top20": 2, "middle": 10, "bot15": 19, None: None}
SECTIONS = {0: [], 1: [3], 2: [4, 1], 3: [1, 2, 4], 4: [2, 4, 1, 3]}


def unit(n: int = 0, now: str | None = "middle", before: str | None = "middle", *, slow: bool | None = False,
         superior: bool = False, lacks: bool = False, special: bool = False, tie: bool = False) -> dict[str, Any]:
    """A case with N violated sections, in class NOW this year and BEFORE last year (None: not ranked)."""
    return {
        "block": "department",
        "sections_violated": list(SECTIONS[n]),
        "ict_rank": RANK_OF[now],
        "ict_units": UNITS if now else None,
        "prev_ict_rank": RANK_OF[before],
        "prev_ict_units": UNITS if before else None,
        "slow_conclusions": slow,
        "superior_requires_review": superior,
        "lacks_responsibility": lacks,
        "special_achievement": special,
        "rank_tie": tie,
    }


def shown(rating: str, sanction: str, rule: str, reward: str, reasons: list[str], articles: list[str]) -> dict:
    return {
        "rating": rating, "sanction": sanction, "sanction_rule": rule, "reward": reward, "reasons": reasons,
        "articles": articles, "rating_vi": EXPECTED_RATING[rating], "sanction_vi": EXPECTED_SANCTION[sanction],
    }


def visible(outcome: dict[str, Any]) -> dict[str, Any]:
    return {key: outcome[key] for key in SHOWN}


# --- case by case: every row of every table ----------------------------------------------------------------------

RATING_CASES = [
    pytest.param(unit(0, "top20"),
                 shown("excellent", "none", "-", "eligible", [], ["Điều 15.1", "Điều 17.1", "Điều 16.1"]),
                 id="no violation and top 20% is rated excellent and proposed for a reward"),
    pytest.param(unit(0, "middle"),
                 shown("complete", "none", "-", "none", [], ["Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="no violation in the middle of the ranking is rated complete"),
    pytest.param(unit(0, "bot15"),
                 shown("complete", "none", "-", "none", ["BOT15_BUT_NO_VIOLATION"],
                       ["Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="no violation but bottom 15% is complete and flagged BOT15_BUT_NO_VIOLATION"),
    pytest.param(unit(0, None, None),
                 shown("manual_review", "none", "-", "none", ["NOT_RANKED", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="no violation and no ICT rank goes to manual review as NOT_RANKED"),
    pytest.param(unit(0, None, None, tie=True),
                 shown("manual_review", "none", "-", "none", ["NOT_RANKED", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="an unranked unit is NOT_RANKED even when a tie is flagged"),
    pytest.param(unit(0, "top20", tie=True),
                 shown("manual_review", "none", "-", "none", ["RANK_TIE", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="a tie at the top 20% boundary goes to manual review as RANK_TIE"),
    pytest.param(unit(0, "middle", tie=True),
                 shown("manual_review", "none", "-", "none", ["RANK_TIE", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="a tie in the middle class goes to manual review as RANK_TIE"),
    pytest.param(unit(0, "bot15", tie=True),
                 shown("manual_review", "none", "-", "none", ["RANK_TIE", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="a tie at the bottom 15% boundary goes to manual review as RANK_TIE"),
    pytest.param(unit(1, "top20", slow=True),
                 shown("incomplete", "criticism", "R1", "none", ["TOP20_BUT_VIOLATION"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="a violation in the top 20% is incomplete and flagged TOP20_BUT_VIOLATION"),
    pytest.param(unit(1, "middle", slow=True),
                 shown("incomplete", "criticism", "R1", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="a violation outside the top 20% is plainly incomplete"),
    pytest.param(unit(1, None, None, slow=True),
                 shown("incomplete", "criticism", "R1", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="a violation without an ICT rank is still incomplete"),
    pytest.param(unit(2, "top20", slow=True, tie=True),
                 shown("incomplete", "criticism", "R2", "none", ["TOP20_BUT_VIOLATION"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="with a violation the number of sections decides even when a tie is flagged"),
]


@pytest.mark.parametrize(("case", "expected"), RATING_CASES)
def test_each_rating_row_gives_the_outcome_of_article_15(session, deployed, case, expected):
    assert visible(rules.evaluate(session, case)) == expected


SANCTION_CASES = [
    pytest.param(unit(0, slow=False), shown("complete", "none", "-", "none", [],
                                            ["Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="no violation and no slow implementation is no sanction"),
    pytest.param(unit(0, "bot15", "bot15", slow=None),
                 shown("complete", "none", "-", "none", ["BOT15_BUT_NO_VIOLATION", "BOT15_2Y_NOT_USED"],
                       ["Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="no violation with slow implementation unknown is no sanction"),
    pytest.param(unit(0, slow=True),
                 shown("complete", "manual_review", "R9", "none", ["OR_READING_ONLY"],
                       ["Điều 15.2", "Điều 17.1a", "Điều 16.1"]),
                 id="R9 no violation but slow implementation is manual review OR_READING_ONLY"),
    pytest.param(unit(1, "middle", "bot15", slow=True),
                 shown("incomplete", "criticism", "R1", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R1 one section and slow implementation is criticism"),
    pytest.param(unit(1, "bot15", "middle", slow=True),
                 shown("incomplete", "criticism", "R1", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R1 one section, slow, bottom 15% this year only is criticism"),
    pytest.param(unit(1, "bot15", None, slow=True),
                 shown("incomplete", "criticism", "R1", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R1 one section needs no previous rank"),
    pytest.param(unit(1, "bot15", "bot15", slow=True),
                 shown("incomplete", "criticism", "R1", "none", ["BOT15_2Y_NOT_USED"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R1 one section, slow, bottom 15% two years is criticism flagged BOT15_2Y_NOT_USED"),
    pytest.param(unit(2, "middle", "bot15", slow=True),
                 shown("incomplete", "criticism", "R2", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R2 two sections and slow implementation outside the bottom 15% is criticism"),
    pytest.param(unit(2, "top20", None, slow=True),
                 shown("incomplete", "criticism", "R2", "none", ["TOP20_BUT_VIOLATION"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R2 outside the bottom 15% this year needs no previous rank"),
    pytest.param(unit(2, "bot15", "top20", slow=True),
                 shown("incomplete", "criticism", "R2", "none", [], ["Điều 15.3", "Điều 17.1a", "Điều 16.1"]),
                 id="R2 two sections, slow, bottom 15% this year but not last year is criticism"),
    pytest.param(unit(2, "bot15", "bot15", slow=True),
                 shown("incomplete", "reprimand", "R3", "none", ["OVERLAP_A_B"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 17.1b", "Điều 16.1"]),
                 id="R3 two sections, slow, bottom 15% two years is reprimand flagged OVERLAP_A_B"),
    pytest.param(unit(1, "bot15", "bot15", slow=False),
                 shown("incomplete", "manual_review", "R4", "none", ["KHT_NO_SANCTION_RULE", "BOT15_2Y_NOT_USED"],
                       ["Điều 15.3", "Điều 17.1", "Điều 16.1"]),
                 id="R4 one section without slow implementation is manual review KHT_NO_SANCTION_RULE"),
    pytest.param(unit(2, "top20", slow=False),
                 shown("incomplete", "manual_review", "R4", "none", ["TOP20_BUT_VIOLATION", "KHT_NO_SANCTION_RULE"],
                       ["Điều 15.3", "Điều 17.1", "Điều 16.1"]),
                 id="R4 two sections without slow implementation is manual review KHT_NO_SANCTION_RULE"),
    pytest.param(unit(3, "bot15", "bot15", slow=True),
                 shown("incomplete", "manual_review", "R5", "none", ["GAP_THREE_SECTIONS", "BOT15_2Y_NOT_USED"],
                       ["Điều 15.3", "Điều 17.1b", "Điều 17.1c", "Điều 16.1"]),
                 id="R5 three sections is manual review GAP_THREE_SECTIONS"),
    pytest.param(unit(3, None, None, slow=None),
                 shown("incomplete", "manual_review", "R5", "none", ["GAP_THREE_SECTIONS"],
                       ["Điều 15.3", "Điều 17.1b", "Điều 17.1c", "Điều 16.1"]),
                 id="R5 three sections needs neither ranks nor slow implementation"),
    pytest.param(unit(4, None, None, slow=None, superior=True, lacks=True),
                 shown("incomplete", "warning", "R6", "none", [], ["Điều 15.3", "Điều 17.1c", "Điều 16.1"]),
                 id="R6 four sections, superior requires review and lack of responsibility is warning"),
    pytest.param(unit(4, superior=True, lacks=False),
                 shown("incomplete", "manual_review", "R7", "none", ["N4_NO_SUPERIOR_REQUEST"],
                       ["Điều 15.3", "Điều 17.1c", "Điều 16.1"]),
                 id="R7 four sections with a review request but no finding is manual review"),
    pytest.param(unit(4, superior=False, lacks=True),
                 shown("incomplete", "manual_review", "R7", "none", ["N4_NO_SUPERIOR_REQUEST"],
                       ["Điều 15.3", "Điều 17.1c", "Điều 16.1"]),
                 id="R7 four sections with a finding but no review request is manual review"),
    pytest.param(unit(4, "bot15", "bot15", slow=True),
                 shown("incomplete", "manual_review", "R7", "none", ["N4_NO_SUPERIOR_REQUEST", "BOT15_2Y_NOT_USED"],
                       ["Điều 15.3", "Điều 17.1c", "Điều 16.1"]),
                 id="R7 four sections with neither is manual review N4_NO_SUPERIOR_REQUEST"),
    pytest.param(unit(1, slow=None),
                 shown("incomplete", "manual_review", "R8", "none", ["MISSING_INPUT:slow_conclusions"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 17.1b", "Điều 16.1"]),
                 id="R8 one section with slow implementation unknown is MISSING_INPUT slow_conclusions"),
    pytest.param(unit(2, "bot15", "bot15", slow=None),
                 shown("incomplete", "manual_review", "R8", "none", ["MISSING_INPUT:slow_conclusions"],
                       ["Điều 15.3", "Điều 17.1a", "Điều 17.1b", "Điều 16.1"]),
                 id="R8 two sections with slow implementation unknown is MISSING_INPUT slow_conclusions"),
    pytest.param(unit(2, None, "bot15", slow=True),
                 shown("incomplete", "manual_review", "R8", "none", ["MISSING_INPUT:ict_rank"],
                       ["Điều 15.3", "Điều 17.1b", "Điều 16.1"]),
                 id="R8 two sections, slow, without this year's rank is MISSING_INPUT ict_rank"),
    pytest.param(unit(2, "bot15", None, slow=True),
                 shown("incomplete", "manual_review", "R8", "none", ["MISSING_INPUT:prev_ict_rank"],
                       ["Điều 15.3", "Điều 17.1b", "Điều 16.1"]),
                 id="R8 two sections, slow, bottom 15% without last year's rank is MISSING_INPUT prev_ict_rank"),
]


@pytest.mark.parametrize(("case", "expected"), SANCTION_CASES)
def test_each_sanction_rule_gives_the_outcome_of_article_17(session, deployed, case, expected):
    outcome = rules.evaluate(session, case)
    assert visible(outcome) == expected
    # the reviewer sees which rule fired, in words that start with its code
    [fired] = outcome["decision_trace"]["sanction_table"]
    if expected["sanction_rule"] != "-":
        assert fired["rule"].startswith(expected["sanction_rule"] + " – ")


REWARD_CASES = [
    pytest.param(unit(0, "top20", special=False),
                 shown("excellent", "none", "-", "eligible", [], ["Điều 15.1", "Điều 17.1", "Điều 16.1"]),
                 id="excellent is eligible for a reward"),
    pytest.param(unit(0, "top20", special=True),
                 shown("excellent", "none", "-", "eligible", ["SPECIAL_ACHIEVEMENT"],
                       ["Điều 15.1", "Điều 17.1", "Điều 16.1", "Điều 16.2"]),
                 id="excellent with a special achievement is eligible flagged SPECIAL_ACHIEVEMENT"),
    pytest.param(unit(0, "middle", special=True),
                 shown("complete", "none", "-", "ad_hoc_eligible", [], ["Điều 15.2", "Điều 17.1", "Điều 16.2"]),
                 id="complete with a special achievement is proposed for an ad hoc reward"),
    pytest.param(unit(4, superior=True, lacks=True, special=True),
                 shown("incomplete", "warning", "R6", "ad_hoc_eligible", [], ["Điều 15.3", "Điều 17.1c", "Điều 16.2"]),
                 id="even incomplete with a special achievement is proposed for an ad hoc reward"),
    pytest.param(unit(0, "bot15", special=False),
                 shown("complete", "none", "-", "none", ["BOT15_BUT_NO_VIOLATION"],
                       ["Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="complete without a special achievement gets no reward proposal"),
    pytest.param(unit(1, slow=False),
                 shown("incomplete", "manual_review", "R4", "none", ["KHT_NO_SANCTION_RULE"],
                       ["Điều 15.3", "Điều 17.1", "Điều 16.1"]),
                 id="incomplete without a special achievement gets no reward proposal"),
    pytest.param(unit(0, None, None, special=True),
                 shown("manual_review", "none", "-", "ad_hoc_eligible", ["NOT_RANKED", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.2"]),
                 id="a rating under review with a special achievement is still proposed ad hoc RATING_PENDING_REVIEW"),
    pytest.param(unit(0, "top20", tie=True),
                 shown("manual_review", "none", "-", "none", ["RANK_TIE", "RATING_PENDING_REVIEW"],
                       ["Điều 15.1", "Điều 15.2", "Điều 17.1", "Điều 16.1"]),
                 id="a rating under review waits for the rating RATING_PENDING_REVIEW"),
]


@pytest.mark.parametrize(("case", "expected"), REWARD_CASES)
def test_each_reward_row_gives_the_outcome_of_article_16(session, deployed, case, expected):
    assert visible(rules.evaluate(session, case)) == expected


def test_every_reason_code_the_tables_give_has_vietnamese_wording():
    codes = set()
    for param in [*RATING_CASES, *SANCTION_CASES, *REWARD_CASES]:
        codes.update(param.values[1]["reasons"])
    assert codes - set(vocabulary.REASON_LABELS) == set()
    assert len(codes) == 15  # the 13 codes of the bpmn/README.md table, MISSING_INPUT once for each of its 3 fields


# --- rank classes ------------------------------------------------------------------------------------------------


def classes(units: int, top: int, bottom: int) -> list[str]:
    return ["top20"] * top + ["middle"] * (units - top - bottom) + ["bot15"] * bottom


# (N, size of the top class, size of the bottom class), worked out by hand from DOMAIN.md §3:
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
def test_rank_classes_follow_the_floored_shares_for_both_years(session, deployed, units, top, bottom):
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


def test_the_real_blocks_of_bac_ninh_split_as_domain_md_says(session, deployed):
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


def test_a_unit_alone_in_its_block_is_excellent_and_not_flagged_as_bottom(session, deployed):
    case = {**unit(0), "ict_rank": 1, "ict_units": 1, "prev_ict_rank": 1, "prev_ict_units": 1}
    outcome = rules.evaluate(session, case)
    assert (outcome["rating"], outcome["reward"], outcome["reasons"]) == ("excellent", "eligible", [])
    assert (outcome["ict_class"], outcome["prev_ict_class"]) == ("top20", "top20")


def test_a_rank_without_last_years_ranking_is_not_ranked_for_last_year(session, deployed):
    outcome = rules.evaluate(session, unit(0, "bot15", None))
    assert (outcome["ict_class"], outcome["prev_ict_class"]) == ("bot15", "not_ranked")


def test_the_configured_shares_move_the_class_boundaries(session, deployed):
    def class_of(rank: int, **shares: float) -> str:
        return rules.evaluate(session, {**unit(0), "ict_rank": rank, "ict_units": 10}, **shares)["ict_class"]

    assert [class_of(r) for r in (2, 3, 9, 10)] == ["top20", "middle", "middle", "bot15"]
    assert [class_of(r, top_share=0.30, bottom_share=0.20) for r in (3, 4, 8, 9)] == [
        "top20", "middle", "middle", "bot15"]


# --- exhaustive: the whole input domain of the tables ------------------------------------------------------------


def documented_outcome(n: int, slow: bool | None, now: str | None, before: str | None, superior: bool,
                       lacks: bool, special: bool, tie: bool) -> tuple:
    """(rating, sanction, sanction_rule, reward, reasons) as DOMAIN.md §3 states them; None = not ranked."""
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
        reasons.append("BOT15_2Y_NOT_USED")  # DOMAIN.md §3: 17.1b needs exactly two sections; say why it is unused
    return rating, sanction, rule, reward, reasons


def test_a_rank_tie_under_reprimand_goes_to_a_human(deployed):
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


def test_every_input_combination_has_exactly_one_documented_outcome_and_every_row_is_used(deployed):
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


# --- hit policies and FEEL, on small variants of the tables ------------------------------------------------------

PROBE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="probe_definitions"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="probe" name="Thử bảng quyết định" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_decide</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" name="Áp dụng bảng" camunda:decisionRef="{decision}"
        camunda:mapDecisionResult="singleResult">
      <bpmn:incoming>to_decide</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_decide" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="to_end" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def run_probe(tmp_path: Path, dmn_name: str, dmn: bytes, decision: str, data: dict[str, Any]) -> dict[str, Any]:
    """Compile DMN with a one-task process that calls DECISION, run it on DATA and return the process data."""
    (tmp_path / "probe.bpmn").write_text(PROBE_BPMN.replace("{decision}", decision), encoding="utf-8")
    (tmp_path / dmn_name).write_bytes(dmn)
    compiled = engine.compile_files({p.name: p.read_bytes() for p in (tmp_path / "probe.bpmn", tmp_path / dmn_name)})
    return engine.run_straight_through(compiled["probe"].spec_json, data)


def rating_variant(hit_policy: str, overlap: bool = True, plain_first: bool = False) -> bytes:
    """rating.dmn with HIT_POLICY; OVERLAP widens the TOP20_BUT_VIOLATION row (6) to also cover "middle"."""
    root = etree.parse(str(BPMN_DIR / "rating.dmn")).getroot()
    table = root.find(".//dmn:decisionTable", DMN_NS)
    table.set("hitPolicy", hit_policy)
    if overlap:
        cell = table.find(".//dmn:inputEntry[@id='rating_rule_incomplete_top20_in2']/dmn:text", DMN_NS)
        cell.text = '"top20","middle"'
    if plain_first:
        top20_row = table.find("dmn:rule[@id='rating_rule_incomplete_top20']", DMN_NS)
        table.remove(top20_row)
        table.append(top20_row)  # now after the plain "incomplete" row
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


VIOLATION_IN_THE_MIDDLE = {"sections_violated": [2], "ict_class": "middle", "rank_tie": False}


def test_overlapping_rules_under_unique_are_refused_naming_both_rows(tmp_path):
    with pytest.raises(EngineError) as caught:
        run_probe(tmp_path, "rating.dmn", rating_variant("UNIQUE"), "rating", VIOLATION_IN_THE_MIDDLE)
    assert "hit policy UNIQUE but rules 6, 7 all match" in caught.value.message
    assert "rating_table" in caught.value.message


def test_the_deployed_unique_table_gives_one_answer_for_the_same_input(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("UNIQUE", overlap=False), "rating",
                     VIOLATION_IN_THE_MIDDLE)
    assert (data["rating"], data["rating_reasons"], data["rating_articles"]) == ("incomplete", [], ["Điều 15.3"])


def test_under_first_the_first_matching_rule_wins(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("FIRST"), "rating", VIOLATION_IN_THE_MIDDLE)
    assert (data["rating"], data["rating_reasons"]) == ("incomplete", ["TOP20_BUT_VIOLATION"])
    assert [m["row"] for m in data["decision_trace"]["rating_table"]] == [6]


def test_under_first_rule_order_not_specificity_decides(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("FIRST", plain_first=True), "rating",
                     VIOLATION_IN_THE_MIDDLE)
    assert (data["rating"], data["rating_reasons"]) == ("incomplete", [])
    assert [m["row"] for m in data["decision_trace"]["rating_table"]] == [6]


def test_under_collect_every_matching_rule_contributes_to_lists(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating", VIOLATION_IN_THE_MIDDLE)
    assert data["rating"] == ["incomplete", "incomplete"]
    assert data["rating_reasons"] == [["TOP20_BUT_VIOLATION"], []]
    assert data["rating_articles"] == [["Điều 15.3"], ["Điều 15.3"]]
    assert [m["row"] for m in data["decision_trace"]["rating_table"]] == [6, 7]


def test_under_collect_no_match_is_an_empty_list(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating",
                     {"sections_violated": [], "ict_class": "unheard_of", "rank_tie": False})
    assert (data["rating"], data["rating_reasons"]) == ([], [])


def test_under_any_matching_rules_must_agree(tmp_path):
    with pytest.raises(EngineError) as caught:
        run_probe(tmp_path, "rating.dmn", rating_variant("ANY"), "rating", VIOLATION_IN_THE_MIDDLE)
    assert "hit policy ANY but rules 6, 7 disagree" in caught.value.message


def test_a_gap_in_a_deployed_table_is_refused_rather_than_shown_blank(tmp_path):
    files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    root = etree.fromstring(files["sanction.dmn"])
    table = root.find(".//dmn:decisionTable", DMN_NS)
    table.remove(table.find("dmn:rule[@id='sanction_rule_r3']", DMN_NS))
    files["sanction.dmn"] = etree.tostring(root)
    spec = engine.compile_files(files)[rules.EVALUATION_PROCESS].spec_json
    case = rules.validate_case(unit(2, "bot15", "bot15", slow=True))
    data = engine.run_straight_through(spec, {**case, "top_share": 0.20, "bottom_share": 0.15})
    assert data["sanction"] is None and data["decision_trace"]["sanction_table"] == []
    with pytest.raises(EngineError, match="unknown outcome"):
        rules.outcome_from(data)


CELLS = {
    "one_of_a_b": '"A","B"',
    "not_a": 'not("A")',
    "closed_1_5": "[1..5]",
    "open_1_5": "]1..5[",
    "at_least_10": ">= 10",
    "dash": "-",
    "empty": "",
    "null": "null",
}


def cells_dmn() -> bytes:
    rules_xml = "".join(
        f'<rule id="cell_{label}"><description>{label}</description>'
        f'<inputEntry id="cell_{label}_in"><text>{etree_escape(text)}</text></inputEntry>'
        f'<outputEntry id="cell_{label}_out"><text>"{label}"</text></outputEntry></rule>'
        for label, text in CELLS.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="cells_definitions" name="Cells"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="cells" name="Cells">
    <decisionTable id="cells_table" hitPolicy="COLLECT">
      <input id="cells_input" label="Value">
        <inputExpression id="cells_input_expression"><text>value</text></inputExpression>
      </input>
      <output id="cells_output" label="Matched" name="matched" typeRef="string" />
      {rules_xml}
    </decisionTable>
  </decision>
</definitions>""".encode()


def etree_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ALWAYS = ["dash", "empty"]


@pytest.mark.parametrize(("value", "matched"), [
    pytest.param("A", ["one_of_a_b", *ALWAYS], id='"A" is one of "A","B" and not not("A")'),
    pytest.param("B", ["one_of_a_b", "not_a", *ALWAYS], id='"B" is one of "A","B" and not("A")'),
    pytest.param("C", ["not_a", *ALWAYS], id='"C" only passes not("A")'),
    pytest.param(0, ["not_a", *ALWAYS], id="0 is outside [1..5]"),
    pytest.param(1, ["not_a", "closed_1_5", *ALWAYS], id="1 is in [1..5] but not in ]1..5["),
    pytest.param(3, ["not_a", "closed_1_5", "open_1_5", *ALWAYS], id="3 is in both intervals"),
    pytest.param(4.5, ["not_a", "closed_1_5", "open_1_5", *ALWAYS], id="4.5 is in both intervals"),
    pytest.param(5, ["not_a", "closed_1_5", *ALWAYS], id="5 is in [1..5] but not in ]1..5["),
    pytest.param(9.99, ["not_a", *ALWAYS], id="9.99 is below 10"),
    pytest.param(10, ["not_a", "at_least_10", *ALWAYS], id="10 passes >= 10"),
    pytest.param(250, ["not_a", "at_least_10", *ALWAYS], id="250 passes >= 10"),
    pytest.param("10", ["not_a", *ALWAYS], id="text 10 is not compared with numbers"),
    pytest.param(True, ["not_a", *ALWAYS], id="true is not a number"),
    pytest.param(None, ["not_a", *ALWAYS, "null"], id="null passes only not(), -, empty and null"),
])
def test_feel_cells_match_as_feel_defines_them(tmp_path, value, matched):
    data = run_probe(tmp_path, "cells.dmn", cells_dmn(), "cells", {"value": value})
    assert data["matched"] == matched


def test_every_deployed_table_is_unique_and_every_rule_says_which_rule_of_the_regulation_it_is():
    for path in sorted(BPMN_DIR.glob("*.dmn")):
        root = etree.parse(str(path)).getroot()
        [table] = root.findall(".//dmn:decisionTable", DMN_NS)
        assert table.get("hitPolicy") == "UNIQUE", path.name
        for rule in table.iterfind("dmn:rule", DMN_NS):
            description = rule.findtext("dmn:description", default="", namespaces=DMN_NS)
            assert re.match(r"(Điều 1[5-7]|R[1-9]|A\d{1,2})\b[^–]* – \S", description), (path.name, rule.get("id"))


# --- bad input ---------------------------------------------------------------------------------------------------


def with_(**changes: Any) -> dict[str, Any]:
    return {**unit(1, slow=True), **changes}


def without(field: str) -> dict[str, Any]:
    case = unit(1, slow=True)
    del case[field]
    return case


BAD_CASES = [
    pytest.param(with_(sections_violated=[5]), "sections_violated", id="section 5 does not exist"),
    pytest.param(with_(sections_violated=[0, 1]), "sections_violated", id="section 0 does not exist"),
    pytest.param(with_(sections_violated=[2, 3, 2]), "sections_violated", id="a section listed twice"),
    pytest.param(with_(sections_violated=["1"]), "sections_violated", id="a section written as text"),
    pytest.param(with_(sections_violated=[True]), "sections_violated", id="a section written as a bool"),
    pytest.param(with_(sections_violated=2), "sections_violated", id="sections not given as a list"),
    pytest.param(with_(ict_rank=0), "ict_rank", id="rank 0"),
    pytest.param(with_(ict_rank=21), "ict_rank", id="rank above the number of units"),
    pytest.param(with_(prev_ict_rank=-1), "prev_ict_rank", id="negative previous rank"),
    pytest.param(with_(prev_ict_rank=9, prev_ict_units=8), "prev_ict_rank", id="previous rank above its units"),
    pytest.param(with_(ict_units=None), "ict_units", id="rank without units"),
    pytest.param(with_(prev_ict_rank=None), "prev_ict_rank", id="units without a rank"),
    pytest.param(with_(ict_rank=1, ict_units=0), "ict_units", id="a block of no units"),
    pytest.param(with_(ict_rank="3"), "ict_rank", id="a string where a rank is expected"),
    pytest.param(with_(ict_rank=3.0), "ict_rank", id="a float where a rank is expected"),
    pytest.param(with_(ict_units=True), "ict_units", id="a bool where a number of units is expected"),
    pytest.param(with_(slow_conclusions="yes"), "slow_conclusions", id="a string where a bool is expected"),
    pytest.param(with_(special_achievement=1), "special_achievement", id="a number where a bool is expected"),
    pytest.param(with_(superior_requires_review=None), "superior_requires_review",
                 id="null for a bool that cannot be unknown"),
    pytest.param(with_(rank_tie="no"), "rank_tie", id="rank_tie not a bool"),
    pytest.param(with_(block="province"), "block", id="an unknown block"),
    pytest.param(with_(ict_index=12), "ict_index", id="an unknown field"),
    pytest.param(without("lacks_responsibility"), "lacks_responsibility", id="a missing field"),
    pytest.param(without("sections_violated"), "sections_violated", id="sections missing"),
    pytest.param(["not", "an", "object"], "", id="a list instead of an object"),
    pytest.param("sections_violated=1", "", id="a string instead of an object"),
    pytest.param(None, "", id="null instead of an object"),
]


@pytest.mark.parametrize(("case", "field"), BAD_CASES)
def test_bad_input_is_refused_naming_the_field(case, field):
    with pytest.raises(InvalidInput) as caught:
        rules.validate_case(case)
    assert field in caught.value.fields
    assert caught.value.fields[field]
    if field:
        assert field in caught.value.message


@pytest.mark.parametrize(("case", "field"), [
    pytest.param(with_(sections_violated=[5]), "sections_violated", id="section 5"),
    pytest.param(with_(ict_rank=True), "ict_rank", id="a bool rank"),
    pytest.param(without("block"), "block", id="a missing block"),
    pytest.param(42, "", id="a number instead of an object"),
])
def test_evaluate_refuses_bad_input_before_running_any_table(session, deployed, case, field):
    with pytest.raises(InvalidInput) as caught:
        rules.evaluate(session, case)
    assert field in caught.value.fields


def test_every_problem_of_a_case_is_reported_at_once():
    case = {**without("block"), "ict_rank": "first", "colour": "red"}
    with pytest.raises(InvalidInput) as caught:
        rules.validate_case(case)
    assert set(caught.value.fields) == {"block", "ict_rank", "colour"}


def test_a_valid_case_is_accepted_with_sections_sorted_and_no_tie_by_default(session, deployed):
    case = without("rank_tie")
    case["sections_violated"] = [4, 1]
    assert rules.validate_case(case)["sections_violated"] == [1, 4]
    assert rules.validate_case(case)["rank_tie"] is False
    assert case["sections_violated"] == [4, 1]  # the caller's case is left as it was
    assert rules.evaluate(session, case)["sanction_rule"] == "R2"
