"""Which item of its loop a task works on: engine side (run.instance_item) and how it reads (instance_items.shown)."""
from __future__ import annotations

from workflows import engine
from workflows.instance_items import InstanceItem, shown

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:process id="p" isExecutable="true">')
TAIL = "</bpmn:process></bpmn:definitions>"
# A sequential loop over sections whose every instance is an embedded sub-process with a user task inside.
SUB = """<bpmn:startEvent id="s" />
<bpmn:subProcess id="each" name="Từng mục">
  <bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="sections"
      camunda:elementVariable="section" />
  <bpmn:startEvent id="s2" />
  <bpmn:userTask id="inner" name="Viết mục" camunda:candidateGroups="dic_officer" />
  <bpmn:endEvent id="e2" />
  <bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="inner" />
  <bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="e2" />
</bpmn:subProcess>
<bpmn:userTask id="after" name="Sau vòng lặp" camunda:candidateGroups="dic_officer" />
<bpmn:endEvent id="e" />
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="each" />
<bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="after" />
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e" />"""


def test_a_task_inside_a_multi_instance_sub_process_takes_the_loops_item_across_saves():
    spec = engine.compile_files({"p.bpmn": (HEAD + SUB + TAIL).encode()})["p"].spec_json
    run = engine.Run.start(spec, {"sections": ["Mục 1", {"code": "STC"}]})
    run.advance()
    seen = []
    while not run.is_completed:
        run = engine.Run.load(spec, run.dumps())  # every action loads the instance afresh
        [view] = run.ready_user_tasks()
        seen.append((view.step_id, view.instance_item))
        run.complete(view.uuid, {})
        run.advance()
    assert seen == [("inner", {"variable": "section", "value": "Mục 1"}),
                    ("inner", {"variable": "section", "value": {"code": "STC"}}), ("after", None)]


def test_a_unit_code_reads_as_the_units_name_and_anything_else_as_text():
    names = {"STC": "Sở Tài chính"}
    assert shown({"variable": "unit", "value": "STC"}, names) == InstanceItem("unit", "STC", "Sở Tài chính", True)
    assert shown({"variable": "section", "value": "Mục 1"}, names) == InstanceItem("section", "Mục 1", "Mục 1", False)
    assert shown({"variable": "n", "value": {"a": 1}}, names).text == '{"a": 1}'
    assert shown({"variable": "n", "value": None}, names).text == "—"
    assert shown(None, names) is None
