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
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
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
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask, ServiceTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import (  # type: ignore[import-untyped]
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    UserTaskParser,
)  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.user_task import UserTask  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter  # type: ignore[import-untyped]
from SpiffWorkflow.exceptions import SpiffWorkflowException  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

from workflows import expressions, feel
from workflows.errors import DefinitionInvalid, EngineError

CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"
ASSIGNMENT_ATTRIBUTES = ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority")
MAX_FILE_BYTES = 2_000_000
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


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
    """Decision tables as Camunda evaluates them: FEEL unary tests and real hit policies."""

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
        policy = table.hit_policy
        if policy in ("COLLECT", "RULE ORDER"):
            return {n: [m.outputs[n] for m in matched] for n in names}, matched
        if not matched:
            return {n: None for n in names}, matched
        if policy == "UNIQUE" and len(matched) > 1:
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy UNIQUE but rules {rows} all match")
        if policy == "ANY" and any(m.outputs != matched[0].outputs for m in matched):
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy ANY but rules {rows} disagree")
        return dict(matched[0].outputs), matched

    def result(self, task: Any) -> dict[str, Any]:
        outputs, matched = self.evaluate_table(task.data)
        trace = dict(task.data.get("decision_trace") or {})
        trace[self.decision_table.id] = [{"row": m.row, "rule": m.description or m.rule_id} for m in matched]
        return {**outputs, "decision_trace": trace}


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
        return extensions


class ExternalTask(ServiceTask):
    """A service task done by the application: it waits (manual) until Run.advance hands it to a handler."""

    def _execute(self, task: Any) -> bool:
        return True  # the handler already did the work; None would leave the task STARTED forever


class _ExternalTaskParser(TaskParser):
    """`camunda:type="external"` service tasks become wait states that the application completes."""

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
        return {**super().parse_extensions(node), "camunda:decisionRef": self.node.get(f"{CAMUNDA}decisionRef")}


class _Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (_UserTaskParser, UserTask),
        full_tag("serviceTask"): (_ExternalTaskParser, ExternalTask),
        full_tag("scriptTask"): (_ScriptTaskParser, ScriptTask),
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, BusinessRuleTask),
    }

    def get_engine(self, decision_ref: str, node: Any) -> DMNEngine:
        return _FeelDecisionEngine(super().get_engine(decision_ref, node).decision_table)


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[BusinessRuleTask] = _BusinessRuleTaskConverter
    config[ExternalTask] = BpmnTaskSpecConverter
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


def _parse_xml(name: str, content: bytes) -> etree._Element:
    if len(content) > MAX_FILE_BYTES:
        raise DefinitionInvalid(f"{name}: file is larger than {MAX_FILE_BYTES // 1_000_000} MB", [])
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise DefinitionInvalid(f"{name}: DOCTYPE and entity declarations are not allowed", [])
    try:
        return etree.fromstring(content, _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(f"{name}: not well-formed XML: {exc}", []) from exc


def compile_files(files: Mapping[str, bytes]) -> dict[str, CompiledProcess]:
    """Parse a set of .bpmn/.dmn files; return every executable process with the files it depends on."""
    parser = _Parser(validator=BpmnValidator())
    texts = {name: content.decode("utf-8") for name, content in files.items()}
    dmn_file_of: dict[str, str] = {}
    try:
        for name, content in sorted(files.items()):
            root = _parse_xml(name, content)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
                for decision in root.iterfind("{*}decision"):
                    dmn_file_of[decision.get("id")] = name
            elif name.endswith(".bpmn"):
                parser.add_bpmn_xml(root, filename=name)
        compiled = {}
        for process_id in parser.get_process_ids():
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
    except ValidationException as exc:
        problem = {
            "file": getattr(exc, "file_name", None),
            "element": getattr(exc, "id", None),
            "name": getattr(exc, "name", None),
            "line": getattr(exc, "line_number", None) or None,
            "message": str(exc).split("\n")[0],
        }
        raise DefinitionInvalid(f"{problem['file']}: {problem['message']}", [problem]) from exc


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
        raw = self.extensions.get("camunda:candidateGroups") or ""
        return [g.strip() for g in raw.split(",") if g.strip()]

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
        return self.extensions.get("camunda:dueDate")

    @property
    def due_in_working_days(self) -> int | None:
        value = self.extensions.get("dueInWorkingDays")
        return int(value) if value not in (None, "") else None


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
        return [t for t in self._wf.get_tasks(state=TaskState.READY, manual=True) if isinstance(t.task_spec, ExternalTask)]

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
                    self._guard(lambda: self._wf.send_event(event))
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


def run_straight_through(spec_json: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run a process with no wait states (e.g. unit_evaluation) in memory and return its final data."""
    run = Run.start(spec_json, data)
    run.advance()
    if not run.is_completed:
        raise EngineError("The decision process stopped at a wait state")
    return dict(run.data)
