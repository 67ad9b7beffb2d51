"""Upload validation, continued: expressions, dates and timers; constructs the engine cannot run; decision
tables; damaged files never crash the check.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from test_validation import (  # noqa: F401 - helpers and the english fixture
    BPMN_DIR,
    DECIDE,
    TRANSLATIONS,
    bpmn,
    codes,
    dmn,
    english,
    problems,
    rule,
    task,
)

from workflows import engine, validation
from workflows.errors import DefinitionInvalid
from workflows.validation import messages

# --- expressions, dates and timers --------------------------------------------------------------------------------


GATEWAY = ('<bpmn:exclusiveGateway id="gw" name="Duyệt?" default="f4" />'
           '<bpmn:endEvent id="end_yes" />')


def gateway(condition: str) -> bytes:
    flows = [("start", "work"), ("work", "gw"), ("gw", "end_yes"), ("gw", "end")]
    body = bpmn(task() + GATEWAY, flows)
    return body.replace(b'<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end_yes" />',
                        f'<bpmn:sequenceFlow id="f3" name="Có" sourceRef="gw" targetRef="end_yes">'
                        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
                        f"</bpmn:conditionExpression></bpmn:sequenceFlow>".encode())


@pytest.mark.parametrize("condition", ["${approved}", "${amount &gt; 1000}", "${!approved}", "${a &amp;&amp; b}",
                                       "#{approved}", "${amount gt 1000 and not rejected}", "${empty comment}"])
def test_camunda_conditions_are_accepted(condition):
    assert codes({"p.bpmn": gateway(condition)}) == []


@pytest.mark.parametrize("condition", ["${execution.getVariable('x')}", "${x.__class__}", "${a ** 99}",
                                       "${[i for i in x]}", "${x = 1}"])
def test_unsafe_or_unreadable_conditions_are_refused_naming_the_flow(condition):
    [problem] = problems({"p.bpmn": gateway(condition)})
    assert (problem.code, problem.element, problem.name) == ("expression", "f3", "Có")


def test_a_flow_without_condition_out_of_a_gateway_is_warned_about_as_camunda_takes_it():
    flows = [("start", "work"), ("work", "gw"), ("gw", "end_yes"), ("gw", "end")]
    files = {"p.bpmn": bpmn(task() + GATEWAY.replace(' default="f4"', ""), flows)}
    found = problems(files, severity="warning")
    assert [(p.code, p.element) for p in found] == [("gateway_no_condition", "gw"), ("gateway_no_condition", "gw")]
    assert problems(files) == []


def test_a_condition_on_a_flow_from_a_task_is_refused_because_nothing_would_check_it():
    body = bpmn(task()).replace(b'<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />',
                                b'<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end">'
                                b"<bpmn:conditionExpression>"
                                b"${ok}</bpmn:conditionExpression></bpmn:sequenceFlow>")
    assert codes({"p.bpmn": body}) == [("condition_ignored", "f2")]


def test_a_script_language_condition_is_refused():
    assert codes({"p.bpmn": gateway("x").replace(b'xsi:type="bpmn:tFormalExpression"',
                                                 b'xsi:type="bpmn:tFormalExpression" language="javascript"')}) == [
        ("condition_language", "f3")]


def timer(kind: str, value: str) -> bytes:
    event = (f'<bpmn:intermediateCatchEvent id="wait" name="Chờ"><bpmn:timerEventDefinition>'
             f"<bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    return bpmn(event, [("start", "wait"), ("wait", "end")])


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", "PT30M"), ("timeDuration", "P5D"), ("timeDuration", "P1Y2M"), ("timeDate", "2030-01-31"),
    ("timeDate", "2030-01-31T12:00:00+07:00"), ("timeCycle", "R3/PT1H"), ("timeDuration", "${wait}"),
    ("timeDate", "${report_due_at}"), ("timeDuration", '"PT2H"'),
])
def test_timer_values_written_as_in_camunda_are_accepted(kind, value):
    assert codes({"p.bpmn": timer(kind, value)}) == []


@pytest.mark.parametrize(("kind", "value", "code"), [
    ("timeDuration", "2030-01-31", "timer"), ("timeDate", "PT30M", "timer"), ("timeDate", "2030-02-31", "timer"),
    ("timeCycle", "0 0 9 * * ?", "timer_cron"), ("timeDuration", "${now().plusDays(1)}", "timer"),
    ("timeDuration", "P5X", "timer"), ("timeDuration", "", "timer_missing"),
])
def test_bad_timer_values_are_refused(kind, value, code):
    assert codes({"p.bpmn": timer(kind, value)}) == [(code, "wait")]


@pytest.mark.parametrize(("attrs", "code"), [
    ('camunda:dueDate="2030-01-31"', None), ('camunda:dueDate="${report_due}"', None),
    ('camunda:followUpDate="2030-01-15T09:00:00"', None), ('camunda:priority="70"', None),
    ('camunda:priority="${urgent ? 90 : 50}"', None), ('camunda:assignee="${initiator_name}"', None),
    ('camunda:candidateUsers="an,binh"', None),
    ('camunda:dueDate="P5X"', "task_date"), ('camunda:dueDate="tomorrow"', "task_date"),
    ('camunda:dueDate="${dateTime().plusCenturies(3).toDate()}"', "expression"),
    ('camunda:priority="high"', "priority"),
    ('camunda:assignee="${users.pick()}"', "expression"),
])
def test_assignment_dates_and_priority(attrs, code):
    assert codes({"p.bpmn": bpmn(task(" " + attrs))}) == ([(code, "work")] if code else [])


def test_candidate_users_are_reported_as_unused_but_do_not_block_the_upload(english):  # noqa: F811
    files = {"p.bpmn": bpmn(task(' camunda:candidateUsers="an,binh"'))}
    assert problems(files) == []
    [problem] = problems(files, severity="warning")
    assert problem.severity == "warning"
    assert "routes tasks by role (dic_officer)" in english(problem.message)


def test_due_in_working_days_must_be_a_number():
    props = ('<bpmn:extensionElements><camunda:properties><camunda:property name="dueInWorkingDays" value="five" />'
             "</camunda:properties></bpmn:extensionElements>")
    assert codes({"p.bpmn": bpmn(task(inner=props))}) == [("property_number", "work")]


# --- constructs the engine cannot run ------------------------------------------------------------------------------


@pytest.mark.parametrize(("node", "code"), [
    ('<bpmn:serviceTask id="svc" camunda:class="com.example.Do" />', "java_code"),
    ('<bpmn:serviceTask id="svc" camunda:expression="${bean.run()}" />', "java_code"),
    ('<bpmn:serviceTask id="svc" camunda:delegateExpression="${bean}" />', "java_code"),
    ('<bpmn:serviceTask id="svc"><bpmn:extensionElements><camunda:connector><camunda:connectorId>http-connector'
     "</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>", "java_code"),
    ('<bpmn:serviceTask id="svc" />', "not_external"),
    ('<bpmn:serviceTask id="svc" camunda:type="external" camunda:topic="send-mail" />', "unknown_topic"),
    ('<bpmn:sendTask id="svc" camunda:class="com.example.Send" />', "java_code"),
    ('<bpmn:scriptTask id="svc" scriptFormat="groovy"><bpmn:script>println 1</bpmn:script></bpmn:scriptTask>',
     "script_task"),
    ('<bpmn:task id="svc"><bpmn:extensionElements><camunda:executionListener class="com.example.L" event="start" />'
     "</bpmn:extensionElements></bpmn:task>", "listener"),
    ('<bpmn:intermediateThrowEvent id="svc"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter '
     'name="a">1</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:intermediateThrowEvent>',
     "input_output"),
    ('<bpmn:task id="svc"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="a">'
     '<camunda:script scriptFormat="groovy">1</camunda:script></camunda:inputParameter></camunda:inputOutput>'
     "</bpmn:extensionElements></bpmn:task>", "script"),
    ('<bpmn:complexGateway id="svc" />', "unsupported_element"),
    ('<bpmn:task id="svc"><bpmn:standardLoopCharacteristics /></bpmn:task>', "unsupported_element"),
    ('<bpmn:userTask id="svc" camunda:candidateGroups="dic_officer"><bpmn:multiInstanceLoopCharacteristics>'
     "<bpmn:loopDataInputRef>xs</bpmn:loopDataInputRef></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>",
     "mi_standard"),
    ('<bpmn:userTask id="svc" camunda:candidateGroups="dic_officer"><bpmn:multiInstanceLoopCharacteristics '
     'camunda:collection="${xs.subList(0, 1)}" camunda:elementVariable="x" /></bpmn:userTask>', "mi_collection"),
    ('<bpmn:intermediateThrowEvent id="svc"><bpmn:messageEventDefinition camunda:class="com.example.Send" />'
     "</bpmn:intermediateThrowEvent>", "message_throw"),
    ('<bpmn:intermediateCatchEvent id="svc"><bpmn:conditionalEventDefinition><bpmn:condition>${x}</bpmn:condition>'
     "</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>", "unsupported_event"),
])
def test_constructs_the_engine_cannot_run_are_refused_by_element(node, code):
    found = codes({"p.bpmn": bpmn(node, [("start", "svc"), ("svc", "end")])})
    assert (code, "svc") in found


def test_a_timer_start_event_is_refused_because_the_system_starts_processes():
    start = ('<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:startEvent>")
    files = {"p.bpmn": bpmn(task(), [("start", "work"), ("work", "end")]).replace(b'<bpmn:startEvent id="start" />',
                                                                                   start.encode())}
    files["p.bpmn"] = files["p.bpmn"].replace(b'sourceRef="start"', b'sourceRef="tick"')
    assert ("start_trigger", "tick") in codes(files)


def test_an_event_sub_process_is_refused():
    sub = ('<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="s2"><bpmn:timerEventDefinition>'
           "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>"
           '<bpmn:endEvent id="e2" /><bpmn:sequenceFlow id="sf" sourceRef="s2" targetRef="e2" /></bpmn:subProcess>')
    assert ("event_subprocess", "esp") in codes({"p.bpmn": bpmn(task() + sub)})


def test_an_error_boundary_on_a_user_task_can_never_fire():
    boundary = ('<bpmn:boundaryEvent id="oops" attachedToRef="work"><bpmn:errorEventDefinition errorRef="err" />'
                "</bpmn:boundaryEvent>")
    files = {"p.bpmn": bpmn(task() + boundary, [("start", "work"), ("work", "end"), ("oops", "end")],
                            defs='<bpmn:error id="err" name="Lỗi" errorCode="E1" />')}
    assert codes(files) == [("boundary_on_task", "oops")]


def test_plain_and_manual_tasks_are_accepted_and_pass_through_as_in_camunda():
    files = {"p.bpmn": bpmn('<bpmn:task id="note" name="Ghi chú" /><bpmn:manualTask id="call" name="Gọi điện" />',
                            [("start", "note"), ("note", "call"), ("call", "end")])}
    assert codes(files) == []
    run = engine.Run.start(engine.compile_files(files)["p"].spec_json, {})
    run.advance()
    assert run.is_completed and run.ready_user_tasks() == []


def test_harmless_camunda_attributes_pass_and_unknown_ones_are_only_warned_about():
    files = {"p.bpmn": bpmn(task(' camunda:asyncBefore="true" camunda:jobPriority="5" camunda:fancy="1"'))}
    assert codes(files) == []
    assert [(p.code, p.element) for p in problems(files, "warning")] == [("ignored_extension", "work")]


# --- decision tables -----------------------------------------------------------------------------------------------


def with_table(table: bytes) -> dict[str, bytes]:
    return {"p.bpmn": bpmn(DECIDE, [("start", "decide"), ("decide", "end")]), "level.dmn": table}


def test_a_feel_table_as_camunda_modeler_writes_it_passes():
    table = dmn(rule("low", "&lt; 10") + rule("mid", "[10..50[", '"B"') + rule("high", "&gt;= 50", '"C"'))
    assert codes(with_table(table)) == []


@pytest.mark.parametrize("policy", ["PRIORITY", "OUTPUT ORDER"])
def test_hit_policies_the_engine_cannot_evaluate_are_refused(policy):
    assert codes(with_table(dmn(rule("r1", "&lt; 10"), policy=policy))) == [("hit_policy", "level_table")]


def test_an_aggregation_needs_collect():
    table = dmn(rule("r1", "&lt; 10", "1"), policy='FIRST" aggregation="SUM')
    assert codes(with_table(table)) == [("aggregation", "level_table")]


@pytest.mark.parametrize(("cell", "words"), [
    ("? &gt; 5", "Python-style"), ("'A'", "double quotes"), ("!= 5", "not("), ("[1..5", "expected"),
    ("__import__('os')", "cannot be used here"),
])
def test_an_unreadable_cell_names_its_rule_and_column(cell, words, english):  # noqa: F811
    [problem] = problems(with_table(dmn(rule("r1", cell))))
    assert problem.code == "dmn_cell" and problem.element == "level_table"
    sentence = english(problem.message)
    assert "rule 1" in sentence and "'Điểm'" in sentence and words in sentence


def test_an_output_that_is_not_feel_is_refused(english):  # noqa: F811
    [problem] = problems(with_table(dmn(rule("r1", "&lt; 5", "os.system('x')"))))
    assert problem.code == "dmn_cell" and "not allowed" in english(problem.message)


def test_an_input_expression_in_another_language_is_refused():
    inputs = ('<input id="in_score" label="Điểm"><inputExpression id="ie" typeRef="integer" '
              'expressionLanguage="javascript"><text>score</text></inputExpression></input>')
    assert ("dmn_language", "in_score") in codes(with_table(dmn(rule("r1", "1"), inputs=inputs)))


def test_a_decision_graph_in_one_file_is_refused_with_both_reasons():
    second = (b'<decision id="other" name="Khac"><decisionTable id="other_t"><input id="i2"><inputExpression '
              b'id="ie2"><text>x</text></inputExpression></input><output id="o2" name="y" /></decisionTable>'
              b"</decision>")
    table = dmn(rule("r1", "1"), extra='<informationRequirement id="ir"><requiredDecision href="#other" />'
                '</informationRequirement>').replace(b"</definitions>", second + b"</definitions>")
    found = codes(with_table(table))
    assert ("dmn_many_decisions", None) in found and ("dmn_drg", "level_table") in found


def test_a_literal_expression_decision_is_refused():
    table = (b'<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" '
             b'namespace="x"><decision id="level_table" name="L"><literalExpression id="le"><text>1</text>'
             b"</literalExpression></decision></definitions>")
    assert codes(with_table(table)) == [("dmn_not_table", "level_table")]


def test_a_single_entry_result_needs_a_table_with_one_output():
    outputs = '<output id="o1" name="level" /><output id="o2" name="note" />'
    table = dmn('<rule id="r1"><inputEntry id="a"><text>1</text></inputEntry><outputEntry id="b"><text>"A"</text>'
                '</outputEntry><outputEntry id="c"><text>"x"</text></outputEntry></rule>', outputs=outputs)
    assert codes(with_table(table)) == [("decision_outputs", "decide")]


def test_a_unique_overlap_of_literal_cells_is_reported_at_upload_with_an_example(english):  # noqa: F811
    table = dmn(rule("r1", "[1..10]") + rule("r2", "[20..30]", '"B"') + rule("r3", "[10..15]", '"C"'))
    [problem] = problems(with_table(table))
    assert problem.code == "unique_overlap" and problem.element == "level_table"
    assert "rules 1 and 3" in english(problem.message) and "Điểm = 10" in english(problem.message)


def test_a_dash_and_identical_literal_cells_overlap():
    table = dmn(rule("r1", '"A","B"') + rule("r2", "-", '"B"'))
    assert [p.code for p in problems(with_table(table))] == ["unique_overlap"]


@pytest.mark.parametrize("cells", [
    ("[1..5]", "]5..10]"), ("&lt; 5", "&gt;= 5"), ('"A","B"', '"C"'), ('not("A")', '"A"'), ("true", "false"),
    ("&lt; 5", "&gt; 4"),  # no whole number lies strictly between 4 and 5 in an integer column
])
def test_cells_that_do_not_overlap_are_not_reported(cells):
    table = dmn(rule("r1", cells[0]) + rule("r2", cells[1], '"B"'))
    assert codes(with_table(table)) == []


def test_overlaps_under_first_are_not_problems():
    table = dmn(rule("r1", "-") + rule("r2", "-", '"B"'), policy="FIRST")
    assert codes(with_table(table)) == []


def test_under_any_overlapping_rules_with_different_results_are_reported():
    table = dmn(rule("r1", "&gt; 1") + rule("r2", "&gt; 5") + rule("r3", "&gt; 8", '"B"'), policy="ANY")
    assert [p.code for p in problems(with_table(table))] == ["any_disagree", "any_disagree"]


def test_an_overlap_that_depends_on_a_variable_is_left_to_the_run_and_caught_there():
    table = dmn(rule("r1", "&gt;= limit") + rule("r2", "&lt; 100", '"B"'))
    files = with_table(table)
    assert codes(files) == []
    spec = engine.compile_files(files)["p"].spec_json
    assert engine.run_straight_through(spec, {"score": 5, "limit": 50})["level"] == "B"
    with pytest.raises(engine.EngineError, match="UNIQUE but rules 1, 2 all match"):
        engine.run_straight_through(spec, {"score": 60, "limit": 50})


def test_a_table_nobody_uses_is_only_a_warning():
    files = {"p.bpmn": bpmn(task()), "level.dmn": dmn(rule("r1", "1"))}
    assert codes(files) == []
    assert [p.code for p in problems(files, "warning")] == ["decision_unused"]


def test_a_decision_table_alone_is_not_a_deployable_set():
    assert ("no_process", None) in codes({"level.dmn": dmn(rule("r1", "1"))})


# --- nothing crashes -----------------------------------------------------------------------------------------------


def mangled_copies() -> list[tuple[str, bytes]]:
    """Our own files cut short, stripped of ids, and with elements swapped, as a careless edit might leave them."""
    cases = []
    for path in sorted(BPMN_DIR.iterdir()):
        if path.suffix not in (".bpmn", ".dmn"):
            continue
        content = path.read_bytes()
        changed = [content[: len(content) // 2], content.replace(b' id="', b' idx="'),
                   content.replace(b"bpmn:userTask", b"bpmn:scriptTask"),
                   content.replace(b"<text>", b"<text>[").replace(b"camunda:decisionRef", b"camunda:x"),
                   content.replace(b"sourceRef=", b"sourceRefx="),
                   content.replace(b'targetRef="', b'targetRef="missing_')]
        cases += [(path.name, c) for c in dict.fromkeys(changed) if c != content]
    return cases


@pytest.mark.parametrize(("name", "content"), mangled_copies())
def test_damaged_files_give_a_report_never_an_exception(name, content, english):  # noqa: F811
    others = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.suffix in (".bpmn", ".dmn") and p.name != name}
    report = validation.validate({**others, name: content})
    assert not report.ok
    assert all(p.message and english(p.message) for p in report.problems)
    assert not any(p.code == "engine" and "Error:" in p.message and "ValidationException" not in p.message
                   for p in report.problems if "TypeError" in p.message or "KeyError" in p.message)


def test_random_bytes_are_a_report():
    report = validation.validate({"x.bpmn": bytes(range(256)) * 10, "y.dmn": b"\x00\xff" * 50})
    assert {p.code for p in report.problems} == {"not_utf8"}


def test_engine_compile_never_lets_an_unexpected_error_through():
    # A process without an id passes the XSD; SpiffWorkflow 3.2.0 then fails with a bare TypeError (docs/ENGINE.md).
    content = bpmn(task()).replace(b'<bpmn:process id="p"', b"<bpmn:process")
    with pytest.raises(DefinitionInvalid):
        engine.compile_files({"p.bpmn": content})
    assert ("process_no_id", None) in codes({"p.bpmn": content})


def test_own_files_on_disk_are_utf8_and_their_names_are_accepted():
    for path in Path(BPMN_DIR).iterdir():
        if path.suffix in (".bpmn", ".dmn"):
            assert validation.FILE_NAME.fullmatch(path.name)


def test_every_problem_sentence_has_an_english_translation_with_the_same_placeholders():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    templates = [*messages.MESSAGES.values(), *messages.WHERE.values(),
                 *(value for name, value in vars(messages).items() if name.isupper() and isinstance(value, str))]
    for template in templates:
        entry = catalogue.get(template)
        assert entry is not None and entry.string, template
        assert set(re.findall(r"\{\w*\}", entry.string)) == set(re.findall(r"\{\w*\}", template)), template
