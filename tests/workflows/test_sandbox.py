"""Hostile diagrams: whatever an uploaded diagram says, nothing in it runs on the server.

SpiffWorkflow runs diagram text with plain eval/exec (docs/ENGINE.md, "Expressions"): `import os` in a script task, a
`__import__('os')` gateway condition and a spiffworkflow:preScript each ran os.system there, and RestrictedPython's
safe_globals is escapable through `().__class__.__base__.__subclasses__()`. Each test puts one such payload where a
diagram can hold text, and proves two things: the upload is refused naming the element, and the same file pushed
past the upload straight into the engine fails harmlessly. A sentinel file in tmp_path shows nothing ran.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from factories import setup_people

from workflows import engine, forms, validation, versions
from workflows.engine import expressions, sandbox
from workflows.errors import DefinitionInvalid, EngineError
from workflows.models import DefinitionVersion

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
        'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="p" isExecutable="true">')
TAIL = "</bpmn:process></bpmn:definitions>"
FLOW = ('<bpmn:startEvent id="start" /><bpmn:endEvent id="end" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" /><bpmn:sequenceFlow id="f2" sourceRef="x" '
        'targetRef="end" />')


def payloads(sentinel: Path) -> dict[str, str]:
    command = f"touch {sentinel}"
    return {
        "import os": f"import os; os.system('{command}')",
        "__import__": f"__import__('os').system('{command}')",
        "__subclasses__": ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
                           f"._module.__builtins__['__import__']('os').system('{command}')"),
    }


PAYLOADS = ["import os", "__import__", "__subclasses__"]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def script_task(code: str) -> dict[str, bytes]:
    return {"p.bpmn": (HEAD + f'<bpmn:scriptTask id="x" name="Chạy" scriptFormat="python"><bpmn:script>{escape(code)}'
                       "</bpmn:script></bpmn:scriptTask>" + FLOW + TAIL).encode()}


def gateway(code: str) -> dict[str, bytes]:
    body = ('<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="x" name="Rẽ" default="f3" />'
            '<bpmn:endEvent id="a" /><bpmn:endEvent id="b" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" />'
            f'<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="a"><bpmn:conditionExpression>{escape(code)}'
            '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="b" />')
    return {"p.bpmn": (HEAD + body + TAIL).encode()}


def pre_script(code: str) -> dict[str, bytes]:
    task = ('<bpmn:userTask id="x" name="Làm" camunda:candidateGroups="dic_officer"><bpmn:extensionElements>'
            f"<spiffworkflow:preScript>{escape(code)}</spiffworkflow:preScript>"
            f"<spiffworkflow:postScript>{escape(code)}</spiffworkflow:postScript>"
            "</bpmn:extensionElements></bpmn:userTask>")
    return {"p.bpmn": (HEAD + task + FLOW + TAIL).encode()}


def listener(code: str) -> dict[str, bytes]:
    task = ('<bpmn:task id="x" name="Ghi"><bpmn:extensionElements><camunda:executionListener event="start">'
            f'<camunda:script scriptFormat="python">{escape(code)}</camunda:script></camunda:executionListener>'
            "</bpmn:extensionElements></bpmn:task>")
    return {"p.bpmn": (HEAD + task + FLOW + TAIL).encode()}


def timer(code: str) -> dict[str, bytes]:
    event = (f'<bpmn:intermediateCatchEvent id="x" name="Chờ"><bpmn:timerEventDefinition><bpmn:timeDuration>'
             f"{escape(code)}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    return {"p.bpmn": (HEAD + event + FLOW + TAIL).encode()}


def due_date(code: str) -> dict[str, bytes]:
    task = ('<bpmn:userTask id="x" name="Làm" camunda:candidateGroups="dic_officer" '
            f'camunda:assignee="${{{escape(code)}}}" '
            f'camunda:dueDate="${{{escape(code)}}}" />')
    return {"p.bpmn": (HEAD + task + FLOW + TAIL).encode()}


def cardinality(code: str) -> dict[str, bytes]:
    task = ('<bpmn:userTask id="x" name="Làm" camunda:candidateGroups="dic_officer">'
            "<bpmn:multiInstanceLoopCharacteristics>"
            f"<bpmn:loopCardinality>{escape(code)}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
            "</bpmn:userTask>")
    return {"p.bpmn": (HEAD + task + FLOW + TAIL).encode()}


def decision(where: str, code: str) -> dict[str, bytes]:
    expression = escape(code) if where == "input expression" else "amount"
    cell = escape(code) if where == "input cell" else "&gt; 1"
    output = escape(code) if where == "output" else '"ok"'
    table = ('<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="d" '
             'namespace="http://camunda.org/schema/1.0/dmn"><decision id="t" name="Bảng"><decisionTable id="tt">'
             f'<input id="i"><inputExpression id="ie"><text>{expression}</text></inputExpression></input>'
             f'<output id="o" name="verdict" /><rule id="r1"><inputEntry id="r1i"><text>{cell}</text></inputEntry>'
             f'<outputEntry id="r1o"><text>{output}</text></outputEntry></rule></decisionTable></decision>'
             "</definitions>")
    task = '<bpmn:businessRuleTask id="x" name="Xét" camunda:decisionRef="t" />'
    return {"p.bpmn": (HEAD + task + FLOW + TAIL).encode(), "t.dmn": table.encode()}


PLACES = {
    "script task": (script_task, "script_task"),
    "gateway condition": (gateway, "expression"),
    "JUEL gateway condition": (lambda code: gateway("${" + code + "}"), "expression"),
    "spiffworkflow pre-script": (pre_script, "script"),
    "execution listener script": (listener, "listener"),
    "timer value": (timer, "timer"),
    "due date and assignee": (due_date, "expression"),
    "multi-instance cardinality": (cardinality, "expression"),
    "DMN input cell": (lambda code: decision("input cell", code), "dmn_cell"),
    "DMN output entry": (lambda code: decision("output", code), "dmn_cell"),
    "DMN input expression": (lambda code: decision("input expression", code), "dmn_input"),
}


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("place", list(PLACES))
def test_the_upload_is_refused_naming_the_element(tmp_path, place, payload):
    build, code = PLACES[place]
    files = build(payloads(tmp_path / "pwned")[payload])
    report = validation.validate(files)
    assert code in {p.code for p in report.errors}, [p.message for p in report.problems]
    assert all(p.element for p in report.errors if p.code == code)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("place", list(PLACES))
def test_the_same_file_pushed_past_the_upload_fails_harmlessly(tmp_path, place, payload):
    build, _ = PLACES[place]
    sentinel = tmp_path / "pwned"
    files = build(payloads(sentinel)[payload])
    try:
        compiled = engine.compile_files(files)
    except DefinitionInvalid:
        assert place == "script task"  # the engine's own parser refuses script tasks, whatever their text
        assert not sentinel.exists()
        return
    run = None
    try:
        run = engine.Run.start(compiled["p"].spec_json, {"amount": 5})
        run.advance()
        for view in run.ready_user_tasks():  # pre/post scripts, assignment and dates are read around user tasks
            try:
                assert view.assignee is None or isinstance(view.assignee, str)
            except expressions.ExpressionError:
                pass
            if view.due_expression:
                with pytest.raises(expressions.ExpressionError):
                    engine.evaluate_expression(view.due_expression, view.data)
            run.complete(view.uuid, {})
            run.advance()
    except (EngineError, expressions.ExpressionError):
        pass
    assert not sentinel.exists()
    if run is not None:
        assert not any(type(v).__name__ == "module" for v in run.data.values())


def test_the_sandbox_runs_no_script_even_if_a_script_task_reached_it(tmp_path):
    sentinel = tmp_path / "pwned"
    for code in payloads(sentinel).values():
        with pytest.raises(ValueError, match="Script tasks are not allowed"):
            sandbox.script_engine.environment.execute(code, {})
    assert not sentinel.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sandbox_refuses_each_escape_as_an_expression(tmp_path, payload):
    with pytest.raises(expressions.ExpressionError):
        engine.evaluate_expression(payloads(tmp_path / "pwned")[payload], {})
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("source", [
    "'x' * 999999999", "[1] * 10**9", "10 ** 10 ** 8", "[" * 200 + "]" * 200, "count(count) + x.__class__",
    "'%0999999999d' % 1",
])
def test_expensive_expressions_are_refused_or_bounded(source):
    with pytest.raises(expressions.ExpressionError):
        engine.evaluate_expression(source, {"x": 1})


def test_a_required_when_condition_that_tries_an_escape_keeps_the_field_required(tmp_path):
    payload = payloads(tmp_path / "pwned")["__import__"]
    field = engine.FormFieldSpec("why", "Lý do", "string", None, {}, {"requiredWhen": f"${{{payload}}}"}, [])
    with pytest.raises(Exception, match="Dữ liệu chưa hợp lệ"):
        forms.validate([field], {}, {})
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("place", ["script task", "gateway condition", "spiffworkflow pre-script", "DMN input cell"])
def test_a_hostile_upload_stores_nothing(session, tmp_path, place):
    people = setup_people(session, ["STC"])
    before = session.query(DefinitionVersion).count()
    build, _ = PLACES[place]
    with pytest.raises(DefinitionInvalid):
        versions.upload(session, build(payloads(tmp_path / "pwned")["__subclasses__"]), people["owner"], "x")
    assert session.query(DefinitionVersion).count() == before
    assert not (tmp_path / "pwned").exists()
