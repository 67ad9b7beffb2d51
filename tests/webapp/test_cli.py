"""The command line: rules evaluate, rules settings and set, cycle open, tick, simulate, deploy."""
from __future__ import annotations

import json

from sqlalchemy import select

from webapp.extensions import db
from workflows.models import AuditEvent
from workflows.settings import settings_of_year

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


def test_rules_settings_show_a_years_values_and_set_changes_one_audited(runner, app):
    shown = runner.invoke(args=["rules", "settings", "2026"])
    assert shown.exit_code == 0, shown.output
    assert "top_share = 0.2  (default)" in shown.output and "critical_criteria = null  (default)" in shown.output
    changed = runner.invoke(args=["rules", "set", "2026", "top_share", "0.25"])
    assert changed.exit_code == 0, changed.output
    assert "top_share = 0.25  (default)" not in runner.invoke(args=["rules", "settings", "2026"]).output
    assert "top_share = 0.25\n" in runner.invoke(args=["rules", "settings", "2026"]).output
    assert "top_share = 0.2  (default)" in runner.invoke(args=["rules", "settings", "2027"]).output  # that year only
    with app.app_context():
        assert settings_of_year(db.session, 2026).top_share == 0.25
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "setting_changed")).all()
        assert event.data == {"year": 2026, "key": "top_share", "old": 0.2, "new": 0.25}


def test_rules_set_refuses_a_bad_value_an_unknown_key_and_a_decided_year_naming_them(runner):
    bad = runner.invoke(args=["rules", "set", "2026", "top_share", "2"])
    assert bad.exit_code == 2 and "top_share: Tỷ lệ phải lớn hơn 0 và nhỏ hơn 1." in bad.output
    unknown = runner.invoke(args=["rules", "set", "2026", "top_shares", "0.3"])
    assert unknown.exit_code == 2 and "top_shares: Không có thiết lập này." in unknown.output
    not_json = runner.invoke(args=["rules", "set", "2026", "critical_criteria", "M1.5.1"])
    assert not_json.exit_code == 2 and "VALUE is not JSON" in not_json.output
    assert runner.invoke(args=["simulate", "--year", "2025", "--agencies", "28"]).exit_code == 0
    decided = runner.invoke(args=["rules", "set", "2025", "bottom_share", "0.1"])
    assert decided.exit_code == 2 and "Năm 2025 đã có quyết định" in decided.output
    assert "bottom_share = 0.15  (default)" in runner.invoke(args=["rules", "settings", "2025"]).output
