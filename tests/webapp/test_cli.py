"""The command line: rules evaluate, cycle open, tick, simulate, deploy."""
from __future__ import annotations

import json

CASE = {
    "block": "department", "sections_violated": [2, 4], "ict_rank": 18, "ict_units": 20,
    "prev_ict_rank": 19, "prev_ict_units": 20, "slow_conclusions": True,
    "superior_requires_review": False, "lacks_responsibility": False, "special_achievement": False,
}


def test_rules_evaluate_prints_the_proposal_with_articles(runner):
    result = runner.invoke(args=["rules", "evaluate"], input=json.dumps(CASE))
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome == {
        "rating": "incomplete", "sanction": "reprimand", "reward": "none",
        "reasons": ["OVERLAP_A_B"], "articles": ["Điều 15.3", "Điều 17.1a", "Điều 17.1b", "Điều 16.1"],
        "rating_vi": "Không hoàn thành nhiệm vụ", "sanction_vi": "Khiển trách",
    }


def test_rules_evaluate_rejects_a_fifth_section_naming_the_field(runner):
    result = runner.invoke(args=["rules", "evaluate"], input=json.dumps({**CASE, "sections_violated": [5]}))
    assert result.exit_code != 0
    assert "sections_violated" in result.output


def test_rules_evaluate_rejects_a_rank_larger_than_the_block(runner):
    result = runner.invoke(args=["rules", "evaluate"], input=json.dumps({**CASE, "ict_rank": 21}))
    assert result.exit_code != 0
    assert "ict_rank" in result.output


def test_rules_evaluate_rejects_a_missing_field(runner):
    case = dict(CASE)
    del case["slow_conclusions"]
    result = runner.invoke(args=["rules", "evaluate"], input=json.dumps(case))
    assert result.exit_code != 0
    assert "slow_conclusions" in result.output and "missing" in result.output


def test_rules_evaluate_rejects_input_that_is_not_json(runner):
    result = runner.invoke(args=["rules", "evaluate"], input="{block: department")
    assert result.exit_code != 0
    assert "not JSON" in result.output


def test_deploy_twice_keeps_unchanged_versions(runner):
    result = runner.invoke(args=["deploy"])
    assert result.exit_code == 0, result.output
    assert "agency_report: version 1 (unchanged)" in result.output


def test_simulate_prints_each_units_outcome(runner):
    result = runner.invoke(args=["simulate", "--year", "2025", "--agencies", "28"])
    assert result.exit_code == 0, result.output
    assert "SKHDT" in result.output and "Khiển trách" in result.output
    assert "Cảnh cáo" in result.output and "Điều 17.1c" in result.output
    assert "Hoàn thành xuất sắc nhiệm vụ" in result.output
