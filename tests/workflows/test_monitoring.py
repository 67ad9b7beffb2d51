"""Watching processes run (workflows.monitoring) and reading and testing their decision tables (workflows.dmn_tables).

The small cycle: 2025 open for STC and TTT with the report due 15/12/2025; STC's report drafted and approved on
10/11/2025 (DIC's review is due 17/11/2025); TTT still drafting.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from factories import at, open_small_cycle, submit_report
from lxml import etree
from sqlalchemy import select

from workflows import cycles, definitions, dmn_tables, monitoring, rules
from workflows.errors import NotAllowed, NotFound
from workflows.models import AuditEvent, Cycle, ProcessInstance

BEFORE_ANY_DEADLINE = date(2025, 11, 14)
REVIEW_LATE = date(2025, 11, 20)  # STC's review was due 17/11
ALL_LATE = date(2025, 12, 20)  # and TTT's draft 15/12
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


@pytest.fixture
def cycle(session):
    people = open_small_cycle(session, ["STC", "TTT"])
    submit_report(session, people, "STC")
    return people


def report_version(session):
    return definitions.latest_version(session, "agency_report")


def instance_of(session, code: str) -> int:
    return session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == code))


def as_numbers(counts) -> dict[str, tuple[int, int, int]]:
    return {c.step_id: (c.open, c.late, c.completed) for c in counts}


# --- counts per step ------------------------------------------------------------------------------------------------


def test_counts_per_step_give_open_late_and_completed_tasks_of_a_version(session, cycle):
    version = report_version(session)
    counts = monitoring.step_counts(session, BEFORE_ANY_DEADLINE, version_id=version.id)
    # (open, late, completed): TTT drafts; STC drafted, was approved, waits for DIC.
    assert as_numbers(counts) == {"draft_report": (1, 0, 1), "approve_report": (0, 0, 1), "review_report": (1, 0, 0)}
    assert {c.process_key for c in counts} == {"agency_report"}
    assert as_numbers(monitoring.step_counts(session, REVIEW_LATE, version_id=version.id))["review_report"] == (1, 1, 0)
    late = as_numbers(monitoring.step_counts(session, ALL_LATE, version_id=version.id))
    assert (late["draft_report"], late["review_report"]) == ((1, 1, 1), (1, 1, 0))


def test_counts_per_cycle_year_leave_out_other_years_and_versions(session, cycle):
    v1 = report_version(session)
    # A v2 with a renamed step, then 2026 on it for STC alone: 2025 stays on v1 (instances keep their version).
    text = v1.files["agency_report.bpmn"].replace('name="Lập báo cáo và tự đánh giá"', 'name="Lập báo cáo năm"')
    definitions.deploy_files(session, {"agency_report.bpmn": text.encode()})
    session.commit()
    v2 = report_version(session)
    assert v2.version == 2
    cycles.open_cycle(session, 2026, date(2026, 12, 15), cycle["dic_leader"], now=at(date(2026, 11, 2)),
                      unit_codes=["STC"])

    assert as_numbers(monitoring.step_counts(session, BEFORE_ANY_DEADLINE, year=2025)) == {
        "draft_report": (1, 0, 1), "approve_report": (0, 0, 1), "review_report": (1, 0, 0)}
    assert as_numbers(monitoring.step_counts(session, BEFORE_ANY_DEADLINE, year=2026)) == {"draft_report": (1, 0, 0)}
    assert as_numbers(monitoring.step_counts(session, BEFORE_ANY_DEADLINE, version_id=v1.id, year=2026)) == {}
    assert monitoring.years_of_version(session, v1.id) == [2025]
    assert monitoring.years_of_version(session, v2.id) == [2026]

    overview = monitoring.version_overview(session, "agency_report", 2, BEFORE_ANY_DEADLINE)
    assert overview.year == 2026 and overview.diagram_file == "agency_report.bpmn"
    assert [(s.step_id, s.step_name, s.open) for s in overview.steps] == [
        ("draft_report", "Lập báo cáo năm", 1), ("approve_report", "Phê duyệt báo cáo", 0),
        ("review_report", "Thẩm định, tiếp nhận báo cáo", 0)]
    assert overview.marks == {"draft_report": "current"}
    assert overview.counts == {"draft_report": {"open": 1, "late": 0}}


def test_the_version_overview_marks_late_over_current_over_completed(session, cycle):
    overview = monitoring.version_overview(session, "agency_report", 1, REVIEW_LATE)
    assert overview.year == 2025 and overview.years == (2025,)
    assert overview.marks == {"draft_report": "current", "approve_report": "completed", "review_report": "late"}
    assert overview.counts == {"draft_report": {"open": 1, "late": 0}, "review_report": {"open": 1, "late": 1}}
    every_year = monitoring.version_overview(session, "agency_report", 1, REVIEW_LATE, all_years=True)
    assert every_year.year is None and every_year.steps == overview.steps


def test_a_version_without_instances_lists_its_steps_with_nothing_counted(session):
    open_small_cycle(session, ["STC"])
    overview = monitoring.version_overview(session, "annual_cycle", 1, BEFORE_ANY_DEADLINE)
    assert [s.step_id for s in overview.steps] == ["consolidate", "evaluate", "review_dic_self_evaluation",
                                                    "home_affairs_proposal", "committee_decision"]
    assert all((s.open, s.late, s.completed) == (0, 0, 0) for s in overview.steps)
    assert overview.marks == {} and overview.tables == ()


def test_an_unknown_process_or_version_is_not_found(session, cycle):
    with pytest.raises(NotFound):
        monitoring.version_overview(session, "agency_report", 9, BEFORE_ANY_DEADLINE)
    with pytest.raises(NotFound):
        monitoring.version_overview(session, "no_such_process", 1, BEFORE_ANY_DEADLINE)
    with pytest.raises(NotFound):
        monitoring.version_file(report_version(session), "../config.py")


def test_the_process_list_shows_each_process_with_its_versions_and_instances(session, cycle):
    rows = {p.key: p for p in monitoring.processes(session)}
    assert set(rows) == {"agency_report", "annual_cycle", "unit_evaluation"}
    (report_v1,) = rows["agency_report"].versions
    assert (report_v1.version, report_v1.is_current, report_v1.instances, report_v1.running) == (1, True, 2, 2)
    assert rows["unit_evaluation"].versions[0].instances == 0


# --- one instance ---------------------------------------------------------------------------------------------------


def test_an_instance_shows_its_completed_current_and_late_steps(session, cycle):
    stc = instance_of(session, "STC")
    steps = monitoring.instance_steps(session, stc, cycle["dic"], BEFORE_ANY_DEADLINE)
    assert steps.completed == {"draft_report", "approve_report"}
    assert steps.current == {"review_report"} and steps.late == set()
    assert steps.marks == {"draft_report": "completed", "approve_report": "completed", "review_report": "current"}
    assert [t.step_id for t in steps.done_tasks] == ["draft_report", "approve_report"]
    late = monitoring.instance_steps(session, stc, cycle["dic"], REVIEW_LATE)
    assert late.late == {"review_report"} and late.marks["review_report"] == "late"
    assert late.counts == {"review_report": {"open": 1, "late": 1}}
    assert late.late_task_ids == {late.open_tasks[0].id}


def test_a_step_done_and_waiting_again_is_marked_current(session, cycle):
    ttt = instance_of(session, "TTT")
    steps = monitoring.instance_steps(session, ttt, cycle["dic"], ALL_LATE)
    assert (steps.completed, steps.current, steps.late) == (set(), {"draft_report"}, {"draft_report"})
    assert monitoring.marks({"a", "b", "c"}, {"b", "c"}, {"c"}) == {"a": "completed", "b": "current", "c": "late"}


def test_the_steps_the_system_ran_come_from_the_audit_log(session, cycle):
    cycle_instance = session.scalar(select(Cycle.instance_id).where(Cycle.year == 2025))
    steps = monitoring.instance_steps(session, cycle_instance, cycle["dic"], BEFORE_ANY_DEADLINE)
    ran = set(session.scalars(select(AuditEvent.step_id).where(AuditEvent.instance_id == cycle_instance,
                                                               AuditEvent.kind == "external_task")))
    assert ran == {"start_agency_reports"} and steps.completed == ran
    assert steps.current == set() and steps.diagram_file == "annual_cycle.bpmn"


def test_only_central_roles_and_the_instances_own_agency_see_its_steps(session, cycle):
    stc = instance_of(session, "STC")
    for username in ("stc_officer", "stc_head", "home_affairs", "committee", "supervisor", "dic_leader"):
        assert monitoring.instance_steps(session, stc, cycle[username], BEFORE_ANY_DEADLINE).instance.id == stc
    with pytest.raises(NotAllowed):
        monitoring.instance_steps(session, stc, cycle["ttt_officer"], BEFORE_ANY_DEADLINE)
    with pytest.raises(NotFound):
        monitoring.instance_steps(session, 999_999, cycle["dic"], BEFORE_ANY_DEADLINE)


# --- decision tables as data ----------------------------------------------------------------------------------------


@pytest.fixture
def rules_version(session):
    open_small_cycle(session, ["STC"])
    return definitions.latest_version(session, "unit_evaluation")


def test_a_versions_decision_tables_are_read_as_deployed(rules_version):
    tables = {t.decision_id: t for t in dmn_tables.decision_tables(rules_version)}
    assert set(tables) == {"ict_rank_class", "prev_ict_rank_class", "rating", "reward", "sanction"}
    sanction = tables["sanction"]
    assert (sanction.file, sanction.table_id, sanction.hit_policy) == ("sanction.dmn", "sanction_table", "UNIQUE")
    assert [c.expression for c in sanction.inputs] == [
        "count(sections_violated)", "slow_conclusions", "ict_class", "prev_ict_class",
        "superior_requires_review and lacks_responsibility"]
    assert [c.type_ref for c in sanction.inputs] == ["integer", "boolean", "string", "string", "boolean"]
    assert [c.expression for c in sanction.outputs] == ["sanction", "sanction_rule", "sanction_reasons",
                                                         "sanction_articles"]
    r3 = next(r for r in sanction.rules if r.id == "sanction_rule_r3")
    assert r3.row == 10 and r3.description.startswith("R3 – Điều 17.1a và 17.1b chồng lấn")
    assert [c.text for c in r3.inputs] == ["2", "true", '"bot15"', '"bot15"', "-"]
    assert [c.description for c in r3.inputs] == ["= 2", "= true", '= "bot15"', '= "bot15"', "any value"]
    assert r3.outputs == ('"reprimand"', '"R3"', '["OVERLAP_A_B"]', '["Điều 17.1a", "Điều 17.1b"]')
    assert "UBND tỉnh quyết định" in sanction.description


@pytest.mark.parametrize(("cell", "english", "vietnamese"), [
    ("-", "any value", "bất kỳ giá trị nào"),
    ("", "any value", "bất kỳ giá trị nào"),
    ("2", "= 2", "bằng 2"),
    ("true", "= true", "đúng (true)"),
    ("null", "is null", "không có giá trị (null)"),
    ('"A","B"', 'one of "A", "B"', 'là một trong: "A", "B"'),
    ("false,null", "one of false, null", "là một trong: false, null"),
    ('not("bot15")', 'not (= "bot15")', 'không phải (bằng "bot15")'),
    (">= 10", ">= 10", "lớn hơn hoặc bằng 10"),
    ("< 3", "< 3", "nhỏ hơn 3"),
    ("[1..2]", "in [1..2]", "từ 1 đến 2"),
    ("]1..5[", "in ]1..5[", "lớn hơn 1 và nhỏ hơn 5"),
    ("[1..5[", "in [1..5[", "lớn hơn hoặc bằng 1 và nhỏ hơn 5"),
    ('< 0, > 100', "< 0 or > 100", "nhỏ hơn 0 hoặc lớn hơn 100"),
])
def test_each_cell_is_described_in_words(cell, english, vietnamese):
    (described,) = dmn_tables._tables_of("t.dmn", _table_with_cell(cell))[0].rules[0].inputs
    assert (described.description, described.words, described.error) == (english, vietnamese, None)


def _table_with_cell(cell: str) -> str:
    return f"""<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" namespace="x">
      <decision id="t" name="T"><decisionTable id="t_table">
        <input id="i" label="X"><inputExpression id="ie" typeRef="integer"><text>x</text></inputExpression></input>
        <output id="o" name="y" typeRef="string" />
        <rule id="r"><inputEntry id="c"><text>{escape(cell)}</text></inputEntry>
          <outputEntry id="oe"><text>"ok"</text></outputEntry></rule>
      </decisionTable></decision></definitions>"""


def test_each_variable_of_the_test_form_is_typed_from_the_table(rules_version):
    sanction = dmn_tables.decision_table(rules_version, "sanction")
    kinds = {v.name: v.kind for v in dmn_tables.variables(sanction)}
    assert kinds == {"sections_violated": "list", "slow_conclusions": "boolean", "ict_class": "string",
                     "prev_ict_class": "string", "superior_requires_review": "boolean",
                     "lacks_responsibility": "boolean"}
    ict_class = next(v for v in dmn_tables.variables(sanction) if v.name == "ict_class")
    assert ict_class.label == "Nhóm xếp hạng ICT Index năm đánh giá"
    assert set(ict_class.suggestions) == {"top20", "middle", "bot15", "not_ranked"}
    ranks = {v.name: v.kind for v in dmn_tables.variables(dmn_tables.decision_table(rules_version, "ict_rank_class"))}
    assert ranks == {"ict_rank": "number", "ict_units": "number", "top_share": "number", "bottom_share": "number"}
    with pytest.raises(NotFound):
        dmn_tables.decision_table(rules_version, "no_such_decision")


# --- testing one table ----------------------------------------------------------------------------------------------

R3_CASE = {"block": "department", "sections_violated": [4, 1], "ict_rank": 19, "ict_units": 20, "prev_ict_rank": 19,
           "prev_ict_units": 20, "slow_conclusions": True, "superior_requires_review": False,
           "lacks_responsibility": False, "special_achievement": False}


def test_testing_the_tables_gives_what_the_rules_give_for_an_r3_case_and_names_the_rule(session, rules_version):
    outcome = rules.evaluate(session, R3_CASE)
    assert (outcome["sanction"], outcome["sanction_rule"]) == ("reprimand", "R3")
    shares = {"top_share": Decimal("0.20"), "bottom_share": Decimal("0.15")}
    now = monitoring.test_decision(session, rules_version.id, "ict_rank_class",
                                   {"ict_rank": 19, "ict_units": 20, **shares})
    before = monitoring.test_decision(session, rules_version.id, "prev_ict_rank_class",
                                      {"prev_ict_rank": 19, "prev_ict_units": 20, **shares})
    assert (now.outputs, before.outputs) == ({"ict_class": "bot15"}, {"prev_ict_class": "bot15"})

    result = monitoring.test_decision(session, rules_version.id, "sanction", {
        "sections_violated": [4, 1], "slow_conclusions": True, "ict_class": now.outputs["ict_class"],
        "prev_ict_class": before.outputs["prev_ict_class"], "superior_requires_review": False,
        "lacks_responsibility": False})
    assert result.error is None
    assert result.outputs == {"sanction": outcome["sanction"], "sanction_rule": outcome["sanction_rule"],
                              "sanction_reasons": ["OVERLAP_A_B"], "sanction_articles": ["Điều 17.1a", "Điều 17.1b"]}
    (applied,) = result.applied
    assert applied.rule.id == "sanction_rule_r3" and applied.rule.description.startswith("R3 –")
    assert [applied.rule.row] == [m["row"] for m in outcome["decision_trace"]["sanction_table"]]
    # Why: every cell of R3 matched, with the value it was given.
    assert [(c.value, c.test.words, c.matched) for c in applied.cells] == [
        ("2", "bằng 2", True), ("true", "đúng (true)", True), ('"bot15"', 'bằng "bot15"', True),
        ('"bot15"', 'bằng "bot15"', True), ("false", "bất kỳ giá trị nào", True)]
    assert [(column.expression, value) for column, value in result.inputs][0] == ("count(sections_violated)", "2")
    # ... and why the neighbouring R2 did not: its class cell wants top20 or middle.
    r2 = next(r for r in result.rules if r.rule.id == "sanction_rule_r2")
    assert (r2.matched, r2.applied) == (False, False)
    assert [c.matched for c in r2.cells] == [True, True, False, True, True]
    assert sum(r.matched for r in result.rules) == 1


def test_a_missing_input_is_null_as_in_a_running_process(session, rules_version):
    result = monitoring.test_decision(session, rules_version.id, "sanction", {"sections_violated": [2]})
    assert result.outputs["sanction_rule"] == "R8"  # slow_conclusions unknown: MISSING_INPUT
    assert [r.rule.id for r in result.applied] == ["sanction_rule_r8_slow"]


def _overlapping_rules_version(session, hit_policy: str):
    """unit_evaluation redeployed with rating.dmn under HIT_POLICY and its rows 6 and 7 overlapping for "middle"."""
    files = {p.name: p.read_bytes() for p in definitions.BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    root = etree.fromstring(files["rating.dmn"])
    table = root.find(".//dmn:decisionTable", DMN_NS)
    table.set("hitPolicy", hit_policy)
    table.find(".//dmn:inputEntry[@id='rating_rule_incomplete_top20_in2']/dmn:text", DMN_NS).text = '"top20","middle"'
    files["rating.dmn"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    definitions.deploy_files(session, files)
    session.commit()
    return definitions.latest_version(session, "unit_evaluation")


VIOLATION_IN_THE_MIDDLE = {"sections_violated": [2], "ict_class": "middle", "rank_tie": False}


def test_under_unique_overlapping_rules_are_shown_with_the_engines_refusal(session, rules_version):
    version = _overlapping_rules_version(session, "UNIQUE")
    result = monitoring.test_decision(session, version.id, "rating", VIOLATION_IN_THE_MIDDLE)
    assert result.outputs is None and "UNIQUE" in result.error and "6, 7" in result.error
    assert [r.rule.row for r in result.rules if r.matched] == [6, 7] and result.applied == ()


def test_under_first_the_first_matching_rule_is_applied_and_the_later_one_only_matches(session, rules_version):
    version = _overlapping_rules_version(session, "FIRST")
    result = monitoring.test_decision(session, version.id, "rating", VIOLATION_IN_THE_MIDDLE)
    assert result.error is None and result.outputs["rating"] == "incomplete"
    assert result.outputs["rating_reasons"] == ["TOP20_BUT_VIOLATION"]
    assert [r.rule.row for r in result.rules if r.matched] == [6, 7]
    assert [r.rule.row for r in result.applied] == [6]


@pytest.mark.parametrize(("value", "text"), [
    (None, "null"), (True, "true"), (False, "false"), ("bot15", '"bot15"'), ([1, "a"], '[1, "a"]'),
    (Decimal("0.150"), "0.150"), (Decimal("20"), "20"), (date(2025, 12, 15), "15/12/2025"), (3, "3"),
])
def test_values_are_shown_as_an_owner_would_type_them(value, text):
    assert dmn_tables.feel_text(value) == text


def test_a_step_is_late_from_the_day_after_its_due_date(session, cycle):
    stc = instance_of(session, "STC")
    due = date(2025, 11, 17)
    assert monitoring.instance_steps(session, stc, cycle["dic"], due).late == set()
    assert monitoring.instance_steps(session, stc, cycle["dic"], due + timedelta(days=1)).late == {"review_report"}


BONUS_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="bonus_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bonus" name="Điểm thưởng" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_score</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="score" name="Tính điểm" camunda:decisionRef="bonus_points">
      <bpmn:incoming>to_score</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_score" sourceRef="start" targetRef="score" />
    <bpmn:sequenceFlow id="to_end" sourceRef="score" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
BONUS_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="bonus_dmn" name="Điểm thưởng"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="bonus_points" name="Điểm thưởng theo thành tích">
    <decisionTable id="bonus_points_table" hitPolicy="COLLECT" aggregation="SUM">
      <input id="in_rank" label="Thứ hạng"><inputExpression id="e_rank" typeRef="integer"><text>rank</text>
        </inputExpression></input>
      <input id="in_kind" label="Loại đơn vị"><inputExpression id="e_kind" typeRef="string"><text>kind</text>
        </inputExpression></input>
      <output id="out_points" label="Điểm" name="points" typeRef="integer" />
      <rule id="top3"><description>Ba hạng đầu</description>
        <inputEntry id="c1"><text>[1..3]</text></inputEntry><inputEntry id="c2"><text>-</text></inputEntry>
        <outputEntry id="o1"><text>10</text></outputEntry></rule>
      <rule id="top10"><description>Mười hạng đầu</description>
        <inputEntry id="c3"><text>&lt;= 10</text></inputEntry><inputEntry id="c4"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>5</text></outputEntry></rule>
      <rule id="district"><description>Khối huyện</description>
        <inputEntry id="c5"><text>-</text></inputEntry><inputEntry id="c6"><text>not("department")</text></inputEntry>
        <outputEntry id="o3"><text>1</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_collect_sum_table_adds_up_every_matching_rule(session):
    definitions.deploy_files(session, {"bonus.bpmn": BONUS_BPMN.encode(), "bonus.dmn": BONUS_DMN.encode()})
    session.commit()
    version = definitions.latest_version(session, "bonus")
    (table,) = dmn_tables.decision_tables(version)
    assert (table.hit_policy, table.aggregation) == ("COLLECT", "SUM")
    assert [c.words for c in table.rules[2].inputs] == ["bất kỳ giá trị nào", 'không phải (bằng "department")']
    result = monitoring.test_decision(session, version.id, "bonus_points", {"rank": 2, "kind": "district"})
    assert result.error is None and result.outputs == {"points": 16}
    assert [r.rule.id for r in result.applied] == ["top3", "top10", "district"]
    assert monitoring.test_decision(session, version.id, "bonus_points", {"rank": 7, "kind": "department"}).outputs \
        == {"points": 5}
