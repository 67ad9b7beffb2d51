"""Checks of every element of every process: what the engine runs, what it refuses, and Camunda extensions.

Which constructs are refused comes from workflows/engine/constructs.py, the table the engine's parser reads too.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from workflows import engine
from workflows.engine import io_mapping
from workflows.engine.constructs import (
    CAMUNDA_ATTRIBUTES,
    CAMUNDA_ATTRIBUTES_REFUSED,
    CAMUNDA_ELEMENTS_OK,
    CAMUNDA_ELEMENTS_REFUSED,
    CAMUNDA_HARMLESS,
    EVENT_DEFINITIONS,
    FLOW_NODES,
    INPUT_OUTPUT_OWNERS,
    STRUCTURE,
    UNSUPPORTED,
    UNSUPPORTED_EVENTS,
)
from workflows.validation.expressions import check_loop, check_timerEventDefinition
from workflows.validation.report import Problem, problem
from workflows.validation.tasks import (
    ROLES,
    check_businessRuleTask,
    check_callActivity,
    check_event,
    check_exclusiveGateway,
    check_sequenceFlow,
    check_serviceTask,
    check_subProcess,
    check_userTask,
    known_topics,
)
from workflows.validation.xmltools import (
    BPMN,
    CAMUNDA,
    SPIFF,
    ZEEBE,
    children,
    declared,
    event_kinds,
    local_name,
    namespace_of,
    owner_of,
)

# The check of each BPMN element that has one of its own.
ELEMENT_CHECKS: dict[str, Callable[[str, Any], Iterator[Problem]]] = {
    "userTask": check_userTask, "serviceTask": check_serviceTask, "sendTask": check_serviceTask,
    "businessRuleTask": check_businessRuleTask, "callActivity": check_callActivity, "subProcess": check_subProcess,
    "exclusiveGateway": check_exclusiveGateway, "inclusiveGateway": check_exclusiveGateway,
    "sequenceFlow": check_sequenceFlow, "timerEventDefinition": check_timerEventDefinition,
}


def check_bpmn_file(name: str, root: Any) -> Iterator[Problem]:
    """Every process of the BPMN file NAME, element by element."""
    for process in children(root, "process"):
        yield from _check_process(name, process)


def _check_process(name: str, process: Any) -> Iterator[Problem]:
    known = declared(process.getroottree().getroot())
    yield from _check_lanes(name, process)
    starts = [el for el in children(process, "startEvent") if not event_kinds(el)]
    triggered = [el for el in children(process, "startEvent") if event_kinds(el)]
    # A process started only by a timer or a message already has its own message (start_trigger): say it once.
    if process.get("isExecutable") == "true" and len(starts) != 1 and not (triggered and not starts):
        yield problem("no_start", name, process, count=len(starts))
    for element in process.iter():
        if not isinstance(element.tag, str) or element is process:
            continue
        namespace, tag = namespace_of(element), local_name(element)
        if namespace == BPMN:
            yield from _check_bpmn_element(name, element, tag, known)
        elif namespace == CAMUNDA:
            yield from _check_camunda_element(name, element, tag)
        elif namespace == SPIFF:
            owner = owner_of(element)
            if tag in ("preScript", "postScript", "script"):
                yield problem("script", name, owner, line=element.sourceline, what=f"spiffworkflow:{tag}")
            elif local_name(element.getparent()) == "extensionElements":
                yield problem("spiff_extension", name, owner, line=element.sourceline, what=tag)
        elif local_name(element.getparent()) == "extensionElements":
            yield problem("ignored_extension", name, owner_of(element), line=element.sourceline,
                          what=etree.QName(element).text, severity="warning")
        yield from _check_camunda_attributes(name, element, tag if namespace == BPMN else "")


def _check_lanes(name: str, process: Any) -> Iterator[Problem]:
    for lane in process.iter(f"{{{BPMN}}}lane"):
        role = engine.lane_role(lane)
        if role is not None and role not in engine.KNOWN_ROLES:
            yield problem("unknown_lane_role", name, lane, role=role, roles=", ".join(ROLES))


def _check_bpmn_element(name: str, element: Any, tag: str, known: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    if tag in UNSUPPORTED:
        if tag == "scriptTask":
            yield problem("script_task", name, element)
        elif tag == "script":
            if local_name(element.getparent()) != "scriptTask":
                yield problem("script", name, owner_of(element), line=element.sourceline, what="bpmn:script")
        else:
            owner = element if element.get("id") else element.getparent()
            yield problem("unsupported_element", name, owner, line=element.sourceline, what=UNSUPPORTED[tag])
        return
    if element.get("isForCompensation") == "true":
        yield problem("unsupported_element", name, element, what="compensation")
    if tag in EVENT_DEFINITIONS and EVENT_DEFINITIONS[tag] in UNSUPPORTED_EVENTS:
        yield problem("unsupported_event", name, element.getparent(), line=element.sourceline,
                      what=EVENT_DEFINITIONS[tag])
        return
    if tag not in FLOW_NODES and tag not in STRUCTURE and tag not in EVENT_DEFINITIONS:
        yield problem("unsupported_element", name, element, what=f"bpmn:{tag}")
        return
    check = ELEMENT_CHECKS.get(tag)
    if check is not None:
        yield from check(name, element)
    if tag in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "startEvent", "endEvent",
               "receiveTask"):
        yield from check_event(name, element, tag, known)
    if tag in FLOW_NODES and (tag.endswith("Task") or tag in ("callActivity", "subProcess", "task")):
        yield from check_loop(name, element)


def _check_camunda_element(name: str, element: Any, tag: str) -> Iterator[Problem]:
    owner = owner_of(element)
    if tag in CAMUNDA_ELEMENTS_REFUSED:
        code = CAMUNDA_ELEMENTS_REFUSED[tag]
        what = {"executionListener": "execution listener", "taskListener": "task listener"}.get(tag, tag)
        if code == "java_code":
            yield problem(code, name, owner, line=element.sourceline, what=f"camunda:{tag}", topics=known_topics())
        elif code == "script":
            yield problem(code, name, owner, line=element.sourceline, what="camunda:script")
        else:
            yield problem(code, name, owner, line=element.sourceline, what=what)
    elif tag not in CAMUNDA_ELEMENTS_OK:
        yield problem("camunda_extension", name, owner, line=element.sourceline, what=tag)
    elif tag in ("in", "out"):
        yield from _check_mapping(name, element, owner, tag)
    elif tag == "inputOutput":
        yield from _check_input_output(name, element, owner)


def _check_input_output(name: str, element: Any, owner: Any) -> Iterator[Problem]:
    if local_name(owner) not in INPUT_OUTPUT_OWNERS:
        yield problem("input_output", name, owner, line=element.sourceline,
                      detail="only tasks, sub-processes and call activities")
        return
    if owner.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics") is not None:  # inputs run once per instance
        for output in element.iterfind(f"{{{CAMUNDA}}}outputParameter"):
            yield problem("mi_output", name, owner, line=output.sourceline,
                          parameter=output.get("name") or "")
    if element.find(f".//{{{CAMUNDA}}}script") is not None:
        return  # the script is refused on its own, naming the element
    try:
        parameters = io_mapping.read_parameters(owner) or {"inputs": [], "outputs": []}
    except io_mapping.InputOutputError as exc:
        yield problem("input_output", name, owner, line=element.sourceline, detail=str(exc))
        return
    for kind in ("inputs", "outputs"):
        for parameter, value in parameters[kind]:
            try:
                io_mapping.check(value)
            except engine.expressions.ExpressionError as exc:
                yield problem("expression", name, owner, line=element.sourceline, where=parameter, detail=str(exc))


def _check_mapping(name: str, element: Any, owner: Any, tag: str) -> Iterator[Problem]:
    if element.get("variables") == "all" or element.get("businessKey") is not None:
        return
    source, target = element.get("source"), element.get("target")
    if element.get("sourceExpression") is not None or not source or source != target or element.get("local"):
        text = " ".join(f'{k}="{v}"' for k, v in element.attrib.items())
        yield problem("call_mapping", name, owner, line=element.sourceline, detail=f"camunda:{tag} {text}")


def _check_camunda_attributes(name: str, element: Any, tag: str) -> Iterator[Problem]:
    for attribute, value in element.attrib.items():
        qname = etree.QName(attribute)
        if qname.namespace == ZEEBE:
            continue  # reported with the whole file
        if qname.namespace == SPIFF:
            yield problem("spiff_extension", name, element, what=qname.localname)
            continue
        if qname.namespace != CAMUNDA:
            continue
        local = qname.localname
        if local in CAMUNDA_HARMLESS or local in CAMUNDA_ATTRIBUTES.get(tag, ()):
            continue
        if local in CAMUNDA_ATTRIBUTES_REFUSED:
            code, why = CAMUNDA_ATTRIBUTES_REFUSED[local]
            if code == "java_code":
                yield problem(code, name, owner_of(element), what=f"{why}=\"{value}\"", topics=known_topics())
            elif code == "form_key":
                yield problem(code, name, element, key=f"camunda:formRef {value}")
            else:
                yield problem(code, name, element, what=local, why=why)
        elif tag == "messageEventDefinition" and local in ("type", "topic", "resultVariable"):
            continue  # a message thrown is refused on its own
        else:
            yield problem("ignored_extension", name, element, what=f"camunda:{local}", severity="warning")
