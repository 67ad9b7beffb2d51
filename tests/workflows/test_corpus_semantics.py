"""Camunda 7 semantics as a Camunda 7 user expects them: conditions, timers, assignment, decision results,
hit policies.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState as SpiffTaskState  # type: ignore[import-untyped]
from test_corpus import NOW
from test_validation import english  # noqa: F401 - the fixture

from workflows import definitions, engine, runtime, validation, versions
from workflows.errors import DefinitionInvalid, EngineError
from workflows.models import AuditEvent, HumanTask

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
