"""The serializer of specs and instance state, and the spec objects of each stored version, built once.

An instance's state is stored without its spec (the spec is stored once per definition version), so `Run` restores and
dumps state around spec objects held here; docs/ENGINE.md ("Private internals") names what this relies on.
"""
from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # type: ignore[import-untyped]

from workflows.cache import DatabaseCache
from workflows.engine import io_mapping
from workflows.engine.dmn import BusinessRuleTaskConverter
from workflows.engine.parser import ExternalTask, PassThroughTask


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    # The classes with input/output parameters keep Spiff's class names, so they replace Spiff's own here.
    for ours in (io_mapping.UserTask, io_mapping.BusinessRuleTask, io_mapping.CallActivity):
        spiffs = next(cls for cls in ours.__mro__[1:] if cls.__name__ == ours.__name__)
        config[ours] = config.pop(spiffs)
    config[io_mapping.BusinessRuleTask] = BusinessRuleTaskConverter
    config[ExternalTask] = BpmnTaskSpecConverter
    config[PassThroughTask] = BpmnTaskSpecConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


serializer = _make_serializer()
# The converter behind BpmnWorkflow, to restore and dump instance state around a spec we already hold in memory.
# A private detail of SpiffWorkflow 3.2.0 (tests/workflows/test_spiff_version.py fails when it moves).
workflow_converter = serializer.registry.convert_from_dict["BpmnWorkflow"].args[0].__self__

# Spec objects depend on their JSON alone, so one table serves every database; bounded, as versions accumulate.
_spec_cache: DatabaseCache[tuple[Any, dict[str, Any]] | None] = DatabaseCache("engine spec objects", max_entries=128)


def _build(spec_json: str) -> tuple[Any, dict[str, Any]]:
    spec_dict = json.loads(spec_json)
    spec = serializer.from_dict(spec_dict["spec"])
    subprocess_specs = {k: serializer.from_dict(v) for k, v in spec_dict["subprocess_specs"].items()}
    return spec, subprocess_specs


def _rewrites_itself(spec: Any, subprocess_specs: dict[str, Any]) -> bool:
    every_task = [*spec.task_specs.values(), *(t for sub in subprocess_specs.values() for t in sub.task_specs.values())]
    return any("MultiInstance" in type(t).__name__ for t in every_task)


def specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    """Spec objects for a stored spec; shared between instances unless the spec mutates itself at run time.

    Spiff's multi-instance tasks rewrite their own spec while running (docs/ENGINE.md, "Multi-instance"), so such
    specs are cached as "not shareable" and rebuilt per load.
    """
    built: list[tuple[Any, dict[str, Any]]] = []

    def load() -> tuple[Any, dict[str, Any]] | None:
        found = _build(spec_json)
        built.append(found)
        return None if _rewrites_itself(*found) else found

    shared = _spec_cache.get(None, spec_json, load)
    if shared is not None:
        return shared
    return built[0] if built else _build(spec_json)


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

