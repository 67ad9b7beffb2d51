"""The only module that imports SpiffWorkflow: parsing, the sandbox, DMN evaluation, and load/run/save of instances.

Why each piece exists (see ../shared/SPIFFWORKFLOW-NOTES.md):
- Our diagrams are Camunda 7 files, so we parse with CamundaParser, but 3.2.0 ignores candidateGroups, dueDate and
  friends (§1.4) and loses form validation on deserialisation; `_UserTaskParser` captures them into `extensions`.
- SpiffWorkflow evaluates every expression with plain eval (§9). `_SandboxEnvironment` routes them through
  workflows.expressions, a whitelisting interpreter, and refuses scripts outright.
- SpiffWorkflow's DMN engine reads cells as Python and ignores hit policies (§6). `_FeelDecisionEngine` evaluates
  FEEL unary tests and enforces UNIQUE/FIRST/ANY/RULE ORDER/COLLECT, and survives serialisation via its converter.
- External service tasks (`camunda:type="external"`) wait like user tasks; `Run.advance` hands them to the caller's
  handler, so the application (with its database session) does the work and the engine stays pure.
- Camunda 7 semantics SpiffWorkflow lacks (§1.4, §6, §7): unquoted ISO timer values (`PT30M`, `P5D`, a date) are
  literals, anything else is a sandboxed expression; `bpmn:task` and `manualTask` pass through as Camunda runs them;
  `sendTask` is an external task; a lane named after a role routes its user tasks; `camunda:resultVariable` with
  `mapDecisionResult` and COLLECT aggregations (SUM/MIN/MAX/COUNT) work as in Camunda.
- Migration of a running instance uses SpiffWorkflow's own diff/migrate utilities, and only where every step the
  instance stands at still exists (notes §8, §11: restoring against a changed spec crashes).
"""
from __future__ import annotations

import copy
import datetime as _dt
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from uuid import UUID

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module  # type: ignore[import-untyped]
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator, full_tag  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.script_engine.python_environment import (  # type: ignore[import-untyped]
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.defaults import NoneTask, ScriptTask, ServiceTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser import event_parsers as _camunda_events  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import (  # type: ignore[import-untyped]
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    CamundaTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.user_task import UserTask  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as _DMN_SCHEMAS  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter  # type: ignore[import-untyped]
from SpiffWorkflow.exceptions import SpiffWorkflowException  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

from workflows import expressions, feel
from workflows.errors import DefinitionInvalid, EngineError
from workflows.models import Role

CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"
ASSIGNMENT_ATTRIBUTES = ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority")
MAX_FILE_BYTES = 2_000_000
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
KNOWN_ROLES = frozenset(role.value for role in Role)
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "RULE ORDER", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
DECISION_RESULT_MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


# --- sandbox ----------------------------------------------------------------------------------------------------


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates diagram expressions with workflows.expressions; runs no scripts at all."""

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Mapping | None = None) -> Any:
        variables = {**context, **(external_context or {})}
        return expressions.evaluate(expression, variables)

    def execute(self, script: str, context: Mapping[str, Any], external_context: Mapping | None = None) -> Any:
        # ValueError, not SyntaxError: Spiff's error formatter crashes on a SyntaxError without a line number.
        raise ValueError("Script tasks are not allowed in this system")

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise ValueError("Service calls run only as external tasks")


class _SandboxScriptEngine(PythonScriptEngine):
    def validate(self, expression: str) -> None:
        expressions.check(expression)


_script_engine = _SandboxScriptEngine(environment=_SandboxEnvironment())


# --- DMN ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchedRule:
    row: int
    rule_id: str
    description: str
    outputs: dict[str, Any]


class _FeelDecisionEngine(DMNEngine):
    """Decision tables as Camunda evaluates them: FEEL unary tests and real hit policies.

    A COLLECT table with an aggregation carries it in its hit policy ("COLLECT SUM"), so it survives serialisation.
    """

    def evaluate_table(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[MatchedRule]]:
        table = self.decision_table
        inputs = [
            expressions.evaluate(i.expression or i.label, data, dialect="feel") for i in table.inputs
        ]
        matched: list[MatchedRule] = []
        for rule in table.rules:
            if all(
                feel.parse_unary_tests(entry.lhs[0] if entry.lhs else None).matches(value, data)
                for entry, value in zip(rule.inputEntries, inputs, strict=True)
            ):
                outputs = {
                    (e.output.name or e.output.label): feel.evaluate_output(e.text, data) if e.text else None
                    for e in rule.outputEntries
                }
                matched.append(MatchedRule(rule.row_number, rule.id, (rule.description or "").strip(), outputs))
                if table.hit_policy == "FIRST":
                    break
        names = [o.name or o.label for o in table.outputs]
        policy, aggregation = _hit_policy(table.hit_policy)
        if table.hit_policy not in HIT_POLICIES and aggregation not in AGGREGATIONS:
            # A stored spec from before this check, or a hand-made one: never answer with a silent first match.
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy {table.hit_policy}, "
                              "which this system does not evaluate")
        if aggregation:
            return {n: _aggregate(aggregation, [m.outputs[n] for m in matched], table) for n in names}, matched
        if policy in ("COLLECT", "RULE ORDER"):
            return {n: [m.outputs[n] for m in matched] for n in names}, matched
        if not matched:
            return {n: None for n in names}, matched
        if policy == "UNIQUE" and len(matched) > 1:
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy UNIQUE but rules {rows} "
                              "all match")
        if policy == "ANY" and any(m.outputs != matched[0].outputs for m in matched):
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy ANY but rules {rows} disagree")
        return dict(matched[0].outputs), matched

    def result(self, task: Any) -> dict[str, Any]:
        outputs, matched = self.evaluate_table(task.data)
        trace = dict(task.data.get("decision_trace") or {})
        trace[self.decision_table.id] = [{"row": m.row, "rule": m.description or m.rule_id} for m in matched]
        extensions = getattr(task.task_spec, "extensions", None) or {}
        result_variable = extensions.get("camunda:resultVariable")
        if result_variable:
            mapping = extensions.get("camunda:mapDecisionResult") or "resultList"
            updates = {result_variable: self._mapped(mapping, outputs, matched)}
        else:
            updates = dict(outputs)  # our own diagrams: the outputs become process variables directly
        updates["decision_trace"] = trace
        # Spiff deep-merges the result into the task data, which would union a list with the one a previous run of
        # the same table left behind; drop the old values so the table's answer replaces them.
        for key in updates:
            task.data.pop(key, None)
        return updates

    def _mapped(self, mapping: str, outputs: dict[str, Any], matched: list[MatchedRule]) -> Any:
        """The decision result as Camunda's camunda:mapDecisionResult maps it into camunda:resultVariable."""
        table = self.decision_table
        policy, aggregation = _hit_policy(table.hit_policy)
        if policy in ("COLLECT", "RULE ORDER") and not aggregation:
            rows = [m.outputs for m in matched]
        else:
            rows = [outputs] if matched else []
        name = table.name or table.id
        if mapping in ("singleEntry", "singleResult") and len(rows) > 1:
            raise EngineError(f"Decision table '{name}' matched {len(rows)} rules but camunda:mapDecisionResult is "
                              f"{mapping}, which takes one")
        if mapping == "singleResult":
            return dict(rows[0]) if rows else None
        if mapping == "resultList":
            return [dict(row) for row in rows]
        if len(table.outputs) != 1:
            raise EngineError(f"camunda:mapDecisionResult {mapping} needs a table with one output; "
                              f"'{name}' has {len(table.outputs)}")
        values = [next(iter(row.values())) for row in rows]
        if mapping == "singleEntry":
            return values[0] if values else None
        return values  # collectEntries


def _hit_policy(stored: str) -> tuple[str, str]:
    """("COLLECT", "SUM") for "COLLECT SUM"; ("RULE ORDER", "") for "RULE ORDER"."""
    if stored.startswith("COLLECT "):
        return "COLLECT", stored[len("COLLECT "):]
    return stored, ""


def _aggregate(aggregation: str, values: list[Any], table: Any) -> Any:
    """COLLECT with SUM/MIN/MAX/COUNT, as Camunda computes it: over the non-null outputs of the matching rules."""
    present = [v for v in values if v is not None]
    if aggregation == "COUNT":
        return len(present)
    if not present:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        raise EngineError(f"Decision table '{table.name or table.id}' aggregates with {aggregation}, "
                          "but not every matching output is a number")
    return {"SUM": sum, "MIN": min, "MAX": max}[aggregation](present)


class _BusinessRuleTaskConverter(BaseBusinessRuleTaskConverter):
    def from_dict(self, dct: dict) -> Any:
        spec = super().from_dict(dct)
        spec.dmnEngine = _FeelDecisionEngine(spec.dmnEngine.decision_table)
        return spec


# --- parsing -----------------------------------------------------------------------------------------------------


def _captured_form(node: etree._Element) -> list[dict[str, Any]]:
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
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO_DURATION = r"P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?"
_ISO_CYCLE = rf"R\d*/(?:(?:{_ISO_DATE})/)?{_ISO_DURATION}(?:/{_ISO_DATE})?"
TIMER_LITERALS = {"timeDate": _ISO_DATE, "timeDuration": _ISO_DURATION, "timeCycle": _ISO_CYCLE}


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

    Spiff evaluates timer text as an expression (notes §7), so Camunda's unquoted `PT30M` would be an unknown name.
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
        extensions["camunda:formData"] = _captured_form(self.node)
        lane = lane_of(self.node)
        role = lane_role(lane) if lane is not None else None
        if role:
            extensions["lane:role"] = role
        return extensions


class ExternalTask(ServiceTask):
    """A service task done by the application: it waits (manual) until Run.advance hands it to a handler."""

    def _execute(self, task: Any) -> bool:
        return True  # the handler already did the work; None would leave the task STARTED forever


class PassThroughTask(NoneTask):
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
            self.raise_validation_exception(
                "Service tasks must be external tasks (camunda:type=\"external\" with a topic); "
                "Java classes, expressions and connectors cannot run here"
            )
        task = super().create_task()
        task.manual = True
        return task


class _ScriptTaskParser(TaskParser):
    def create_task(self) -> Any:
        self.raise_validation_exception("Script tasks are not allowed: scripts could run code on the server")


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        extensions = {**super().parse_extensions(node), "camunda:decisionRef": self.node.get(f"{CAMUNDA}decisionRef")}
        for name in ("resultVariable", "mapDecisionResult"):
            value = self.node.get(f"{CAMUNDA}{name}")
            if value:
                extensions[f"camunda:{name}"] = value
        return extensions


_CAMUNDA_EVENTS = {
    "startEvent": _camunda_events.CamundaStartEventParser,
    "endEvent": _camunda_events.CamundaEndEventParser,
    "intermediateCatchEvent": _camunda_events.CamundaIntermediateCatchEventParser,
    "intermediateThrowEvent": _camunda_events.CamundaIntermediateThrowEventParser,
    "boundaryEvent": _camunda_events.CamundaBoundaryEventParser,
}


class _Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        **{full_tag(tag): (_with_timer_literals(parser), CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][1])
           for tag, parser in _CAMUNDA_EVENTS.items()},
        full_tag("userTask"): (_UserTaskParser, UserTask),
        full_tag("serviceTask"): (_ExternalTaskParser, ExternalTask),
        full_tag("sendTask"): (_ExternalTaskParser, ExternalTask),
        full_tag("scriptTask"): (_ScriptTaskParser, ScriptTask),
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, BusinessRuleTask),
        full_tag("task"): (CamundaTaskParser, PassThroughTask),
        full_tag("manualTask"): (CamundaTaskParser, PassThroughTask),
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
        return _FeelDecisionEngine(table)


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[BusinessRuleTask] = _BusinessRuleTaskConverter
    config[ExternalTask] = BpmnTaskSpecConverter
    config[PassThroughTask] = BpmnTaskSpecConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_serializer = _make_serializer()
# The converter behind BpmnWorkflow, to restore and dump instance state around a spec we already hold in memory.
_workflow_converter = _serializer.registry.convert_from_dict["BpmnWorkflow"].args[0].__self__


@dataclass
class CompiledProcess:
    """One executable process with the files it needs, ready to store as a definition version."""

    process_id: str
    name: str
    files: dict[str, str]
    spec_json: str

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()


def parse_xml(name: str, content: bytes) -> etree._Element:
    """Parse an uploaded file safely: UTF-8, a size limit, no DTD, no entities, nothing fetched from the network."""
    if len(content) > MAX_FILE_BYTES:
        raise DefinitionInvalid(f"{name}: file is larger than {MAX_FILE_BYTES // 1_000_000} MB", [])
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionInvalid(f"{name}: the file is not UTF-8 text", []) from exc
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise DefinitionInvalid(f"{name}: DOCTYPE and entity declarations are not allowed", [])
    try:
        return etree.fromstring(content, _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(f"{name}: not well-formed XML: {exc}", []) from exc


_parse_xml = parse_xml  # the name the rest of the code base knew


_validators: dict[str, BpmnValidator] = {}


def _validator(namespace: str) -> BpmnValidator:
    """The XSD validator of a BPMN or DMN namespace, built once (reading the schemas takes a while)."""
    if namespace not in _validators:
        bpmn = namespace == BPMN_MODEL_NS
        _validators[namespace] = BpmnValidator() if bpmn else BpmnValidator(_DMN_SCHEMAS[namespace])
    return _validators[namespace]


def schema_errors(root: etree._Element) -> list[tuple[int | None, str]] | None:
    """Every XSD error of a BPMN or DMN document as (line, message); None when its namespace is neither."""
    namespace = etree.QName(root).namespace
    if namespace != BPMN_MODEL_NS and namespace not in _DMN_SCHEMAS:
        return None
    validator = _validator(namespace)
    document = copy.deepcopy(root)  # Spiff's preprocessing renames elements in place; deepcopy keeps line numbers
    validator.preprocess(document)
    if validator.validator.validate(document):
        return []
    return [(error.line or None, error.message) for error in validator.validator.error_log]


def compile_files(files: Mapping[str, bytes]) -> dict[str, CompiledProcess]:
    """Parse a set of .bpmn/.dmn files; return every executable process with the files it depends on."""
    roots: dict[str, etree._Element] = {}
    try:
        return _compile(files, roots)
    except DefinitionInvalid:
        raise
    except ValidationException as exc:
        problem = {
            "file": getattr(exc, "file_name", None) or None,
            "element": getattr(exc, "id", None) or None,
            "name": getattr(exc, "name", None) or None,
            "line": getattr(exc, "line_number", None) or _line_of(roots, exc),
            "message": str(exc).split("\n")[0],
        }
        raise DefinitionInvalid(f"{problem['file'] or 'upload'}: {problem['message']}", [problem]) from exc
    except Exception as exc:  # noqa: BLE001
        # SpiffWorkflow answers some invalid models with bare TypeErrors and KeyErrors (notes §1.3); an upload must
        # be refused with a message, never crash the request.
        problem = {"file": None, "element": None, "name": None, "line": None,
                   "message": f"The engine could not read these files ({type(exc).__name__}: {exc})"}
        raise DefinitionInvalid(problem["message"], [problem]) from exc


def _line_of(roots: Mapping[str, etree._Element], exc: Any) -> int | None:
    # Spiff reads `node.line_number`, which lxml never sets; find the element again to name its line.
    element_id, file_name = getattr(exc, "id", None), getattr(exc, "file_name", None)
    if not element_id:
        return None
    for name, root in roots.items():
        if file_name and name != file_name:
            continue
        found = root.xpath("//*[@id=$id]", id=element_id)
        if found:
            return found[0].sourceline
    return None


def _fill_dmn_ids(root: etree._Element) -> None:
    """Give ids to the table parts Spiff requires ids of: DMN makes them optional and Camunda Modeler 4 omitted some."""
    for decision in root.iterfind("{*}decision"):
        prefix = decision.get("id") or "decision"
        for index, element in enumerate(decision.iter(), start=1):
            if isinstance(element.tag, str) and etree.QName(element).localname in (
                    "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry") and not element.get("id"):
                element.set("id", f"{prefix}_{etree.QName(element).localname}_{index}")


def _compile(files: Mapping[str, bytes], roots: dict[str, etree._Element]) -> dict[str, CompiledProcess]:
    parser = _Parser(validator=_validator(BPMN_MODEL_NS))
    dmn_file_of: dict[str, str] = {}
    for name, content in sorted(files.items()):
        root = parse_xml(name, content)
        roots[name] = root
        if name.endswith(".dmn"):
            _fill_dmn_ids(root)
            parser.add_dmn_xml(root, filename=name)
            for decision in root.iterfind("{*}decision"):
                dmn_file_of[decision.get("id")] = name
        elif name.endswith(".bpmn"):
            parser.add_bpmn_xml(root, filename=name)
    texts = {name: content.decode("utf-8") for name, content in files.items()}
    compiled = {}
    for process_id in parser.get_process_ids():
        if not process_id:
            # The XSD allows a process without an id; Spiff then compiles it under None (notes §1.3).
            problem = {"file": parser.process_parsers[process_id].filename, "element": None, "name": None,
                       "line": None, "message": "An executable process has no id"}
            raise DefinitionInvalid(f"{problem['file']}: {problem['message']}", [problem])
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        needed = {parser.process_parsers[process_id].filename}
        for sub_id in subprocess_specs:
            needed.add(parser.process_parsers[sub_id].filename)
        for ts in [*spec.task_specs.values(), *(t for s in subprocess_specs.values() for t in s.task_specs.values())]:
            if isinstance(ts, BusinessRuleTask):
                ref = ts.extensions.get("camunda:decisionRef")
                if ref in dmn_file_of:
                    needed.add(dmn_file_of[ref])
        spec_dict = {
            "spec": _serializer.to_dict(spec),
            "subprocess_specs": {k: _serializer.to_dict(v) for k, v in subprocess_specs.items()},
        }
        compiled[process_id] = CompiledProcess(
            process_id=process_id,
            name=spec.description or process_id,
            files={n: texts[n] for n in sorted(needed)},
            spec_json=json.dumps(spec_dict),
        )
    return compiled


@functools.lru_cache(maxsize=32)
def _decision_engine(name: str, text: str, decision_id: str) -> _FeelDecisionEngine:
    parser = _Parser(validator=_validator(BPMN_MODEL_NS))
    root = parse_xml(name, text.encode("utf-8"))
    _fill_dmn_ids(root)
    parser.add_dmn_xml(root, filename=name)
    return parser.get_engine(decision_id, None)


def evaluate_decision(name: str, text: str, decision_id: str,
                      data: Mapping[str, Any]) -> tuple[dict[str, Any], list[MatchedRule]]:
    """Evaluate decision DECISION_ID of the .dmn file NAME (its TEXT) on DATA, exactly as a business rule task would.

    Returns the outputs (after the hit policy) and the rules that matched; raises DefinitionInvalid for a table the
    engine cannot read and EngineError for one that fails on DATA (e.g. two matches under UNIQUE).
    """
    try:
        decision = _decision_engine(name, text, decision_id)
    except DefinitionInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 - Spiff's parser raises bare KeyErrors as well as ValidationException
        raise DefinitionInvalid(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", []) from exc
    try:
        return decision.evaluate_table(data)
    except (expressions.ExpressionError, feel.FeelError) as exc:
        raise EngineError(str(exc)) from exc


# --- running instances -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormFieldSpec:
    id: str
    label: str
    type: str
    default: str | None
    constraints: dict[str, str | None]
    properties: dict[str, str]
    options: list[tuple[str, str]]


@dataclass
class TaskView:
    """A READY task as plain data: what the application needs, without any engine object."""

    uuid: str
    step_id: str
    step_name: str
    lane: str | None
    process_id: str
    extensions: dict[str, Any]
    data: dict[str, Any] = field(repr=False)

    @property
    def candidate_groups(self) -> list[str]:
        """camunda:candidateGroups; without them, the role of the task's lane (a lane named after a role)."""
        raw = self.extensions.get("camunda:candidateGroups") or ""
        groups = [g.strip() for g in raw.split(",") if g.strip()]
        role = self.extensions.get("lane:role")
        return groups or ([role] if role else [])

    @property
    def assignee(self) -> str | None:
        """camunda:assignee: a username, or an expression giving one, evaluated on the task's data."""
        value = self._resolved("camunda:assignee")
        return None if value in (None, "") else str(value)

    @property
    def candidate_users(self) -> list[str]:
        """camunda:candidateUsers: usernames separated by commas; an expression may give a list or such a text."""
        value = self._resolved("camunda:candidateUsers")
        items = value if isinstance(value, list | tuple) else str(value or "").split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    @property
    def priority(self) -> int | None:
        """camunda:priority (Camunda's default is 50), a number or an expression giving one."""
        value = self._resolved("camunda:priority")
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise EngineError(f"Step '{self.step_id}' has camunda:priority {value!r}, which is not a number") from None

    @property
    def follow_up_expression(self) -> str | None:
        """camunda:followUpDate as the sandbox evaluates it, like due_expression."""
        return _date_expression(self.extensions.get("camunda:followUpDate"))

    def _resolved(self, key: str) -> Any:
        raw = self.extensions.get(key)
        if raw is None:
            return None
        text = str(raw).strip()
        if re.fullmatch(r"[$#]\{.*\}", text, re.DOTALL):
            return expressions.evaluate(text, self.data)
        return text

    @property
    def form_key(self) -> str | None:
        return self.extensions.get("camunda:formKey")

    @property
    def form_fields(self) -> list[FormFieldSpec]:
        return [
            FormFieldSpec(f["id"], f["label"], f["type"], f["default"], f["constraints"], f["properties"],
                          [tuple(o) for o in f["options"]])
            for f in self.extensions.get("camunda:formData", [])
        ]

    @property
    def topic(self) -> str | None:
        return self.extensions.get("camunda:topic")

    @property
    def due_expression(self) -> str | None:
        """camunda:dueDate as the sandbox evaluates it; an unquoted ISO date (Camunda's literal form) is quoted."""
        return _date_expression(self.extensions.get("camunda:dueDate"))

    @property
    def due_in_working_days(self) -> int | None:
        value = self.extensions.get("dueInWorkingDays")
        return int(value) if value not in (None, "") else None


def _date_expression(raw: str | None) -> str | None:
    if raw and re.fullmatch(_ISO_DATE, raw.strip()):
        return repr(raw.strip())
    return raw


def evaluate_expression(expression: str, data: Mapping[str, Any]) -> Any:
    """Evaluate a diagram expression (e.g. a camunda:dueDate) in the sandbox."""
    return expressions.evaluate(expression, data)


_spec_objects: dict[str, tuple[Any, dict[str, Any]]] = {}


def _specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    """Spec objects for a stored spec; shared between instances unless the spec mutates itself at run time.

    Spiff's multi-instance tasks rewrite their own spec while running (notes §4), so such specs are rebuilt per load.
    """
    cached = _spec_objects.get(spec_json)
    if cached is not None:
        return cached
    spec_dict = json.loads(spec_json)
    spec = _serializer.from_dict(spec_dict["spec"])
    subprocess_specs = {k: _serializer.from_dict(v) for k, v in spec_dict["subprocess_specs"].items()}
    every_task = [*spec.task_specs.values(), *(t for sub in subprocess_specs.values() for t in sub.task_specs.values())]
    if not any("MultiInstance" in type(t).__name__ for t in every_task):
        _spec_objects[spec_json] = (spec, subprocess_specs)
    return spec, subprocess_specs


@contextmanager
def _clock(now: _dt.datetime | None) -> Iterator[None]:
    """Spiff reads the wall clock inside its timer module; tests and `tick --now` move it."""
    if now is None:
        yield
        return

    class _FixedDateTime(_dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
            return now.astimezone(tz) if tz else now

    with mock.patch.object(_timer_module, "datetime", _FixedDateTime):
        yield


@dataclass(frozen=True)
class StepMigration:
    """What migrating does to one step an instance stands at (ready, waiting or running)."""

    step_id: str
    old_name: str
    new_name: str | None  # None: the step does not exist in the new version
    state: str  # ready, waiting, running
    outcome: str  # kept, changed, removed
    changes: tuple[str, ...] = ()  # what changed: "name", "form", "candidateGroups", "flows", …


@dataclass(frozen=True)
class MigrationPlan:
    """Whether an instance can move to a new version, and what happens to each step it stands at."""

    steps: tuple[StepMigration, ...]
    blockers: tuple[tuple[str, str], ...]  # (reason code, step id): reasons the change does not allow it

    @property
    def allowed(self) -> bool:
        return not self.blockers


_LIVE = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "running"}


def _spec_changes(registry: Any, old: Any, new: Any) -> tuple[str, ...]:
    """The attributes of a task spec that differ between versions, extensions named one by one."""
    before, after = registry.convert(old), registry.convert(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in ("inputs", "outputs"):
            names = (sorted(before.get(key) or []), sorted(after.get(key) or []))
            if names[0] != names[1]:
                changes.append("flows")
        elif key == "extensions":
            old_ext, new_ext = before.get(key) or {}, after.get(key) or {}
            changes += [name.split(":")[-1] for name in sorted(set(old_ext) | set(new_ext))
                        if old_ext.get(name) != new_ext.get(name)]
        elif key == "bpmn_name" and before.get(key) != after.get(key):
            changes.append("name")
        elif before.get(key) != after.get(key) and key not in ("description", "bpmn_id", "position"):
            changes.append(key)
    return tuple(dict.fromkeys(changes))


TopicHandler = Callable[[str, "TaskView"], Mapping[str, Any] | None]


class Run:
    """One workflow instance in memory for the span of a single unit of work: load, act, dump."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self._wf = workflow
        # What was waiting for people when this run began; the task table holds exactly these as open rows.
        self.ready_at_start: set[str] = {str(t.id) for t in self._ready_user_task_objects()}
        self.completed_here: set[str] = set()

    @classmethod
    def start(cls, spec_json: str, data: Mapping[str, Any]) -> Run:
        spec, subprocess_specs = _specs(spec_json)
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=_script_engine)
        wf.data.update(data)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return cls(wf)

    @classmethod
    def load(cls, spec_json: str, state: bytes) -> Run:
        dct = json.loads(state)
        _serializer.migrate(dct)
        spec, subprocess_specs = _specs(spec_json)
        # BpmnWorkflowConverter.from_dict, minus re-reading the spec that we keep in memory per version.
        wf = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
        wf.tasks = _workflow_converter.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
        wf.task_tree = wf.tasks.get(UUID(dct["root"]))
        _workflow_converter.set_default_attributes(wf, dct)
        _workflow_converter.subprocesses_from_dict(dct["subprocesses"], wf)
        wf.bpmn_events = _serializer.registry.restore(dct.pop("bpmn_events", []))
        wf.script_engine = _script_engine  # not serialised
        return cls(wf)

    def dumps(self) -> bytes:
        """Instance state only: the spec is stored once per definition version."""
        wf, conv = self._wf, _workflow_converter
        dct = super(type(conv), conv).to_dict(wf)
        dct["subprocesses"] = conv.mapping_to_dict(wf.subprocesses)
        dct["bpmn_events"] = conv.registry.convert(wf.bpmn_events)
        dct["typename"] = "BpmnWorkflow"
        dct["serializer_version"] = _serializer.VERSION
        return json.dumps(dct, separators=(",", ":"), default=_json_default).encode()

    # -- queries --

    @property
    def is_completed(self) -> bool:
        return self._wf.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        return self._wf.data

    def _view(self, task: Any) -> TaskView:
        spec = task.task_spec
        return TaskView(
            uuid=str(task.id),
            step_id=spec.bpmn_id,
            step_name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            process_id=task.workflow.spec.name,
            extensions=dict(getattr(spec, "extensions", {}) or {}),
            data=task.data,
        )

    def _ready_user_task_objects(self) -> list[Any]:
        return [t for t in self._wf.get_tasks(state=TaskState.READY, manual=True)
                if not isinstance(t.task_spec, ExternalTask)]

    def ready_user_tasks(self) -> list[TaskView]:
        return [self._view(t) for t in self._ready_user_task_objects()]

    def _ready_external_tasks(self) -> list[Any]:
        return [t for t in self._wf.get_tasks(state=TaskState.READY, manual=True)
                if isinstance(t.task_spec, ExternalTask)]

    def next_timer_at(self) -> _dt.datetime | None:
        """The earliest moment a waiting timer (alone or inside an event-based gateway) becomes due."""
        due = []
        for task in self._wf.get_tasks(state=TaskState.WAITING):
            value = task.internal_data.get("event_value")
            if isinstance(value, str):
                try:
                    moment = _dt.datetime.fromisoformat(value)
                except ValueError:
                    continue  # a message correlation or a cycle expression, not a moment
                due.append(moment if moment.tzinfo else moment.replace(tzinfo=_dt.UTC))
        return min(due) if due else None

    # -- actions --

    def complete(self, task_uuid: str, data: Mapping[str, Any]) -> TaskView:
        task = self._ready_task(task_uuid)
        view = self._view(task)
        task.data.update(data)
        self._guard(task.run)
        self.completed_here.add(task_uuid)
        return view

    def task_view(self, task_uuid: str) -> TaskView:
        return self._view(self._ready_task(task_uuid))

    def _ready_task(self, task_uuid: str) -> Any:
        task = self._wf.get_task_from_id(UUID(task_uuid))
        if task is None or task.state != TaskState.READY:
            raise EngineError(f"Task {task_uuid} is not waiting for input")
        return task

    def advance(self, handler: TopicHandler | None = None, now: _dt.datetime | None = None) -> None:
        """Run to the next wait state, handing each ready external task to HANDLER."""
        with _clock(now):
            for _ in range(1000):  # a model that loops through external tasks forever is a model error
                self._guard(self._wf.refresh_timers)
                self._guard(self._wf.do_engine_steps)
                external = self._ready_external_tasks()
                if not external:
                    return
                for task in external:
                    if handler is None:
                        raise EngineError(f"No handler for external task '{task.task_spec.bpmn_id}'")
                    updates = handler(task.task_spec.extensions.get("camunda:topic"), self._view(task))
                    task.data.update(updates or {})
                    self._guard(task.run)
        raise EngineError("The process did not reach a wait state after 1000 steps")

    def send_message(self, name: str, payload: Mapping[str, Any] | None = None) -> bool:
        """Deliver message NAME if the instance waits for it (alone or behind an event-based gateway)."""
        for task in self._wf.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            candidates = getattr(definition, "event_definitions", None) or [definition]
            for candidate in candidates:
                if isinstance(candidate, MessageEventDefinition) and candidate.name == name:
                    # Camunda-flavoured message definitions expect their payload wrapped this way.
                    event = BpmnEvent(candidate, {"payload": dict(payload or {}), "result_var": f"{name}_payload"})
                    self._guard(lambda event=event: self._wf.send_event(event))
                    return True
        return False

    def cancel(self) -> None:
        self._guard(self._wf.cancel)

    def waiting_timers(self) -> list[str]:
        return [
            t.task_spec.bpmn_id
            for t in self._wf.get_tasks(state=TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        ]

    # -- migration --

    def _diffs(self, new_spec_json: str) -> tuple[Any, dict[str, Any], Any, dict[str, Any]]:
        new_spec, new_subprocess_specs = _specs(new_spec_json)
        top_diff, sub_diffs = diff_workflow(_serializer.registry, self._wf, new_spec, new_subprocess_specs)
        return new_spec, new_subprocess_specs, top_diff, sub_diffs

    def migration_plan(self, new_spec_json: str) -> MigrationPlan:
        """What moving this instance onto NEW_SPEC_JSON would do to each step it stands at, and what forbids it."""
        try:
            _, _, top_diff, sub_diffs = self._diffs(new_spec_json)
        except Exception as exc:  # noqa: BLE001 - a spec Spiff cannot align is a reason, not a crash
            return MigrationPlan((), (("not_comparable", str(exc)),))
        steps: list[StepMigration] = []
        blockers: list[tuple[str, str]] = []
        diffs = [(self._wf, top_diff)]
        for sp_id, diff in sub_diffs.items():
            subprocess = self._wf.subprocesses[sp_id]
            if diff is None:
                blockers.append(("subprocess_removed", subprocess.spec.name))
            else:
                diffs.append((subprocess, diff))
        for workflow, diff in diffs:
            for task in workflow.get_tasks(skip_subprocesses=True):
                state = _LIVE.get(task.state)
                spec = task.task_spec
                if state is not None and task.parent is None:
                    blockers.append(("not_started", workflow.spec.name))
                if state is None or getattr(spec, "bpmn_id", None) is None:
                    continue  # finished or predicted tasks, and Spiff's own control tasks, follow the new version
                if isinstance(spec, LoopTask) or isinstance(spec.task_spec if hasattr(spec, "task_spec") else None,
                                                            LoopTask):
                    blockers.append(("multi_instance", spec.bpmn_id))
                old_name = spec.bpmn_name or spec.bpmn_id
                new = diff.alignment.get(task)
                if task in diff.removed or new is None:
                    steps.append(StepMigration(spec.bpmn_id, old_name, None, state, "removed"))
                    blockers.append(("step_removed", spec.bpmn_id))
                    continue
                changes = _spec_changes(_serializer.registry, spec, new) if task in diff.changed else ()
                steps.append(StepMigration(spec.bpmn_id, old_name, new.bpmn_name or new.bpmn_id, state,
                                           "changed" if changes else "kept", changes))
                if type(spec) is not type(new):
                    blockers.append(("step_type_changed", spec.bpmn_id))
                elif changes and state != "ready":
                    blockers.append(("waiting_step_changed", spec.bpmn_id))
        return MigrationPlan(tuple(steps), tuple(dict.fromkeys(blockers)))

    def migrate(self, new_spec_json: str) -> MigrationPlan:
        """Move this instance onto NEW_SPEC_JSON in place, if its plan allows it; ready steps keep their ids."""
        plan = self.migration_plan(new_spec_json)
        if not plan.allowed:
            raise EngineError("This instance cannot be moved to the new version: "
                              + "; ".join(f"{code} ({step})" for code, step in plan.blockers))
        new_spec, new_subprocess_specs, top_diff, sub_diffs = self._diffs(new_spec_json)
        try:
            # Only ready tasks are reset (re-predicting what follows them); waiting timers keep their due moment.
            migrate_workflow(top_diff, self._wf, new_spec, reset_mask=TaskState.READY)
            for sp_id, diff in sub_diffs.items():
                subprocess = self._wf.subprocesses[sp_id]
                migrate_workflow(diff, subprocess, new_subprocess_specs[subprocess.spec.name],
                                 reset_mask=TaskState.READY)
        except Exception as exc:  # noqa: BLE001 - "brand new" upstream code (notes §8); the caller rolls back
            raise EngineError(f"Moving the instance to the new version failed: {exc}") from exc
        self._wf.subprocess_specs = new_subprocess_specs
        return plan

    @staticmethod
    def _guard(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except SpiffWorkflowException as exc:
            raise EngineError(_engine_message(exc)) from exc


def _engine_message(exc: Exception) -> str:
    # str(exc) of a SpiffWorkflowException already ends with its notes; take the head once and the notes once.
    notes = getattr(exc, "notes", None) or getattr(exc, "__notes__", None) or []
    inner = getattr(exc, "error", None) or getattr(exc, "exception", None)
    detail = f": {inner}" if inner else ""
    head = str(exc.args[0]) if exc.args else str(exc)
    return ". ".join([head.split("\n")[0].rstrip(".") + detail, *(str(n).rstrip(".") for n in notes)]) + "."


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def user_steps(spec_json: str) -> list[tuple[str, str, list[str]]]:
    """(step id, name, candidate groups) of each user task of a stored spec, in the order the spec lists them."""
    steps: list[tuple[str, str, list[str]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            extensions = node.get("extensions")
            if isinstance(extensions, dict) and extensions.get("camunda:candidateGroups") and node.get("bpmn_id"):
                groups = [g.strip() for g in str(extensions["camunda:candidateGroups"]).split(",") if g.strip()]
                steps.append((node["bpmn_id"], node.get("bpmn_name") or node["bpmn_id"], groups))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(json.loads(spec_json))
    seen: dict[str, tuple[str, str, list[str]]] = {}
    for step in steps:
        seen.setdefault(step[0], step)
    return list(seen.values())


def run_straight_through(spec_json: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run a process with no wait states (e.g. unit_evaluation) in memory and return its final data."""
    run = Run.start(spec_json, data)
    run.advance()
    if not run.is_completed:
        raise EngineError("The decision process stopped at a wait state")
    return dict(run.data)
