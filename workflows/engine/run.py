"""One workflow instance in memory for the span of a unit of work (`Run`), and its ready tasks as plain data.

External service tasks (`camunda:type="external"`) wait like user tasks; `Run.advance` hands them to the caller's
handler, so the application (with its database session) does the work and the engine stays pure.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask  # type: ignore[import-untyped]
from SpiffWorkflow.exceptions import SpiffWorkflowException  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

import workflows.engine.clock as clock
import workflows.engine.expressions as expressions
import workflows.engine.migration as migration
from workflows.engine.migration import MigrationPlan
from workflows.engine.parser import ISO_DATE, ISO_DURATION, ExternalTask
from workflows.engine.sandbox import script_engine
from workflows.engine.serializer import serializer, specs, workflow_converter
from workflows.errors import EngineError


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
    instance_item: dict[str, Any] | None = None  # see instance_item()

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
        """The property dueInWorkingDays=N: the deadline is the Nth working day after the task is created."""
        value = str(self.extensions.get("dueInWorkingDays") or "").strip()
        return int(value) if value.isdigit() else None

    @property
    def due_date_in_working_days(self) -> bool:
        """dueInWorkingDays=true beside a camunda:dueDate: its plusDays(n) and P…D count working days."""
        return str(self.extensions.get("dueInWorkingDays") or "").strip().lower() == "true"


def _date_expression(raw: str | None) -> str | None:
    if raw and re.fullmatch(ISO_DATE, raw.strip()):
        return repr(raw.strip())
    if raw and re.fullmatch(ISO_DURATION, raw.strip()):  # Camunda's "P5D": that long from now
        return f"dateTime().plus({raw.strip()!r})"
    return raw


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
        spec, subprocess_specs = specs(spec_json)
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
        wf.data.update(data)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return cls(wf)

    @classmethod
    def load(cls, spec_json: str, state: bytes) -> Run:
        dct = json.loads(state)
        serializer.migrate(dct)
        spec, subprocess_specs = specs(spec_json)
        # BpmnWorkflowConverter.from_dict, minus re-reading the spec that we keep in memory per version.
        wf = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
        wf.tasks = workflow_converter.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
        wf.task_tree = wf.tasks.get(UUID(dct["root"]))
        workflow_converter.set_default_attributes(wf, dct)
        workflow_converter.subprocesses_from_dict(dct["subprocesses"], wf)
        wf.bpmn_events = serializer.registry.restore(dct.pop("bpmn_events", []))
        wf.script_engine = script_engine  # not serialised
        return cls(wf)

    def dumps(self) -> bytes:
        """Instance state only: the spec is stored once per definition version."""
        wf, conv = self._wf, workflow_converter
        dct = super(type(conv), conv).to_dict(wf)
        dct["subprocesses"] = conv.mapping_to_dict(wf.subprocesses)
        dct["bpmn_events"] = conv.registry.convert(wf.bpmn_events)
        dct["typename"] = "BpmnWorkflow"
        dct["serializer_version"] = serializer.VERSION
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
            instance_item=instance_item(task),
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

    def complete(self, task_uuid: str, data: Mapping[str, Any], now: _dt.datetime | None = None) -> TaskView:
        """Complete the task; NOW is the moment a timer reached by it counts from (dateTime().plusDays(2))."""
        task = self._ready_task(task_uuid)
        view = self._view(task)
        task.data.update(data)
        with clock.at(now):
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
        with clock.at(now):
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

    def send_message(self, name: str, payload: Mapping[str, Any] | None = None,
                     now: _dt.datetime | None = None) -> bool:
        """Deliver message NAME at NOW if the instance waits for it (alone or behind an event-based gateway).

        Delivering makes SpiffWorkflow look at every waiting event, timers included, so it must see the same moment
        as the run that follows: a timer read against another clock could fire beside the message, and an
        event-based gateway would then take both of its paths.
        """
        with clock.at(now):
            return self._deliver(name, payload)

    def _deliver(self, name: str, payload: Mapping[str, Any] | None) -> bool:
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

    def migration_plan(self, new_spec_json: str) -> MigrationPlan:
        """What moving this instance onto NEW_SPEC_JSON would do to each step it stands at, and what forbids it."""
        return migration.plan(self._wf, new_spec_json)

    def migrate(self, new_spec_json: str) -> MigrationPlan:
        """Move this instance onto NEW_SPEC_JSON in place, if its plan allows it; ready steps keep their ids."""
        return migration.migrate(self._wf, new_spec_json)

    @staticmethod
    def _guard(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except SpiffWorkflowException as exc:
            raise EngineError(_engine_message(exc)) from exc


def instance_item(task: Any) -> dict[str, Any] | None:
    """Which item of its loop TASK works on: {"variable": the element variable's name, "value": this instance's item}.

    For a task that is one instance of a multi-instance activity (camunda:collection + camunda:elementVariable), or
    that lies inside one (a task of an embedded sub-process or called process run per item: the nearest loop counts).
    None for any other task, and for a loop without an element variable (loopCardinality alone).
    """
    while True:  # up the task tree, and from a sub-process's tasks to the task that runs it
        parent = task.parent
        if parent is None:
            workflow = task.workflow
            if workflow.parent_task_id is None:
                return None
            task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
            continue
        spec = parent.task_spec
        if isinstance(spec, MultiInstanceTask) and task.task_spec.name == spec.task_spec:  # one of its instances
            reference = spec.input_item or spec.output_item  # Camunda's elementVariable is kept as the output item
            name = getattr(reference, "bpmn_id", None)
            if not name or name not in task.data:
                return None
            return {"variable": name, "value": json.loads(json.dumps(task.data[name], default=_json_default))}
        task = parent


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
