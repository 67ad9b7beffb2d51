"""Checks of tasks, gateways, flows and events: roles, forms, topics, decisions, called processes, messages."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from workflows import engine, steps, topics
from workflows.engine.constructs import DECISION_RESULT_MAPPINGS, EVENT_DEFINITIONS, JAVA_ATTRIBUTES, KNOWN_ROLES
from workflows.messages import Text
from workflows.validation.expressions import check_expression, check_task_date
from workflows.validation.messages import ASSIGNEE_IS_ONE_PERSON, LANE_ROLE
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import (
    BPMN,
    CAMUNDA,
    IDENTIFIER,
    camunda,
    children,
    event_kinds,
    label_of,
    local_name,
    signal_name,
    text_of,
    wrapped,
)

ROLES = sorted(KNOWN_ROLES)
KNOWN_MESSAGES = frozenset(topics.DELIVERED_MESSAGES)  # the messages the application itself delivers
KNOWN_TOPICS = frozenset(topics.HANDLERS)
KNOWN_STEP_FORMS = frozenset(steps.HANDLERS)
FORM_FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
CONSTRAINTS = {"required": None, "readonly": None, "min": "long", "max": "long", "minlength": "string",
               "maxlength": "string"}


def known_topics() -> str:
    return ", ".join(sorted(KNOWN_TOPICS))


def check_userTask(name: str, task: Any) -> Iterator[Problem]:
    yield from check_role(name, task)
    assignee = camunda(task, "assignee")
    if assignee and wrapped(assignee):
        yield from check_expression(name, task, assignee, "assignee")
    for user in (camunda(task, "candidateUsers") or "").split(","):
        if user.strip() and ("{" in user or "(" in user):
            yield from check_expression(name, task, camunda(task, "candidateUsers") or "", "candidateUsers")
            break
    if (camunda(task, "candidateUsers") or "").strip():
        groups = (camunda(task, "candidateGroups") or "").strip()
        yield problem("candidate_users_ignored", name, task, group=groups or Text(LANE_ROLE), severity="warning")
    for attribute in ("dueDate", "followUpDate"):
        value = camunda(task, attribute)
        if value is not None:
            yield from check_task_date(name, task, attribute, value)
    priority = camunda(task, "priority")
    if priority is not None and not re.fullmatch(r"\s*-?\d+\s*", priority):
        if wrapped(priority):
            yield from check_expression(name, task, priority, "priority")
        else:
            yield problem("priority", name, task, value=priority)
    for prop in task.iterfind(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property"):
        working_due_date = (prop.get("value") or "").strip().lower() == "true" and camunda(task, "dueDate")
        if prop.get("name") == "dueInWorkingDays" and not working_due_date and \
                not re.fullmatch(r"\d{1,3}", (prop.get("value") or "")):
            yield problem("property_number", name, task, what="dueInWorkingDays", value=prop.get("value"))
    yield from check_form(name, task)
    for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
        if boundary.get("attachedToRef") == task.get("id"):
            yield from check_boundary_target(name, boundary, task)


def check_role(name: str, task: Any) -> Iterator[Problem]:
    raw = camunda(task, "candidateGroups")
    if raw is not None and raw.strip():
        if "{" in raw or "(" in raw:
            yield problem("group_expression", name, task)
            return
        for group in (g.strip() for g in raw.split(",")):
            if group and group not in KNOWN_ROLES:
                yield problem("unknown_group", name, task, group=group, roles=", ".join(ROLES))
        return
    lane = engine.lane_of(task)
    if lane is not None and engine.lane_role(lane) in KNOWN_ROLES:
        return
    assignee = camunda(task, "assignee")
    yield problem("no_role", name, task, roles=", ".join(ROLES),
                  assignee=Text(ASSIGNEE_IS_ONE_PERSON, assignee=assignee) if assignee else "")


def check_form(name: str, element: Any) -> Iterator[Problem]:
    key = camunda(element, "formKey")
    if key:
        if key.startswith(steps.FORM_KEY_PREFIX):
            if key not in KNOWN_STEP_FORMS:
                yield problem("unknown_step_form", name, element, key=key, known=", ".join(sorted(KNOWN_STEP_FORMS)))
        else:
            yield problem("form_key", name, element, key=key)
    fields = element.findall(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData/{{{CAMUNDA}}}formField")
    seen: set[str] = set()
    for form_field in fields:
        for detail in form_field_problems(form_field, seen):
            yield problem("form_field", name, element, line=form_field.sourceline, field=form_field.get("id") or "?",
                          detail=detail)
        for attribute, where in (("defaultValue", "defaultValue"),):
            value = form_field.get(attribute)
            if value and wrapped(value):
                yield from check_expression(name, element, value, where, line=form_field.sourceline)
        for prop in form_field.iterfind(f"{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property"):
            if prop.get("id") == "requiredWhen":
                yield from check_expression(name, element, prop.get("value") or "", "requiredWhen",
                                      line=prop.sourceline)
    if fields and local_name(element) == "startEvent":
        yield problem("start_form", name, element, severity="warning")


def check_boundary_target(name: str, boundary: Any, task: Any) -> Iterator[Problem]:
    for definition in boundary:
        kind = EVENT_DEFINITIONS.get(local_name(definition))
        if kind in ("error", "escalation"):
            yield problem("boundary_on_task", name, boundary, what=kind, task=task.get("name") or task.get("id"))


def check_serviceTask(name: str, task: Any) -> Iterator[Problem]:
    if any(camunda(task, a) for a in JAVA_ATTRIBUTES) or \
            task.find(f".//{{{CAMUNDA}}}connector") is not None:
        return  # reported as Java code with the attribute or element
    if camunda(task, "type") != "external" or not (camunda(task, "topic") or "").strip():
        yield problem("not_external", name, task, topics=known_topics())
    elif camunda(task, "topic") not in KNOWN_TOPICS:
        yield problem("unknown_topic", name, task, topic=camunda(task, "topic"), topics=known_topics())
    for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
        if boundary.get("attachedToRef") == task.get("id"):
            yield from check_boundary_target(name, boundary, task)


def check_businessRuleTask(name: str, task: Any) -> Iterator[Problem]:
    if any(camunda(task, a) for a in (*JAVA_ATTRIBUTES, "type")):
        if camunda(task, "type"):
            yield problem("java_code", name, task, what=f"camunda:type=\"{camunda(task, 'type')}\"",
                          topics=known_topics())
        return
    ref = camunda(task, "decisionRef")
    if not ref:
        yield problem("decision_missing", name, task, ref="")
        return
    if wrapped(ref):
        yield problem("binding", name, task, what="decisionRef", value=ref)
        return
    for attribute in ("decisionRefBinding",):
        if (camunda(task, attribute) or "deployment") not in ("deployment", "latest"):
            yield problem("binding", name, task, what=attribute, value=camunda(task, attribute))
    result_variable = camunda(task, "resultVariable")
    mapping = camunda(task, "mapDecisionResult") or "resultList"
    if mapping not in DECISION_RESULT_MAPPINGS:
        yield problem("camunda_attribute", name, task, what="mapDecisionResult",
                      why=f"use one of {', '.join(DECISION_RESULT_MAPPINGS)}")
    if result_variable is not None and not IDENTIFIER.fullmatch(result_variable):
        yield problem("camunda_attribute", name, task, what="resultVariable", why="it must be a variable name")
    for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
        if boundary.get("attachedToRef") == task.get("id"):
            yield from check_boundary_target(name, boundary, task)


def check_callActivity(name: str, task: Any) -> Iterator[Problem]:
    ref = task.get("calledElement")
    if not ref:
        yield problem("called_missing", name, task, ref="")
        return
    if wrapped(ref):
        yield problem("binding", name, task, what="calledElement", value=ref)
        return
    binding = camunda(task, "calledElementBinding") or "latest"
    if binding not in ("latest", "deployment"):
        yield problem("binding", name, task, what="calledElementBinding", value=binding)


def check_subProcess(name: str, element: Any) -> Iterator[Problem]:
    if element.get("triggeredByEvent") == "true":
        yield problem("event_subprocess", name, element)


def check_exclusiveGateway(name: str, gateway: Any) -> Iterator[Problem]:
    process = gateway.getparent()
    outgoing = [flow for flow in children(process, "sequenceFlow") if flow.get("sourceRef") == gateway.get("id")]
    if len(outgoing) < 2:
        return
    for flow in outgoing:
        if flow.find(f"{{{BPMN}}}conditionExpression") is None and flow.get("id") != gateway.get("default"):
            yield problem("gateway_no_condition", name, gateway, flow=label_of(flow), severity="warning")


def check_sequenceFlow(name: str, flow: Any) -> Iterator[Problem]:
    condition = flow.find(f"{{{BPMN}}}conditionExpression")
    if condition is None:
        return
    language = (condition.get("language") or "").strip().lower()
    if language and language not in ("juel", "${}", "http://www.omg.org/spec/bpmn/20100524/model"):
        yield problem("condition_language", name, flow, line=condition.sourceline, what=condition.get("language"))
        return
    if camunda(condition, "resource"):
        return  # reported as an attribute
    source = next((el for el in flow.getparent() if isinstance(el.tag, str) and el.get("id") == flow.get(
        "sourceRef")), None)
    if source is None or local_name(source) not in ("exclusiveGateway", "inclusiveGateway"):
        yield problem("condition_ignored", name, flow, line=condition.sourceline, flow=label_of(flow))
        return
    yield from check_expression(name, flow, text_of(condition), "condition", line=condition.sourceline)


def check_event(name: str, event: Any, tag: str, declared: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    kinds = event_kinds(event)
    throwing = tag in ("intermediateThrowEvent", "endEvent")
    if tag == "startEvent":
        yield from check_form(name, event)
        if kinds and local_name(event.getparent()) == "process":
            yield problem("start_trigger", name, event, what=", ".join(kinds),
                          template="start_timer" if kinds == ["timer"] else None)
            return
    definitions = [d for d in event if local_name(d) in EVENT_DEFINITIONS]
    if tag == "receiveTask":
        definitions = [event]
        kinds = ["message"]
    for definition, kind in zip(definitions, kinds, strict=False):
        ref_attribute = {"message": "messageRef", "signal": "signalRef", "error": "errorRef",
                         "escalation": "escalationRef"}.get(kind)
        ref = definition.get(ref_attribute) if ref_attribute else None
        if ref is not None and ref not in declared[kind]:
            yield problem("ref_missing", name, event, what=kind, ref=ref)
            continue
        if kind == "message":
            if throwing:
                yield problem("message_throw", name, event)
                continue
            message = declared["message"].get(ref) if ref else None
            message_name = (message.get("name") if message is not None else None) or event.get("name")
            if message_name not in KNOWN_MESSAGES:
                yield problem("message_unknown", name, event, name=message_name or "",
                              known=", ".join(sorted(KNOWN_MESSAGES)))
        elif kind == "signal":
            if throwing:  # a caught signal is matched across files by check_references
                signal = signal_name(event.getroottree().getroot(), definition)
                yield problem("signal_throw", name, event, name=signal or "", severity="warning")


def form_field_problems(form_field: Any, seen: set[str]) -> Iterable[Text]:
    """What is wrong with one camunda:formField, one sentence each."""
    ident = form_field.get("id") or ""
    kind = form_field.get("type") or "string"
    if not IDENTIFIER.fullmatch(ident) or ident.startswith("_"):
        yield Text("mã trường phải là tên biến (chữ, số, gạch dưới; không bắt đầu bằng số hay '_').")
    if ident in seen:
        yield Text("mã trường bị trùng.")
    seen.add(ident)
    if kind not in FORM_FIELD_TYPES:
        yield Text("kiểu '{kind}' không được hỗ trợ; dùng {types}.", kind=kind, types=", ".join(FORM_FIELD_TYPES))
        return
    options = form_field.findall(f"{{{CAMUNDA}}}value")
    if kind == "enum":
        ids = [o.get("id") or "" for o in options]
        if not ids:
            yield Text("trường kiểu enum cần ít nhất một giá trị.")
        if len(set(ids)) != len(ids) or "" in ids:
            yield Text("các giá trị của enum cần mã khác nhau, không để trống.")
    elif options:
        yield Text("chỉ trường kiểu enum mới có danh sách giá trị.")
    for constraint in form_field.iterfind(f"{{{CAMUNDA}}}validation/{{{CAMUNDA}}}constraint"):
        cname, config = constraint.get("name") or "", constraint.get("config")
        if cname not in CONSTRAINTS:
            yield Text("ràng buộc '{name}' không được hỗ trợ; dùng {known}.", name=cname, known=", ".join(CONSTRAINTS))
            continue
        needed = CONSTRAINTS[cname]
        if needed is None:
            continue
        if needed != kind:
            yield Text("ràng buộc '{name}' chỉ dùng cho trường kiểu {kind}.", name=cname, kind=needed)
        elif config is None or not re.fullmatch(r"-?\d{1,15}", config.strip()):
            yield Text("ràng buộc '{name}' cần một số nguyên (Config), không phải '{config}'.", name=cname,
                       config=config or "")
    default = form_field.get("defaultValue")
    if default is not None and default.strip() and not wrapped(default):
        allowed = {o.get("id") for o in options}
        bad = (kind == "long" and not re.fullmatch(r"\s*-?\d+\s*", default)) or \
              (kind == "boolean" and default.strip().lower() not in ("true", "false")) or \
              (kind == "enum" and default not in allowed) or \
              (kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}", default.strip()))
        if bad:
            yield Text("giá trị mặc định '{default}' không hợp với kiểu {kind}.", default=default, kind=kind)
