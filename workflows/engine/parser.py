"""Camunda 7 diagrams into SpiffWorkflow specs: the parser subclass and its task parsers.

SpiffWorkflow 3.2.0's Camunda parser ignores candidateGroups, dueDate and their kind, and its form objects lose their
validation when deserialised (docs/ENGINE.md, "Camunda 7 attributes"); `_UserTaskParser` keeps them in `extensions`.
Camunda semantics it lacks are added here: unquoted ISO timer values, pass-through `task`/`manualTask`, external
service and send tasks, lanes named after a role, `resultVariable`/`mapDecisionResult`. Refused constructs come from
workflows/engine/constructs.py, the table the validator reads too.
"""
from __future__ import annotations

import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.defaults import NoneTask, ScriptTask, ServiceTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser import event_parsers as _camunda_events  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import (  # type: ignore[import-untyped]
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    CallActivityParser,
    CamundaTaskParser,
    SubWorkflowParser,
    UserTaskParser,
)
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine  # type: ignore[import-untyped]

from workflows.engine.constructs import (
    AGGREGATIONS,
    ASSIGNMENT_ATTRIBUTES,
    HIT_POLICIES,
    KNOWN_ROLES,
    SCRIPT_TASK_REFUSAL,
    SERVICE_TASK_REFUSAL,
)
from workflows.engine.dmn import FeelDecisionEngine
from workflows.engine.io_mapping import (
    EXTENSION,
    MULTI_INSTANCE_OUTPUTS,
    BusinessRuleTask,
    CallActivity,
    InputOutputError,
    InputOutputMapping,
    UserTask,
    read_parameters,
)
from workflows.engine.xml import BPMN_MODEL_NS

CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"


# --- parsing -----------------------------------------------------------------------------------------------------


def captured_form(node: etree._Element) -> list[dict[str, Any]]:
    """camunda:formData as plain dicts; Spiff's own Form drops validation when deserialised."""
    fields = []
    for xml_field in node.iterfind(f".//{CAMUNDA}formData/{CAMUNDA}formField"):
        constraints = {
            c.get("name"): c.get("config") for c in xml_field.iterfind(f"{CAMUNDA}validation/{CAMUNDA}constraint")
        }
        properties = {
            p.get("id"): p.get("value") for p in xml_field.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property")
        }
        fields.append(
            {
                "id": xml_field.get("id"),
                "label": xml_field.get("label") or xml_field.get("id"),
                "type": xml_field.get("type") or "string",
                "default": xml_field.get("defaultValue"),
                "constraints": constraints,
                "properties": properties,
                "options": [(v.get("id"), v.get("name") or v.get("id")) for v in xml_field.iterfind(f"{CAMUNDA}value")],
            }
        )
    return fields


# Unquoted ISO-8601 timer values, as Camunda Modeler writes them: dates, durations and repeating intervals.
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
ISO_DURATION = r"P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?"
_ISO_CYCLE = rf"R\d*/(?:(?:{ISO_DATE})/)?{ISO_DURATION}(?:/{ISO_DATE})?"
TIMER_LITERALS = {"timeDate": ISO_DATE, "timeDuration": ISO_DURATION, "timeCycle": _ISO_CYCLE}


def timer_literal_kind(text: str | None) -> str | None:
    """The timer kind ("timeDate", "timeDuration", "timeCycle") whose ISO-8601 literal TEXT is, or None."""
    value = (text or "").strip()
    for kind, pattern in TIMER_LITERALS.items():
        if re.fullmatch(pattern, value):
            return kind
    return None


def timer_literal_error(kind: str, text: str) -> str | None:
    """Why the ISO-8601 literal TEXT cannot be the value of a KIND timer, or None when the engine can run it."""
    value = text.strip()
    if timer_literal_kind(value) != kind:
        return f"'{value}' is not an ISO-8601 {kind} value"
    try:
        if kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # noqa: BLE001 - Spiff raises bare Exception for bad values
        return f"'{value}' cannot be read: {exc}"
    return None


def timer_expression(text: str | None) -> str:
    """What the sandbox evaluates for a timer: an ISO literal becomes a quoted string, anything else stays as written.

    Spiff evaluates timer text as an expression (docs/ENGINE.md, "Timers"), so Camunda's unquoted `PT30M` would be an
    unknown name.
    """
    value = (text or "").strip()
    return repr(value) if timer_literal_kind(value) else value


class _TimerLiterals:
    """Mixed into each Camunda event parser: timer values go through timer_expression()."""

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        definition.expression = timer_expression(definition.expression)
        return definition


def _with_timer_literals(parser_class: type) -> type:
    return type(f"_{parser_class.__name__}", (_TimerLiterals, parser_class), {})


def lane_role(lane: etree._Element) -> str | None:
    """The role a lane stands for: a `role` property, else its id (after `lane_`) or its name naming a known role."""
    for prop in lane.iterfind(f"{{{BPMN_MODEL_NS}}}extensionElements/{CAMUNDA}properties/{CAMUNDA}property"):
        if prop.get("name") == "role" and prop.get("value"):
            return prop.get("value").strip()
    for candidate in (re.sub(r"^lane_", "", lane.get("id") or "", flags=re.IGNORECASE), lane.get("name") or ""):
        key = re.sub(r"[\s-]+", "_", candidate.strip()).lower()
        if key in KNOWN_ROLES:
            return key
    return None


def lane_of(node: etree._Element) -> etree._Element | None:
    """The innermost lane holding flow node NODE, or None."""
    lanes = node.getroottree().getroot().xpath(
        ".//bpmn:lane[bpmn:flowNodeRef[normalize-space(.)=$id]]", namespaces={"bpmn": BPMN_MODEL_NS},
        id=node.get("id") or "")
    return lanes[-1] if lanes else None  # child lane sets follow their parent lane in document order


class _UserTaskParser(UserTaskParser):
    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)
        for name in ASSIGNMENT_ATTRIBUTES:
            value = self.node.get(f"{CAMUNDA}{name}")
            if value is not None:
                extensions[f"camunda:{name}"] = value
        form_key = self.node.get(f"{CAMUNDA}formKey")
        if form_key:
            extensions["camunda:formKey"] = form_key
        extensions["camunda:formData"] = captured_form(self.node)
        lane = lane_of(self.node)
        role = lane_role(lane) if lane is not None else None
        if role:
            extensions["lane:role"] = role
        return extensions


class ExternalTask(InputOutputMapping, ServiceTask):
    """A service task done by the application: it waits (manual) until Run.advance hands it to a handler."""

    def _execute(self, task: Any) -> bool:
        return True  # the handler already did the work; None would leave the task STARTED forever


class PassThroughTask(InputOutputMapping, NoneTask):
    """`bpmn:task` and `bpmn:manualTask`: Camunda 7 passes through them; Spiff would wait for someone to run them."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class _ExternalTaskParser(TaskParser):
    """`camunda:type="external"` service and send tasks become wait states that the application completes."""

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions = {
            p.get("name"): p.get("value")
            for p in self.xpath(".//bpmn:extensionElements/camunda:properties/camunda:property")
        }
        for name in ("type", "topic", "class", "expression", "delegateExpression"):
            value = self.node.get(f"{CAMUNDA}{name}")
            if value is not None:
                extensions[f"camunda:{name}"] = value
        return extensions

    def create_task(self) -> Any:
        if self.node.get(f"{CAMUNDA}type") != "external" or not self.node.get(f"{CAMUNDA}topic"):
            self.raise_validation_exception(SERVICE_TASK_REFUSAL)
        task = super().create_task()
        task.manual = True
        return task


class _ScriptTaskParser(TaskParser):
    def create_task(self) -> Any:
        self.raise_validation_exception(SCRIPT_TASK_REFUSAL)


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    def create_task(self) -> Any:
        decision_ref = self.get_decision_ref(self.node)  # Spiff's own names its class instead of spec_class
        return self.spec_class(self.spec, self.bpmn_id, **self.bpmn_attributes,
                               dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node))

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions = {**super().parse_extensions(node), "camunda:decisionRef": self.node.get(f"{CAMUNDA}decisionRef")}
        for name in ("resultVariable", "mapDecisionResult"):
            value = self.node.get(f"{CAMUNDA}{name}")
            if value:
                extensions[f"camunda:{name}"] = value
        return extensions


class _InputOutput:
    """Mixed into the parser of each element that may carry camunda:inputOutput: kept in the spec's extensions."""

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)  # type: ignore[misc]
        try:
            parameters = read_parameters(self.node)  # type: ignore[attr-defined]
        except InputOutputError as exc:
            self.raise_validation_exception(f"Input/output parameters: {exc}")  # type: ignore[attr-defined]
        if parameters is not None:
            if parameters["outputs"] and self.node.find(  # type: ignore[attr-defined]
                    f"{{{BPMN_MODEL_NS}}}multiInstanceLoopCharacteristics") is not None:
                self.raise_validation_exception(MULTI_INSTANCE_OUTPUTS)  # type: ignore[attr-defined]
            extensions[EXTENSION] = parameters
        return extensions


class _CollectionLoop:
    """Mixed into each task parser: a camunda:collection loop names its collection and element variable in the spec.

    Spiff's Camunda multi-instance task fills them in only when the loop starts, on the spec object; a spec rebuilt
    for a later load lacked them, so a parallel loop appended its results to the collection instead of writing each
    item back in place, and a sequential loop stopped after its first instance.
    """

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        super()._add_multiinstance_task(loop_characteristics)  # type: ignore[misc]
        task = self.task  # type: ignore[attr-defined]
        if task.cardinality is None and task.data_output is not None and task.output_item is not None:
            task.data_input = TaskDataReference(task.data_output.bpmn_id)
            task.input_item = TaskDataReference(task.output_item.bpmn_id)


def _with_io(parser_class: type) -> type:
    return type(f"_{parser_class.__name__.lstrip('_')}WithIo", (_InputOutput, _CollectionLoop, parser_class), {})


_CAMUNDA_EVENTS = {
    "startEvent": _camunda_events.CamundaStartEventParser,
    "endEvent": _camunda_events.CamundaEndEventParser,
    "intermediateCatchEvent": _camunda_events.CamundaIntermediateCatchEventParser,
    "intermediateThrowEvent": _camunda_events.CamundaIntermediateThrowEventParser,
    "boundaryEvent": _camunda_events.CamundaBoundaryEventParser,
}


class Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        **{full_tag(tag): (_with_timer_literals(parser), CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][1])
           for tag, parser in _CAMUNDA_EVENTS.items()},
        full_tag("userTask"): (_with_io(_UserTaskParser), UserTask),
        full_tag("serviceTask"): (_with_io(_ExternalTaskParser), ExternalTask),
        full_tag("sendTask"): (_with_io(_ExternalTaskParser), ExternalTask),
        full_tag("scriptTask"): (_ScriptTaskParser, ScriptTask),
        full_tag("businessRuleTask"): (_with_io(_BusinessRuleTaskParser), BusinessRuleTask),
        full_tag("task"): (_with_io(CamundaTaskParser), PassThroughTask),
        full_tag("manualTask"): (_with_io(CamundaTaskParser), PassThroughTask),
        full_tag("subProcess"): (_with_io(SubWorkflowParser), CallActivity),
        full_tag("callActivity"): (_with_io(CallActivityParser), CallActivity),
    }

    def get_engine(self, decision_ref: str, node: Any) -> DMNEngine:
        table = super().get_engine(decision_ref, node).decision_table
        dmn = self.dmn_parsers[decision_ref]
        table_node = dmn.node.find(".//{*}decision/{*}decisionTable")
        aggregation = (table_node.get("aggregation") or "").strip().upper() if table_node is not None else ""
        if table.hit_policy not in HIT_POLICIES:
            raise ValidationException(
                f"Hit policy {table.hit_policy} is not supported; use one of {', '.join(HIT_POLICIES)}",
                node=table_node, file_name=dmn.filename)
        if aggregation:
            if table.hit_policy != "COLLECT" or aggregation not in AGGREGATIONS:
                raise ValidationException(f"Aggregation {aggregation} is only possible with hit policy COLLECT and "
                                          f"one of {', '.join(AGGREGATIONS)}", node=table_node, file_name=dmn.filename)
            table.hit_policy = f"COLLECT {aggregation}"
        return FeelDecisionEngine(table)

