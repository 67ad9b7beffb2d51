"""A chain of decision tables applied without an engine instance must answer exactly as the engine does.

Proposing outcomes for 2,800 units runs unit_evaluation 2,800 times; `straight_through` applies such a chain of
business rule tasks directly. These tests hold it to the engine's answers, and keep it away from any process that
is more than such a chain.
"""
from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from workflows import engine, rules
from workflows.engine import straight_through
from workflows.errors import EngineError

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture(scope="module")
def unit_evaluation() -> str:
    files = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    return engine.compile_files(files)["unit_evaluation"].spec_json


def through_the_engine(spec_json: str, data: dict[str, Any]) -> dict[str, Any]:
    run = engine.Run.start(spec_json, data)
    run.advance()
    assert run.is_completed
    return dict(run.data)


def cases(count: int) -> list[dict[str, Any]]:
    """Cases across ranks, block sizes, shares, sections and flags; fixed seed, so a failure can be replayed."""
    chance = random.Random(358)
    found = []
    for _ in range(count):
        units = chance.choice([1, 2, 3, 7, 20, 21, 140, 1400])
        prev_units = chance.choice([None, 1, 5, 20, 1400])
        case = {
            "block": chance.choice(["department", "district"]),
            "sections_violated": sorted(chance.sample([1, 2, 3, 4], chance.randint(0, 4))),
            "ict_rank": chance.choice([None, chance.randint(1, units)]),
            "ict_units": units,
            "prev_ict_rank": chance.randint(1, prev_units) if prev_units else None,
            "prev_ict_units": prev_units,
            "slow_conclusions": chance.choice([True, False, None]),
            "superior_requires_review": chance.random() < 0.3,
            "lacks_responsibility": chance.random() < 0.3,
            "special_achievement": chance.random() < 0.2,
            "rank_tie": chance.random() < 0.1,
            "prev_rank_tie": chance.random() < 0.1,
        }
        if case["ict_rank"] is None:
            case["ict_units"] = None
        found.append(rules.with_shares(rules.validate_case(case), chance.choice([0.2, 0.29, 0.1]),
                                       chance.choice([0.15, 0.3])))
    return found


def test_the_deployed_unit_evaluation_is_applied_as_a_plan_of_its_five_tables(unit_evaluation):
    chain = straight_through.plan(unit_evaluation)
    assert [task.bpmn_id for task in chain] == [
        "classify_ict_rank", "classify_prev_ict_rank", "rate_head", "propose_sanction", "propose_reward"]


def test_the_plan_answers_every_case_exactly_as_the_engine_does(unit_evaluation):
    for case in cases(400):
        planned = engine.run_straight_through(unit_evaluation, case)
        assert planned == through_the_engine(unit_evaluation, case), case
        assert planned["decision_trace"].keys() == {"ict_rank_class_table", "prev_ict_rank_class_table",
                                                    "rating_table", "sanction_table", "reward_table"}
        assert planned["top_share"] == case["top_share"] and isinstance(planned["top_share"], Decimal)


def test_applying_the_plan_leaves_the_caller_s_case_as_it_was(unit_evaluation):
    case = cases(1)[0]
    case["decision_trace"] = {"earlier": [{"row": 1, "rule": "kept"}]}
    before = {key: list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value
              for key, value in case.items()}
    data = engine.run_straight_through(unit_evaluation, case)
    assert case == before
    assert data["decision_trace"]["earlier"] == [{"row": 1, "rule": "kept"}]
    assert "rating_table" in data["decision_trace"]


GATEWAY_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="gated" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="classify" camunda:decisionRef="ict_rank_class" camunda:mapDecisionResult="singleResult">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="split" default="f4"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="classify" />
    <bpmn:sequenceFlow id="f2" sourceRef="classify" targetRef="split" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="top">
      <bpmn:conditionExpression>${ict_class == "top20"}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="rest" />
    <bpmn:endEvent id="top"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="rest"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

IO_BPMN = GATEWAY_BPMN.replace('id="gated"', 'id="mapped"').replace(
    '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>',
    '<bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="ict_rank">${1}</camunda:inputParameter>'
    '</camunda:inputOutput></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>')


@pytest.mark.parametrize("process, diagram", [("gated", GATEWAY_BPMN), ("mapped", IO_BPMN)])
def test_a_process_that_is_more_than_a_chain_of_tables_runs_through_the_engine(process, diagram):
    compiled = engine.compile_files({"p.bpmn": diagram.encode(), "ict_rank_class.dmn":
                                     (BPMN_DIR / "ict_rank_class.dmn").read_bytes()})
    spec = compiled[process].spec_json
    assert straight_through.plan(spec) == ()
    data = {"ict_rank": 5, "ict_units": 20, "top_share": Decimal("0.2"), "bottom_share": Decimal("0.15")}
    result = engine.run_straight_through(spec, data)
    assert result == through_the_engine(spec, data)
    # The input parameter shadows the rank inside the task: rank 1 is in the top 20%, rank 5 of 20 is not.
    assert result["ict_class"] == ("top20" if process == "mapped" else "middle")


def test_a_case_the_tables_cannot_answer_fails_with_the_engine_s_own_words(unit_evaluation):
    overlap = (BPMN_DIR / "ict_rank_class.dmn").read_text(encoding="utf-8").replace(
        '<inputEntry id="ict_rank_class_rule_middle_in3">\n          <text>false</text>',
        '<inputEntry id="ict_rank_class_rule_middle_in3">\n          <text>-</text>')
    assert overlap != (BPMN_DIR / "ict_rank_class.dmn").read_text(encoding="utf-8")
    files = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    spec = engine.compile_files({**files, "ict_rank_class.dmn": overlap.encode()})["unit_evaluation"].spec_json
    assert straight_through.plan(spec)
    bottom = rules.with_shares(rules.validate_case({
        "block": "district", "sections_violated": [], "ict_rank": 20, "ict_units": 20, "prev_ict_rank": None,
        "prev_ict_units": None, "slow_conclusions": False, "superior_requires_review": False,
        "lacks_responsibility": False, "special_achievement": False}), 0.2, 0.15)
    with pytest.raises(EngineError) as planned:
        engine.run_straight_through(spec, bottom)
    with pytest.raises(EngineError) as direct:
        engine.Run.start(spec, bottom).advance()
    assert planned.value.message == direct.value.message
    assert "UNIQUE" in planned.value.message and "Phân nhóm xếp hạng ICT Index năm đánh giá" in planned.value.message


def test_every_combination_of_the_flags_agrees_with_the_engine(unit_evaluation):
    for sections, flags in itertools.product(([], [1], [2, 3], [1, 2, 4], [1, 2, 3, 4]),
                                             itertools.product((True, False), repeat=3)):
        case = rules.with_shares(rules.validate_case({
            "block": "district", "sections_violated": sections, "ict_rank": 20, "ict_units": 20,
            "prev_ict_rank": 19, "prev_ict_units": 20, "slow_conclusions": flags[0],
            "superior_requires_review": flags[1], "lacks_responsibility": flags[2], "special_achievement": False}),
            0.2, 0.15)
        assert engine.run_straight_through(unit_evaluation, case) == through_the_engine(unit_evaluation, case)


LIMIT_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="limits" name="limits" namespace="x">
  <decision id="level" name="Mức">
    <decisionTable id="level_table" hitPolicy="FIRST">
      <input id="score_input" label="Điểm"><inputExpression id="score_expr" typeRef="number">
        <text>score</text></inputExpression></input>
      <output id="level_output" name="level" typeRef="string" />
      <output id="notes_output" name="notes" typeRef="string" />
      <rule id="above"><inputEntry id="above_in"><text>{cell}</text></inputEntry>
        <outputEntry id="above_out"><text>"A"</text></outputEntry>
        <outputEntry id="above_notes"><text>["over", "the limit"]</text></outputEntry></rule>
      <rule id="rest"><inputEntry id="rest_in"><text>-</text></inputEntry>
        <outputEntry id="rest_out"><text>"B"</text></outputEntry>
        <outputEntry id="rest_notes"><text>[]</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_cell_that_names_a_variable_is_asked_again_for_every_case():
    table = LIMIT_DMN.replace("{cell}", "&gt;= limit")
    assert engine.evaluate_decision("l.dmn", table, "level", {"score": 60, "limit": 50})[0]["level"] == "A"
    assert engine.evaluate_decision("l.dmn", table, "level", {"score": 60, "limit": 70})[0]["level"] == "B"
    assert engine.evaluate_decision("l.dmn", table, "level", {"score": 60, "limit": 50})[0]["level"] == "A"


def test_a_kept_answer_is_a_copy_the_caller_may_change_and_tells_true_from_one():
    table = LIMIT_DMN.replace("{cell}", "true")
    first, matched = engine.evaluate_decision("k.dmn", table, "level", {"score": True})
    assert first == {"level": "A", "notes": ["over", "the limit"]} and [m.row for m in matched] == [1]
    first["notes"].append("changed by the caller")
    matched[0].outputs["notes"].append("changed too")
    again, matched_again = engine.evaluate_decision("k.dmn", table, "level", {"score": True})
    assert again == {"level": "A", "notes": ["over", "the limit"]}
    assert matched_again[0].outputs["notes"] == ["over", "the limit"]
    # 1 == True in Python, but the cell `true` does not match the number 1
    assert engine.evaluate_decision("k.dmn", table, "level", {"score": 1})[0]["level"] == "B"


def test_a_table_whose_input_reads_the_clock_is_asked_again_at_every_moment():
    table = LIMIT_DMN.replace("<text>score</text>", "<text>date(now()) &gt;= date(start)</text>").replace(
        "{cell}", "true")
    with engine.clock.at(datetime(2026, 1, 2, 9, tzinfo=UTC)):
        assert engine.evaluate_decision("c.dmn", table, "level", {"start": "2026-01-01"})[0]["level"] == "A"
    with engine.clock.at(datetime(2025, 12, 31, 9, tzinfo=UTC)):
        assert engine.evaluate_decision("c.dmn", table, "level", {"start": "2026-01-01"})[0]["level"] == "B"


def test_answers_kept_for_one_case_are_not_given_to_another(unit_evaluation):
    """The rating table reads the classes and sections; a case that differs in any of them gets its own answer."""
    top, bottom = (rules.with_shares(rules.validate_case({
        "block": "district", "sections_violated": [], "ict_rank": rank, "ict_units": 20, "prev_ict_rank": None,
        "prev_ict_units": None, "slow_conclusions": False, "superior_requires_review": False,
        "lacks_responsibility": False, "special_achievement": False}), 0.2, 0.15) for rank in (1, 20))
    for _ in range(2):
        assert engine.run_straight_through(unit_evaluation, top)["rating"] == "excellent"
        assert engine.run_straight_through(unit_evaluation, bottom)["rating"] == "complete"


def test_a_table_whose_variables_never_repeat_answers_right_past_the_kept_answers_limit(unit_evaluation):
    """Each unit's rank is its own: the rank-class table's kept answers fill up and start again (1,024 kept), and
    every answer is still the table's."""
    units = 1400
    for rank in range(1, units + 1):
        case = rules.with_shares(rules.validate_case({
            "block": "district", "sections_violated": [], "ict_rank": rank, "ict_units": units, "prev_ict_rank": None,
            "prev_ict_units": None, "slow_conclusions": False, "superior_requires_review": False,
            "lacks_responsibility": False, "special_achievement": False}), 0.2, 0.15)
        expected = "top20" if rank <= 280 else "bot15" if rank > units - 210 else "middle"
        assert engine.run_straight_through(unit_evaluation, case)["ict_class"] == expected, rank
