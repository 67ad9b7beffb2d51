"""The decision tables of Điều 15–17 (bpmn/*.dmn), deployed and run through SpiffWorkflow as the process runs them.

Every case goes through `rules.evaluate`: the deployed `unit_evaluation` process, its five business-rule tasks and
our FEEL decision engine. Expected outcomes come from docs/RULES.md (rank classes, R1–R9, reason codes, A1–A26).
"""
from __future__ import annotations

import hashlib
from typing import Any

import pytest

from workflows import definitions, engine, rules, vocabulary
from workflows.units import load_units

BPMN_DIR = definitions.BPMN_DIR
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

# The words a reviewer reads on the evaluation page (docs/RULES.md, Vocabulary), written out here, not taken from
# rules.py.
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
