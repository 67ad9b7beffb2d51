"""Running a process with no wait states (unit_evaluation, a decision-table probe) in memory, to its end.

Proposing outcomes runs unit_evaluation once per unit: at 2,800 units, building a SpiffWorkflow instance per unit
(a task tree, its state changes, a uuid per task) cost five times more than the decision tables themselves. A
process that is only a chain of business rule tasks between a plain start and a plain end event does nothing but
apply its tables in order, so such a chain is read once per spec into a plan and applied without an instance, with
the very decision engine and data merge the business rule task itself uses. Anything else (a gateway, a script, a
boundary event, input/output parameters, a sub-process) runs through the engine; so does a case the plan fails on,
so that an error reads exactly as the engine words it.
"""
from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, SimpleBpmnTask, _EndJoin  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, StartEvent  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition  # type: ignore[import-untyped]
from SpiffWorkflow.util.deep_merge import DeepMerge  # type: ignore[import-untyped]

from workflows.cache import DatabaseCache
from workflows.engine.io_mapping import BusinessRuleTask
from workflows.engine.run import Run
from workflows.engine.serializer import specs
from workflows.errors import EngineError

# The extensions a plain business rule task may carry; any other (input/output parameters, listeners, properties
# read by a hook) sends the process through the engine.
_PLAIN_EXTENSIONS = frozenset({"camunda:decisionRef", "camunda:mapDecisionResult", "camunda:resultVariable"})
_NO_PLAN: tuple[Any, ...] = ()


class _Step:
    """What a business rule task's decision engine reads of its task: the data, and the spec's extensions."""

    __slots__ = ("data", "task_spec")

    def __init__(self, data: dict[str, Any], task_spec: Any) -> None:
        self.data, self.task_spec = data, task_spec


_plans: DatabaseCache[tuple[Any, ...]] = DatabaseCache("straight-through plans", max_entries=128)


def plan(spec_json: str) -> tuple[Any, ...]:
    """The business rule tasks of SPEC_JSON in the order they run, if the process is only such a chain; else ()."""
    return _plans.get(None, spec_json, lambda: _read_plan(spec_json))


def _read_plan(spec_json: str) -> tuple[Any, ...]:
    spec, subprocess_specs = specs(spec_json)
    if subprocess_specs or spec.data_objects or spec.io_specification is not None:
        return _NO_PLAN
    chain: list[Any] = []
    node = spec.start
    while True:
        if len(node.outputs) > 1 or (node is not spec.start and len(node.inputs) != 1) or not _plain(node):
            return _NO_PLAN
        if isinstance(node, BusinessRuleTask):
            chain.append(node)
        if not node.outputs:
            break
        node = node.outputs[0]
    # Start and end must be the plain events: one visit of every task spec, in one line.
    kinds = [type(t) for t in spec.task_specs.values()]
    if kinds.count(StartEvent) != 1 or kinds.count(EndEvent) != 1 or len(chain) + 5 != len(kinds):
        return _NO_PLAN
    return tuple(chain)


def _plain(node: Any) -> bool:
    if type(node) in (BpmnStartTask, _EndJoin, SimpleBpmnTask):
        return True
    if getattr(node, "io_specification", None) is not None or getattr(node, "data_input_associations", None) \
            or getattr(node, "data_output_associations", None) or getattr(node, "prescript", None) \
            or getattr(node, "postscript", None):
        return False
    if type(node) in (StartEvent, EndEvent):
        return isinstance(node.event_definition, NoneEventDefinition) and not node.extensions
    return type(node) is BusinessRuleTask and set(node.extensions) <= _PLAIN_EXTENSIONS


def run_straight_through(spec_json: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run a process with no wait states in memory and return its final data."""
    chain = plan(spec_json)
    if chain:
        try:
            return _apply(chain, data)
        except Exception:  # noqa: BLE001 - the engine runs the case again and words the error as it always does
            pass
    run = Run.start(spec_json, data)
    run.advance()
    if not run.is_completed:
        raise EngineError("The decision process stopped at a wait state")
    return dict(run.data)


def _apply(chain: tuple[Any, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    # Each task's data starts as a shallow copy of its parent's (Task._inherit_data); the end event hands it to the
    # workflow's data, which already holds the start variables.
    current = {key: copy(value) if isinstance(value, (dict, list, set)) else value for key, value in data.items()}
    for task_spec in chain:
        step = _Step(current, task_spec)
        current = DeepMerge.merge(step.data, task_spec.dmnEngine.result(step))
    return {**data, **current}
