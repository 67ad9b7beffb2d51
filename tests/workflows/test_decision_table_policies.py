"""The decision engine on small variants of the tables: hit policies, FEEL cells, bad input.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
from workflows.errors import EngineError, InvalidInput

# --- hit policies and FEEL, on small variants of the tables ------------------------------------------------------

PROBE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="probe_definitions"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="probe" name="Thử bảng quyết định" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_decide</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" name="Áp dụng bảng" camunda:decisionRef="{decision}"
        {mapping}>
      <bpmn:incoming>to_decide</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_decide" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="to_end" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def run_probe(tmp_path: Path, dmn_name: str, dmn: bytes, decision: str, data: dict[str, Any],
              mapping: str | None = "singleResult") -> dict[str, Any]:
    """Compile DMN with a one-task process that calls DECISION, run it on DATA and return the process data."""
    attribute = f'camunda:mapDecisionResult="{mapping}"' if mapping else ""
    (tmp_path / "probe.bpmn").write_text(PROBE_BPMN.replace("{decision}", decision).replace("{mapping}", attribute),
                                         encoding="utf-8")
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


def test_under_collect_without_a_mapping_every_matching_rule_contributes_to_lists(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating", VIOLATION_IN_THE_MIDDLE, None)
    assert data["rating"] == ["incomplete", "incomplete"]
    assert data["rating_reasons"] == [["TOP20_BUT_VIOLATION"], []]
    assert data["rating_articles"] == [["Điều 15.3"], ["Điều 15.3"]]
    assert [m["row"] for m in data["decision_trace"]["rating_table"]] == [6, 7]


def test_under_collect_no_match_is_an_empty_list(tmp_path):
    data = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating",
                     {"sections_violated": [], "ict_class": "unheard_of", "rank_tie": False}, None)
    assert (data["rating"], data["rating_reasons"]) == ([], [])


def test_under_collect_a_single_result_mapping_takes_the_one_hit_as_plain_values(tmp_path):
    # Camunda's singleResult: the one matching rule's outputs, not a one-element list ("unknown outcome ['…']").
    data = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT", overlap=False), "rating",
                     VIOLATION_IN_THE_MIDDLE)
    assert (data["rating"], data["rating_reasons"], data["rating_articles"]) == ("incomplete", [], ["Điều 15.3"])
    empty = run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating",
                      {"sections_violated": [], "ict_class": "unheard_of", "rank_tie": False})
    assert (empty["rating"], empty["rating_reasons"]) == (None, None)


def test_under_collect_a_single_result_mapping_fails_clearly_on_several_hits(tmp_path):
    with pytest.raises(EngineError) as caught:
        run_probe(tmp_path, "rating.dmn", rating_variant("COLLECT"), "rating", VIOLATION_IN_THE_MIDDLE)
    assert "matched 2 rules (6, 7)" in caught.value.message and "Áp dụng bảng" in caught.value.message
    assert "singleResult" in caught.value.message


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
    data = run_probe(tmp_path, "cells.dmn", cells_dmn(), "cells", {"value": value}, None)
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
def test_evaluate_refuses_bad_input_before_running_any_table(session, deployed, case, field):  # noqa: F811
    with pytest.raises(InvalidInput) as caught:
        rules.evaluate(session, case)
    assert field in caught.value.fields


def test_every_problem_of_a_case_is_reported_at_once():
    case = {**without("block"), "ict_rank": "first", "colour": "red"}
    with pytest.raises(InvalidInput) as caught:
        rules.validate_case(case)
    assert set(caught.value.fields) == {"block", "ict_rank", "colour"}


def test_a_valid_case_is_accepted_with_sections_sorted_and_no_tie_by_default(session, deployed):  # noqa: F811
    case = without("rank_tie")
    case["sections_violated"] = [4, 1]
    assert rules.validate_case(case)["sections_violated"] == [1, 4]
    assert rules.validate_case(case)["rank_tie"] is False
    assert case["sections_violated"] == [4, 1]  # the caller's case is left as it was
    assert rules.evaluate(session, case)["sanction_rule"] == "R2"
