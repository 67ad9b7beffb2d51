"""Upload validation: every problem of a set of .bpmn/.dmn files, with file, element, line and a plain sentence.

Small diagrams are written inline, the way Camunda Modeler writes them; each test changes one thing.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask_babel import force_locale

from webapp.i18n import localize
from workflows import definitions, engine, validation
from workflows.errors import DefinitionInvalid

BPMN_DIR = definitions.BPMN_DIR
TRANSLATIONS = Path(__file__).resolve().parents[2] / "webapp" / "translations"


@pytest.fixture
def english(app):
    """A problem's sentence in English, through the web layer's one translation path (the catalogue)."""
    po = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS)],
                       check=True, capture_output=True)

    def translate(text: str) -> str:
        with app.test_request_context(), force_locale("en"):
            return localize(text)
    return translate


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'id="defs" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.28.0">\n')
TASK = '<bpmn:userTask id="work" name="Làm việc" camunda:candidateGroups="dic_officer"{attrs}>{inner}</bpmn:userTask>'


def bpmn(nodes: str, flows: list[tuple[str, str]] | None = None, *, defs: str = "", lanes: str = "",
         process_id: str = "p") -> bytes:
    """A process with NODES and sequence flows FLOWS (source, target), flow ids f1, f2, …"""
    flows = flows if flows is not None else [("start", "work"), ("work", "end")]
    flow_xml = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{s}" targetRef="{t}" />'
                       for i, (s, t) in enumerate(flows, start=1))
    return (HEAD + defs + f'<bpmn:process id="{process_id}" name="Thử" isExecutable="true">' + lanes
            + '<bpmn:startEvent id="start" />' + nodes + '<bpmn:endEvent id="end" />' + flow_xml
            + "</bpmn:process></bpmn:definitions>").encode()


def task(attrs: str = "", inner: str = "") -> str:
    return TASK.format(attrs=" " + attrs.strip() if attrs.strip() else "", inner=inner)


def dmn(rules: str, *, inputs: str = '<input id="in_score" label="Điểm"><inputExpression id="ie_score" '
        'typeRef="integer"><text>score</text></inputExpression></input>', outputs: str =
        '<output id="out_level" name="level" typeRef="string" />', policy: str = "UNIQUE",
        decision: str = "level_table", extra: str = "") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
            'id="dmn_defs" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">'
            f'<decision id="{decision}" name="Mức">{extra}<decisionTable id="{decision}_t" hitPolicy="{policy}">'
            f"{inputs}{outputs}{rules}</decisionTable></decision></definitions>").encode()


def rule(ident: str, cell: str, out: str = '"A"') -> str:
    return (f'<rule id="{ident}"><inputEntry id="{ident}_i"><text>{cell}</text></inputEntry>'
            f'<outputEntry id="{ident}_o"><text>{out}</text></outputEntry></rule>')


DECIDE = ('<bpmn:businessRuleTask id="decide" name="Xếp mức" camunda:decisionRef="level_table" '
          'camunda:resultVariable="level" camunda:mapDecisionResult="singleEntry" />')


def problems(files: dict[str, bytes], severity: str = "error") -> list[validation.Problem]:
    return [p for p in validation.validate(files).problems if p.severity == severity]


def codes(files: dict[str, bytes]) -> list[tuple[str, str | None]]:
    return [(p.code, p.element) for p in problems(files)]


# --- the whole set -----------------------------------------------------------------------------------------------


def test_the_repositorys_own_diagrams_pass_every_check():
    files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    report = validation.validate(files)
    assert report.errors == []
    assert report.processes == ["agency_report", "annual_cycle", "unit_evaluation"]
    assert report.decisions == ["ict_rank_class", "prev_ict_rank_class", "rating", "reward", "sanction"]


def test_a_minimal_camunda_diagram_passes_and_compiles():
    files = {"p.bpmn": bpmn(task())}
    assert validation.check(files).ok
    assert set(engine.compile_files(files)) == {"p"}


def test_check_raises_with_every_error_listed(english):
    files = {"p.bpmn": bpmn(task('camunda:candidateGroups="nobody"').replace(
        'camunda:candidateGroups="dic_officer"', "") + '<bpmn:scriptTask id="s" />',
        [("start", "work"), ("work", "s"), ("s", "end")])}
    with pytest.raises(DefinitionInvalid) as caught:
        validation.check(files)
    assert {p["code"] for p in caught.value.problems} == {"unknown_group", "script_task"}
    assert all(p["file"] == "p.bpmn" and p["line"] and p["message"] and english(p["message"])
               for p in caught.value.problems)


def test_every_problem_reads_in_vietnamese_and_english_and_names_its_place(english):
    found = problems({"p.bpmn": bpmn(task('camunda:dueDate="P5X"'))})
    [problem] = found
    assert (problem.code, problem.file, problem.element, problem.name) == ("task_date", "p.bpmn", "work", "Làm việc")
    assert problem.line == 3
    assert "Hạn xử lý" in problem.message and "due date" in english(problem.message).lower()


def test_an_empty_upload_and_too_many_files_are_refused():
    assert codes({}) == [("empty_upload", None)]
    many = {f"p{i}.bpmn": bpmn(task(), process_id=f"p{i}") for i in range(validation.MAX_FILES + 1)}
    assert ("too_many_files", None) in codes(many)


# --- safe XML ------------------------------------------------------------------------------------------------------


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">&secret;
</bpmn:process></bpmn:definitions>"""


@pytest.mark.parametrize("content", [BOMB, XXE], ids=["entity expansion bomb", "external entity"])
def test_entity_declarations_are_never_read(content):
    [problem] = problems({"evil.bpmn": content})
    assert problem.code == "doctype" and problem.line == 2


def test_an_entity_hidden_in_utf16_is_refused_as_not_utf8():
    assert codes({"evil.bpmn": XXE.replace(b'"1.0"?>', b'"1.0" encoding="UTF-16"?>').decode().encode("utf-16")}) == [
        ("not_utf8", None)]


def test_malformed_xml_names_its_line():
    [problem] = problems({"p.bpmn": bpmn(task()).replace(b"</bpmn:userTask>", b"")})
    assert problem.code == "not_xml" and problem.line == 3


def test_a_file_above_the_size_limit_is_not_parsed():
    big = bpmn(task()).replace(b"<bpmn:startEvent", b"<!--" + b"x" * engine.MAX_FILE_BYTES + b"--><bpmn:startEvent")
    assert codes({"p.bpmn": big}) == [("too_large", None)]


@pytest.mark.parametrize(("name", "code"), [
    ("../p.bpmn", "bad_name"), ("notes.txt", "file_type"), ("form.form", "camunda_form"), ("p.dmn", "wrong_extension"),
])
def test_names_and_kinds_of_files(name, code):
    assert [c for c, _ in codes({name: bpmn(task())})][0] == code


def test_an_xml_file_that_is_neither_bpmn_nor_dmn():
    assert codes({"p.bpmn": b"<html><body/></html>"}) == [("not_bpmn", None)]


def test_schema_errors_name_their_line():
    found = problems({"p.bpmn": bpmn(task() + '<bpmn:bogusTask id="b" />')})
    assert [p.code for p in found] == ["schema", "unsupported_element"]
    assert found[0].line == 3 and "bogusTask" in found[0].message


def test_a_camunda_8_file_is_refused_naming_each_zeebe_element():
    zeebe = bpmn(task().replace("<bpmn:userTask", '<bpmn:userTask xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"')
                 .replace("></bpmn:userTask>", '><bpmn:extensionElements><zeebe:assignmentDefinition assignee="x" />'
                          "</bpmn:extensionElements></bpmn:userTask>"))
    found = codes({"c8.bpmn": zeebe})
    assert found == [("camunda8", None), ("zeebe", "work")]


# --- references ----------------------------------------------------------------------------------------------------


def test_a_call_to_a_process_that_is_not_uploaded():
    call = '<bpmn:callActivity id="call" name="Gọi" calledElement="elsewhere" />'
    assert codes({"p.bpmn": bpmn(call, [("start", "call"), ("call", "end")])}) == [("called_missing", "call")]


def test_a_call_to_a_process_in_another_uploaded_file_resolves():
    call = '<bpmn:callActivity id="call" name="Gọi" calledElement="child" />'
    files = {"p.bpmn": bpmn(call, [("start", "call"), ("call", "end")]), "child.bpmn": bpmn(task(), process_id="child")}
    assert codes(files) == []


def test_a_decision_that_is_not_uploaded():
    assert codes({"p.bpmn": bpmn(DECIDE, [("start", "decide"), ("decide", "end")])}) == [
        ("decision_missing", "decide")]


@pytest.mark.parametrize(("definition", "what"), [
    ('<bpmn:messageEventDefinition messageRef="nope" />', "message"),
    ('<bpmn:signalEventDefinition signalRef="nope" />', "signal"),
])
def test_events_refer_to_declared_messages_and_signals(definition, what, english):
    event = f'<bpmn:intermediateCatchEvent id="wait" name="Chờ">{definition}</bpmn:intermediateCatchEvent>'
    found = problems({"p.bpmn": bpmn(event, [("start", "wait"), ("wait", "end")])})
    assert [(p.code, p.element) for p in found] == [("ref_missing", "wait")]
    assert what in english(found[0].message)


def test_an_error_boundary_must_refer_to_a_declared_error():
    sub = ('<bpmn:subProcess id="sub" name="Con"><bpmn:startEvent id="s2" /><bpmn:endEvent id="e2" />'
           '<bpmn:sequenceFlow id="sf" sourceRef="s2" targetRef="e2" /></bpmn:subProcess>'
           '<bpmn:boundaryEvent id="oops" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="missing" />'
           '</bpmn:boundaryEvent>')
    assert codes({"p.bpmn": bpmn(sub, [("start", "sub"), ("sub", "end"), ("oops", "end")])}) == [
        ("ref_missing", "oops")]


def test_the_same_process_id_in_two_files():
    assert ("duplicate_process", "p") in codes({"a.bpmn": bpmn(task()), "b.bpmn": bpmn(task())})


def test_a_message_nobody_sends_would_wait_for_ever():
    event = ('<bpmn:intermediateCatchEvent id="wait" name="Chờ"><bpmn:messageEventDefinition messageRef="m" />'
             "</bpmn:intermediateCatchEvent>")
    files = {"p.bpmn": bpmn(event, [("start", "wait"), ("wait", "end")], defs='<bpmn:message id="m" name="Hello" />')}
    assert codes(files) == [("message_unknown", "wait")]
    files = {"p.bpmn": bpmn(event, [("start", "wait"), ("wait", "end")],
                            defs='<bpmn:message id="m" name="AllReportsAccepted" />')}
    assert codes(files) == []


# --- roles and forms -----------------------------------------------------------------------------------------------


def test_a_user_task_without_a_role_explains_how_to_give_it_one(english):
    [problem] = problems({"p.bpmn": bpmn(task().replace(' camunda:candidateGroups="dic_officer"',
                                                        ' camunda:assignee="demo"'))})
    assert problem.code == "no_role" and "demo" in problem.message and "dic_officer" in english(problem.message)


def test_an_unknown_candidate_group_is_named():
    [problem] = problems({"p.bpmn": bpmn(task().replace("dic_officer", "dic_officer,engineering"))})
    assert problem.code == "unknown_group" and "'engineering'" in problem.message


def test_candidate_groups_must_name_roles_not_expressions():
    assert codes({"p.bpmn": bpmn(task().replace('"dic_officer"', '"${group}"'))}) == [("group_expression", "work")]


def test_a_lane_named_after_a_role_routes_its_tasks():
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="lane_home_affairs" name="Sở Nội vụ">'
             "<bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>")
    files = {"p.bpmn": bpmn(task().replace(' camunda:candidateGroups="dic_officer"', ""), lanes=lanes)}
    assert codes(files) == []
    run = engine.Run.start(engine.compile_files(files)["p"].spec_json, {})
    run.advance()
    [view] = run.ready_user_tasks()
    assert view.candidate_groups == ["home_affairs"] and view.lane == "Sở Nội vụ"


def test_a_lane_may_name_its_role_in_a_property_and_an_unknown_one_is_reported():
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="Lane_1" name="Phòng A"><bpmn:extensionElements>'
             '<camunda:properties><camunda:property name="role" value="{role}" /></camunda:properties>'
             "</bpmn:extensionElements><bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>")
    plain = task().replace(' camunda:candidateGroups="dic_officer"', "")
    assert codes({"p.bpmn": bpmn(plain, lanes=lanes.format(role="committee"))}) == []
    assert codes({"p.bpmn": bpmn(plain, lanes=lanes.format(role="cooks"))}) == [
        ("unknown_lane_role", "Lane_1"), ("no_role", "work")]


def form(*fields: str) -> str:
    return f"<bpmn:extensionElements><camunda:formData>{''.join(fields)}</camunda:formData></bpmn:extensionElements>"


@pytest.mark.parametrize(("field", "words"), [
    ('<camunda:formField id="x" type="double" />', "double"),
    ('<camunda:formField id="x" type="string"><camunda:validation><camunda:constraint name="validator" '
     'config="com.example.Check" /></camunda:validation></camunda:formField>', "validator"),
    ('<camunda:formField id="x" type="string"><camunda:validation><camunda:constraint name="min" config="1" />'
     "</camunda:validation></camunda:formField>", "long"),
    ('<camunda:formField id="x" type="long"><camunda:validation><camunda:constraint name="max" config="ten" />'
     "</camunda:validation></camunda:formField>", "ten"),
    ('<camunda:formField id="x" type="enum" />', "at least one value"),
    ('<camunda:formField id="x" type="string"><camunda:value id="a" name="A" /></camunda:formField>', "only enum"),
    ('<camunda:formField id="2x" type="string" />', "variable name"),
    ('<camunda:formField id="x" type="boolean" defaultValue="maybe" />', "maybe"),
    ('<camunda:formField id="x" type="enum" defaultValue="c"><camunda:value id="a" name="A" /></camunda:formField>',
     "'c'"),
])
def test_form_fields_are_checked_one_by_one(field, words, english):
    [problem] = problems({"p.bpmn": bpmn(task(inner=form(field)))})
    assert problem.code == "form_field" and problem.element == "work" and words in english(problem.message)


def test_a_field_id_used_twice(english):
    field = '<camunda:formField id="x" type="string" />'
    [problem] = problems({"p.bpmn": bpmn(task(inner=form(field, field)))})
    assert "twice" in english(problem.message)


def test_a_required_when_condition_must_be_a_safe_expression():
    field = ('<camunda:formField id="why" type="string"><camunda:properties><camunda:property id="requiredWhen" '
             "value=\"${decision.startsWith('r')}\" /></camunda:properties></camunda:formField>")
    assert codes({"p.bpmn": bpmn(task(inner=form(field)))}) == [("expression", "work")]


@pytest.mark.parametrize(("key", "code"), [
    ("embedded:app:forms/task.html", "form_key"), ("camunda-forms:app:task.form", "form_key"),
    ("app:no_such_page", "unknown_step_form"),
])
def test_forms_that_live_outside_the_diagram_are_refused(key, code):
    assert codes({"p.bpmn": bpmn(task(f' camunda:formKey="{key}"'))}) == [(code, "work")]
