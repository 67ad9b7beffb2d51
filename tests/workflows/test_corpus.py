"""What Camunda Modeler writes: every file of the Camunda Modeler corpus either runs to its end or is refused with a
report naming every element the engine cannot run; and Camunda 7 semantics (conditions, timers, assignment,
decision results, hit policies) behave as a Camunda 7 user expects.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState as SpiffTaskState  # type: ignore[import-untyped]
from test_validation import english  # noqa: F401 - the fixture

from workflows import definitions, engine, forms, runtime, validation, versions
from workflows.errors import DefinitionInvalid, EngineError
from workflows.models import AuditEvent, DefinitionVersion, HumanTask, TaskState

# Diagrams saved by Camunda Modeler, kept outside the repository (beside the checkout in CI): BPMN_CORPUS_DIR names
# another place. Without them these tests skip, saying so; CI sets REQUIRE_EXTERNAL_TEST_FILES=1 to make them fail.
CORPUS = Path(os.environ.get("BPMN_CORPUS_DIR")
              or Path(__file__).resolve().parents[3] / "shared" / "bpmn-corpus") / "camunda-examples"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NOW = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)

# Each upload as process owners would bring it, and what must be refused: (code, element) for every unsupported
# element. Nothing in the corpus runs unchanged: every user task names a person (camunda:assignee="demo") or a group
# this system does not have, and the rest calls Java or external HTML forms. The tests after this table show the
# same files running once the report's advice is followed.
REFUSED: dict[tuple[str, ...], set[tuple[str, str | None]]] = {
    ("sample.bpmn",): {("no_role", "UserTask_1"), ("java_code", "ServiceTask_1")},
    ("loanApproval-generated-forms.bpmn",): {("no_role", "UserTask_1")},
    ("loanApproval.bpmn",): {("form_key", "StartEvent_1"), ("form_key", "UserTask_1"), ("no_role", "UserTask_1")},
    ("invoiceApproval.bpmn", "start-form.form", "task-form.form"): {
        ("camunda_form", None), ("form_key", "StartEvent_1"), ("form_key", "UserTask_1"), ("no_role", "UserTask_1")},
    ("invoicePayment.bpmn",): {
        ("form_key", "StartEvent_1"), ("form_key", "Task_16y91ka"), ("no_role", "Task_16y91ka"),
        ("no_role", "Task_1a2twqz"), ("no_role", "Task_0q869n2"), ("boundary_on_task", "BoundaryEvent_18unjdv"),
        ("boundary_on_task", "BoundaryEvent_1uy9o9h")},
    ("camunda-testing-job-announcement.bpmn", "camunda-testing-job-announcement-publication.bpmn"): {
        ("java_code", "mail"), ("java_code", "publish_announcement_website"),
        ("java_code", "publish_announcement_twitter"), ("java_code", "publish_announcement_facebook"),
        ("no_role", "review"), ("expression", "review"), ("no_role", "correct"), ("expression", "correct"),
        ("unknown_group", "edit"), ("unknown_group", "publish")},
    ("dinnerDecisions.dmn",): {("dmn_many_decisions", None), ("dmn_drg", "beverages"), ("no_process", None)},
}


def corpus() -> Path:
    if CORPUS.is_dir():
        return CORPUS
    reason = (f"the Camunda Modeler corpus is missing ({CORPUS} does not exist); "
              "set BPMN_CORPUS_DIR to the folder that holds camunda-examples/")
    if os.environ.get("REQUIRE_EXTERNAL_TEST_FILES"):
        pytest.fail(reason)
    pytest.skip(reason)


def read(*names: str) -> dict[str, bytes]:
    return {name: (corpus() / name).read_bytes() for name in names}


def test_every_corpus_file_is_classified():
    assert sorted(name for group in REFUSED for name in group) == sorted(p.name for p in corpus().iterdir())


@pytest.mark.parametrize("names", list(REFUSED), ids=lambda names: names[0])
def test_each_corpus_upload_is_refused_naming_every_unsupported_element(names, english):  # noqa: F811
    report = validation.validate(read(*names))
    assert {(p.code, p.element) for p in report.errors} == REFUSED[names]
    for problem in report.errors:
        assert problem.message and english(problem.message) and problem.file in (*names, None)
        if problem.element:
            assert problem.line  # every element is found again in the file


@pytest.mark.parametrize("names", list(REFUSED), ids=lambda names: names[0])
def test_uploading_a_corpus_file_stores_nothing_and_raises_only_the_report(session, names):
    from factories import setup_people

    people = setup_people(session, ["STC"])
    before = session.query(DefinitionVersion).count()
    with pytest.raises(DefinitionInvalid) as caught:
        versions.upload(session, read(*names), people["owner"], "corpus")
    assert caught.value.problems and session.query(DefinitionVersion).count() == before


@pytest.mark.parametrize("names", list(REFUSED), ids=lambda names: names[0])
def test_the_engine_alone_refuses_or_compiles_corpus_files_but_never_crashes(names):
    files = {n: c for n, c in read(*names).items() if n.endswith((".bpmn", ".dmn"))}
    try:
        engine.compile_files(files)
    except DefinitionInvalid as error:
        assert error.problems


# --- the corpus, after following the report's advice ---------------------------------------------------------------


def edit(content: bytes, change: Any) -> bytes:
    """Edit a file the way Camunda Modeler would: change the XML tree, write it back with its declaration."""
    root = etree.fromstring(content)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def set_group(group: str, *task_ids: str) -> Any:
    def change(root: Any) -> None:
        for task in root.iter(f"{{{BPMN}}}userTask"):
            if not task_ids or task.get("id") in task_ids:
                task.set(f"{{{CAMUNDA}}}candidateGroups", group)
    return change


def field_specs(element: Any) -> list[engine.FormFieldSpec]:
    return [engine.FormFieldSpec(f["id"], f["label"], f["type"], f["default"], f["constraints"], f["properties"],
                                 [tuple(o) for o in f["options"]]) for f in engine.captured_form(element)]


def test_generated_forms_loan_approval_runs_once_its_task_has_a_role(session):
    from factories import setup_people

    people = setup_people(session, ["STC"])
    content = edit(read("loanApproval-generated-forms.bpmn")["loanApproval-generated-forms.bpmn"],
                   set_group("dic_officer"))
    result = versions.upload(session, {"loanApproval.bpmn": content}, people["owner"], "Giao bước duyệt cho Sở TT&TT")
    assert [(d.process_key, d.version) for d in result.created] == [("generatedFormsQuickstart", 1)]
    # The start form's fields are the data the process starts with, validated as the task form is.
    start_event = etree.fromstring(content).find(f".//{{{BPMN}}}startEvent")
    data = forms.validate(field_specs(start_event), {"firstname": "An", "lastname": "Nguyễn", "netIncome": "2000",
                                                     "loanAmount": "5000", "loanType": "mortage"}, {})
    ctx = runtime.Context.create(session, people["owner"], NOW)
    instance, run = runtime.start(ctx, definitions.latest_version(session, "generatedFormsQuickstart"), data,
                                  business_key="loan-1", year=2030)
    runtime.commit(ctx)
    [view] = run.ready_user_tasks()
    assert (view.step_name, view.candidate_groups, view.assignee) == ("Approve Request", ["dic_officer"], "demo")
    assert [f.id for f in view.form_fields] == ["firstname", "lastname", "netIncome", "loanAmount", "loanType",
                                                "approved"]
    values = forms.validate(view.form_fields, {"approved": "true", "firstname": "ignored"}, view.data)
    assert values == {"approved": True}  # readonly fields keep their values whatever is sent
    row = session.query(HumanTask).filter_by(instance_id=instance.id).one()
    assert (row.step_name, row.candidate_group, row.state) == ("Approve Request", "dic_officer", TaskState.OPEN)
    run = runtime.load(ctx, instance)
    run.complete(view.uuid, values)
    run.advance(now=NOW)
    assert run.is_completed and run.data["approved"] is True and run.data["firstname"] == "An"


def test_sample_runs_once_it_has_a_role_and_its_java_delegate_becomes_an_external_task():
    def change(root: Any) -> None:
        set_group("dic_officer")(root)
        service = root.find(f".//{{{BPMN}}}serviceTask")
        del service.attrib[f"{{{CAMUNDA}}}delegateExpression"]
        service.set(f"{{{CAMUNDA}}}type", "external")
        service.set(f"{{{CAMUNDA}}}topic", "say-hello")

    files = {"sample.bpmn": edit(read("sample.bpmn")["sample.bpmn"], change)}
    # The topic is not one this application handles, so an upload is still refused, for that reason alone.
    assert {(p.code, p.element) for p in validation.validate(files).errors} == {("unknown_topic", "ServiceTask_1")}
    said: list[str] = []
    run = engine.Run.start(engine.compile_files(files)["Sample"].spec_json, {})
    run.advance(lambda topic, view: said.append(topic) or {"greeted": True})
    [view] = run.ready_user_tasks()
    assert view.assignee == "demo"
    run.complete(view.uuid, {})
    run.advance(lambda topic, view: said.append(topic) or {"greeted": True})
    assert run.is_completed and said == ["say-hello"] and run.data["greeted"] is True


@pytest.mark.parametrize(("approved_first", "expected_steps"), [
    (True, ["edit", "review", "publish"]),
    (False, ["edit", "review", "correct", "review", "publish"]),
])
def test_job_announcement_runs_with_java_el_conditions_a_call_activity_and_gateways(approved_first, expected_steps):
    def fix_main(root: Any) -> None:
        set_group("dic_officer")(root)
        for task in root.iter(f"{{{BPMN}}}userTask"):
            task.attrib.pop(f"{{{CAMUNDA}}}assignee", None)
        _externalise(root)

    names = ("camunda-testing-job-announcement.bpmn", "camunda-testing-job-announcement-publication.bpmn")
    original = read(*names)
    files = {names[0]: edit(original[names[0]], fix_main), names[1]: edit(original[names[1]], _externalise)}
    refused = {(p.code, p.element) for p in validation.validate(files).errors}
    assert {code for code, _ in refused} == {"unknown_topic"}  # the advice followed; only our own topics remain
    spec = engine.compile_files(files)["camunda-testing-job-announcement"].spec_json
    posted: list[str] = []
    run = engine.Run.start(spec, {"jobAnnouncementId": 7, "twitter": True, "facebook": False})
    steps: list[str] = []
    answers = iter([approved_first, True])
    for _ in range(10):
        run.advance(lambda topic, view: posted.append(topic) or {})
        ready = run.ready_user_tasks()
        if not ready:
            break
        [view] = ready
        steps.append(view.step_id)
        run.complete(view.uuid, {"approved": next(answers)} if view.step_id == "review" else {})
    assert run.is_completed and steps == expected_steps
    assert posted == ["publish_announcement_website", "publish_announcement_twitter", "mail"]


def _externalise(root: Any) -> None:
    for service in root.iter(f"{{{BPMN}}}serviceTask"):
        service.attrib.pop(f"{{{CAMUNDA}}}expression", None)
        service.attrib.pop("implementation", None)
        service.set(f"{{{CAMUNDA}}}type", "external")
        service.set(f"{{{CAMUNDA}}}topic", service.get("id"))


DINNER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="dinner_defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="dinner" name="Dinner" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:businessRuleTask id="choose_dish" name="Choose dish" camunda:decisionRef="dish"
        camunda:resultVariable="desiredDish" camunda:mapDecisionResult="singleEntry" />
    <bpmn:businessRuleTask id="choose_beverages" name="Choose beverages" camunda:decisionRef="beverages"
        camunda:resultVariable="beverages" camunda:mapDecisionResult="collectEntries" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose_dish" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose_dish" targetRef="choose_beverages" />
    <bpmn:sequenceFlow id="f3" sourceRef="choose_beverages" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def split_dinner() -> dict[str, bytes]:
    """dinnerDecisions.dmn as the report advises: one decision per file, no requirement graph."""
    files = {}
    for keep in ("dish", "beverages"):
        root = etree.fromstring(read("dinnerDecisions.dmn")["dinnerDecisions.dmn"])
        for decision in root.findall("{*}decision"):
            if decision.get("id") != keep:
                root.remove(decision)
            else:
                for requirement in decision.findall("{*}informationRequirement"):
                    decision.remove(requirement)
        files[f"{keep}.dmn"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return {**files, "dinner.bpmn": DINNER_BPMN.encode()}


@pytest.mark.parametrize(("season", "guests", "children", "dish", "beverages"), [
    ("Winter", 4, False, "Roastbeef", ["Bordeaux", "Water"]),
    ("Spring", 6, True, "Steak", ["Pinot Noir", "Apple Juice", "Water"]),
    ("Fall", 12, False, "Stew", ["Guiness", "Water"]),
    ("Summer", 30, True, "Light Salad and a nice Steak", ["Pinot Noir", "Apple Juice", "Water"]),
])
def test_dinner_decisions_split_as_advised_run_with_feel_cells_and_collect(season, guests, children, dish, beverages):
    files = split_dinner()
    assert validation.validate(files).errors == []
    data = engine.run_straight_through(engine.compile_files(files)["dinner"].spec_json,
                                       {"season": season, "guestCount": guests, "guestsWithChildren": children})
    assert (data["desiredDish"], data["beverages"]) == (dish, beverages)


# --- Camunda 7 semantics --------------------------------------------------------------------------------------------

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:process id="p" isExecutable="true">')
TAIL = "</bpmn:process></bpmn:definitions>"


def compile_one(body: str) -> str:
    files = {"p.bpmn": (HEAD + body + TAIL).encode()}
    assert validation.validate(files).errors == []
    return engine.compile_files(files)["p"].spec_json


@pytest.mark.parametrize(("condition", "data", "branch"), [
    ("${approved}", {"approved": True}, "yes"), ("${approved}", {"approved": False}, "no"),
    ("${amount &gt; 1000}", {"amount": 1500}, "yes"), ("${amount &gt; 1000}", {"amount": 1000}, "no"),
    ("${!approved}", {"approved": False}, "yes"), ("${!approved}", {"approved": True}, "no"),
    ("${a &amp;&amp; b}", {"a": True, "b": True}, "yes"), ("${a &amp;&amp; b}", {"a": True, "b": False}, "no"),
    ("#{status == 'ok' || force}", {"status": "bad", "force": True}, "yes"),
    ("${amount ge 10 and not empty name}", {"amount": 10, "name": "x"}, "yes"),
])
def test_conditions_written_in_juel_run_as_written(condition, data, branch):
    spec = compile_one(
        '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gw" default="to_no" />'
        '<bpmn:endEvent id="yes" /><bpmn:endEvent id="no" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />'
        f'<bpmn:sequenceFlow id="to_yes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression>{condition}'
        '</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="to_no" sourceRef="gw" targetRef="no" />')
    run = engine.Run.start(spec, data)
    run.advance()
    finished = [t.task_spec.bpmn_id for t in run._wf.get_tasks() if t.task_spec.bpmn_id in ("yes", "no")
                and t.state == SpiffTaskState.COMPLETED]
    assert run.is_completed and finished == [branch]


@pytest.mark.parametrize(("kind", "value", "before", "after"), [
    ("timeDuration", "PT30M", dt.timedelta(minutes=29), dt.timedelta(minutes=31)),
    ("timeDuration", "P5D", dt.timedelta(days=4), dt.timedelta(days=5, seconds=1)),
    ("timeDate", "2030-01-10T00:00:00Z", dt.timedelta(days=2), dt.timedelta(days=3)),
    ("timeDuration", "${wait}", dt.timedelta(hours=1), dt.timedelta(hours=2, seconds=1)),
])
def test_timer_values_written_unquoted_run_as_written(kind, value, before, after):
    spec = compile_one(
        '<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait_here"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_here" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait_here" targetRef="end" />')
    run = engine.Run.start(spec, {"wait": "PT2H"})
    run.advance(now=NOW)
    assert run.waiting_timers() == ["wait_here"] and run.next_timer_at() is not None
    run = engine.Run.load(spec, run.dumps())
    run.advance(now=NOW + before)
    assert not run.is_completed
    run.advance(now=NOW + after)
    assert run.is_completed


def test_a_repeating_cycle_timer_fires_as_many_times_as_written():
    spec = compile_one(
        '<bpmn:startEvent id="start" /><bpmn:userTask id="work" camunda:candidateGroups="dic_officer" />'
        '<bpmn:boundaryEvent id="nag" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:task id="remind" name="Nhắc" /><bpmn:endEvent id="reminded" /><bpmn:endEvent id="end" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
        '<bpmn:sequenceFlow id="f3" sourceRef="nag" targetRef="remind" />'
        '<bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="reminded" />')
    run = engine.Run.start(spec, {})
    run.advance(now=NOW)
    for hours in (1, 2, 3, 4):
        run.advance(now=NOW + dt.timedelta(hours=hours, minutes=1))
    reminders = [t for t in run._wf.tasks.values() if t.task_spec.bpmn_id == "remind"
                 and t.state == SpiffTaskState.COMPLETED]
    assert len(reminders) == 2 and len(run.ready_user_tasks()) == 1


def test_assignment_attributes_are_captured_and_evaluated_on_the_tasks_data():
    spec = compile_one(
        '<bpmn:startEvent id="start" /><bpmn:userTask id="work" name="Duyệt" camunda:candidateGroups="dic_officer,'
        'dic_leader" camunda:assignee="${reviewer}" camunda:candidateUsers="an, binh" camunda:priority="${urgent ? 90 '
        ': 50}" camunda:dueDate="2030-01-31" camunda:followUpDate="${remind_on}" /><bpmn:endEvent id="end" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />')
    run = engine.Run.start(spec, {"reviewer": "chi", "urgent": True, "remind_on": "2030-01-20"})
    run.advance()
    [view] = run.ready_user_tasks()
    assert view.candidate_groups == ["dic_officer", "dic_leader"]
    assert (view.assignee, view.candidate_users, view.priority) == ("chi", ["an", "binh"], 90)
    assert engine.evaluate_expression(view.due_expression, view.data) == "2030-01-31"
    assert engine.evaluate_expression(view.follow_up_expression, view.data) == "2030-01-20"


def test_an_unquoted_due_date_becomes_the_task_rows_deadline(session):
    from factories import setup_people

    people = setup_people(session, ["STC"])
    body = (HEAD + '<bpmn:startEvent id="start" /><bpmn:userTask id="work" name="Duyệt" camunda:candidateGroups='
            '"dic_officer" camunda:dueDate="2030-03-15" /><bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" '
            'sourceRef="start" targetRef="work" /><bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
            + TAIL).replace('id="p"', 'id="due_probe"')
    versions.upload(session, {"due_probe.bpmn": body.encode()}, people["owner"], "probe")
    ctx = runtime.Context.create(session, people["owner"], NOW)
    instance, _ = runtime.start(ctx, definitions.latest_version(session, "due_probe"), {}, "x", 2030)
    runtime.commit(ctx)
    row = session.query(HumanTask).filter_by(instance_id=instance.id).one()
    assert row.due_on == dt.date(2030, 3, 15) and row.due_source == "camunda:dueDate '2030-03-15'"


def decision_table(policy: str, rules: list[tuple[str, str]], aggregation: str = "") -> bytes:
    rows = "".join(f'<rule id="r{i}"><inputEntry id="r{i}i"><text>{cell}</text></inputEntry><outputEntry id="r{i}o">'
                   f"<text>{out}</text></outputEntry></rule>" for i, (cell, out) in enumerate(rules, start=1))
    aggregate = f' aggregation="{aggregation}"' if aggregation else ""
    return ('<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="d" '
            'namespace="http://camunda.org/schema/1.0/dmn"><decision id="points" name="Điểm thưởng">'
            f'<decisionTable id="points_table" hitPolicy="{policy}"{aggregate}><input id="in1" label="Số năm">'
            '<inputExpression id="ie1" typeRef="integer"><text>years</text></inputExpression></input>'
            f'<output id="o1" name="points" typeRef="integer" />{rows}</decisionTable></decision></definitions>'
            ).encode()


def decide(table: bytes, data: dict[str, Any], mapping: str | None = "collectEntries") -> Any:
    result = f' camunda:resultVariable="result" camunda:mapDecisionResult="{mapping}"' if mapping else ""
    body = (HEAD + '<bpmn:startEvent id="start" />'
            f'<bpmn:businessRuleTask id="t" camunda:decisionRef="points"{result} />'
            '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />' + TAIL)
    files = {"p.bpmn": body.encode(), "points.dmn": table}
    spec = engine.compile_files(files)["p"].spec_json
    return engine.run_straight_through(spec, data)


FEEL_RULES = [("&lt; 3", "1"), ("[3..10]", "5"), ("&gt;= 5", "10"), ('not(7)', "2"), ("-", "0")]


@pytest.mark.parametrize(("policy", "aggregation", "years", "expected"), [
    ("FIRST", "", 7, [5]),
    ("RULE ORDER", "", 7, [5, 10, 0]),
    ("COLLECT", "", 4, [5, 2, 0]),
    ("COLLECT", "SUM", 7, 15),
    ("COLLECT", "MIN", 8, 0),
    ("COLLECT", "MAX", 8, 10),
    ("COLLECT", "COUNT", 1, 3),
])
def test_hit_policies_and_aggregations(policy, aggregation, years, expected):
    mapping = "singleEntry" if aggregation or policy == "FIRST" else "collectEntries"
    data = decide(decision_table(policy, FEEL_RULES, aggregation), {"years": years}, mapping)
    assert data["result"] == (expected[0] if policy == "FIRST" else expected)


def test_unique_and_any_are_enforced_at_run_time_where_the_upload_could_not_see_it():
    rules = [("&gt;= limit", "1"), ("&lt; 10", "2")]
    assert decide(decision_table("UNIQUE", rules), {"years": 20, "limit": 15}, "singleEntry")["result"] == 1
    with pytest.raises(EngineError, match="UNIQUE"):
        decide(decision_table("UNIQUE", rules), {"years": 5, "limit": 1}, "singleEntry")
    with pytest.raises(EngineError, match="ANY"):
        decide(decision_table("ANY", rules), {"years": 5, "limit": 1}, "singleEntry")
    assert decide(decision_table("ANY", [("&gt;= limit", "1"), ("&lt; 10", "1")]), {"years": 5, "limit": 1},
                  "singleEntry")["result"] == 1


@pytest.mark.parametrize(("mapping", "expected"), [
    ("singleEntry", 5), ("singleResult", {"points": 5}), ("collectEntries", [5]), ("resultList", [{"points": 5}]),
])
def test_map_decision_result_as_camunda_maps_it(mapping, expected):
    assert decide(decision_table("UNIQUE", [("[1..5]", "5"), ("&gt; 5", "9")]), {"years": 3}, mapping)["result"] == \
        expected


def test_a_single_result_mapping_refuses_several_matches_rather_than_pick_one():
    with pytest.raises(EngineError, match="singleResult"):
        decide(decision_table("RULE ORDER", FEEL_RULES), {"years": 7}, "singleResult")


def test_without_a_result_variable_outputs_become_variables_and_a_rerun_replaces_lists():
    table = decision_table("COLLECT", FEEL_RULES)
    data = decide(table, {"years": 1, "points": [99, 98]}, mapping=None)
    assert data["points"] == [1, 2, 0]  # replaced, not merged with the earlier list


def test_one_decision_can_be_evaluated_directly_with_its_matched_rules():
    text = decision_table("RULE ORDER", FEEL_RULES).decode()
    outputs, matched = engine.evaluate_decision("points.dmn", text, "points", {"years": 7})
    assert outputs == {"points": [5, 10, 0]} and [m.row for m in matched] == [2, 3, 5]
    with pytest.raises(EngineError, match="UNIQUE"):
        engine.evaluate_decision("points.dmn", decision_table("UNIQUE", FEEL_RULES).decode(), "points", {"years": 7})
    with pytest.raises(DefinitionInvalid):
        engine.evaluate_decision("points.dmn", text, "no_such_decision", {})


def _probe_process(session, attributes: str, data: dict | None = None):
    """Upload a one-step process with ATTRIBUTES on its DIC step, start it with DATA; its task row."""
    from factories import setup_people

    people = setup_people(session, ["STC"])
    body = (HEAD + '<bpmn:startEvent id="start" /><bpmn:userTask id="work" name="Duyệt" camunda:candidateGroups='
            f'"dic_officer" {attributes} /><bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" '
            'sourceRef="start" targetRef="work" /><bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
            + TAIL).replace('id="p"', 'id="assign_probe"')
    versions.upload(session, {"assign_probe.bpmn": body.encode()}, people["owner"], "probe")
    ctx = runtime.Context.create(session, people["owner"], NOW)
    instance, _ = runtime.start(ctx, definitions.latest_version(session, "assign_probe"), data or {}, "x", 2030)
    runtime.commit(ctx)
    row = session.query(HumanTask).filter_by(instance_id=instance.id).one()
    kinds = [e.kind for e in session.query(AuditEvent).filter_by(instance_id=instance.id).order_by(AuditEvent.id)]
    return people, row, kinds


def test_camunda_assignee_of_the_steps_role_puts_the_task_in_their_own_inbox(session):
    people, row, kinds = _probe_process(session, 'camunda:assignee="${reviewer}"', {"reviewer": "dic"})
    assert row.assignee_id == people["dic"].id
    assert "task_preassigned" in kinds
    from workflows import tasks
    assert [t.id for t in tasks.inbox(session, people["dic"], NOW.date())] == [row.id]
    # A step outside any lane: "why" names its group alone.
    assert tasks.task_page(session, row.id, people["dic"], NOW.date()).why.startswith(
        "Bước thuộc nhóm 'dic_officer'; bạn được giao theo vai trò Chuyên viên Sở TT&TT")


@pytest.mark.parametrize("assignee", ["demo", "stc_officer"])  # unknown here; outside the step's role
def test_camunda_assignee_who_may_not_act_leaves_the_task_with_the_role_and_says_why(session, assignee):
    people, row, kinds = _probe_process(session, f'camunda:assignee="{assignee}"')
    assert row.assignee_id is None
    event = session.query(AuditEvent).filter_by(instance_id=row.instance_id, kind="assignee_ignored").one()
    assert assignee in event.message and event.data == {"assignee": assignee}


def test_priority_and_follow_up_date_land_on_the_task_row(session):
    _, row, _ = _probe_process(session, 'camunda:priority="${urgent ? 90 : 50}" camunda:followUpDate="${remind_on}"',
                               {"urgent": True, "remind_on": "2030-01-20"})
    assert (row.priority, row.follow_up_on) == (90, dt.date(2030, 1, 20))


def test_a_step_without_priority_or_follow_up_leaves_them_unset(session):
    _, row, _ = _probe_process(session, "")
    assert (row.priority, row.follow_up_on) == (None, None)
