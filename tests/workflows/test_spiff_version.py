"""The engine relies on private details of SpiffWorkflow 3.2.0 in two places; this fails loudly when that changes.

1. workflows/engine/serializer.py takes the BpmnWorkflow converter out of the serializer's registry
   (`registry.convert_from_dict["BpmnWorkflow"].args[0].__self__`) and `Run.load`/`Run.dumps` call its methods, to
   restore and dump instance state without the spec.
2. workflows/engine/clock.py replaces the `datetime` name of `SpiffWorkflow.bpmn.specs.event_definitions.timer`,
   through which SpiffWorkflow reads the wall clock for timers.

Before moving to another SpiffWorkflow version, check both against its source (docs/ENGINE.md, "Private internals"),
then update the version here.
"""
from __future__ import annotations

from importlib.metadata import version

import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module  # type: ignore[import-untyped]

from workflows.engine import clock, serializer


def test_spiffworkflow_is_the_version_the_engine_was_written_against():
    assert version("SpiffWorkflow") == "3.2.0", (
        "SpiffWorkflow left 3.2.0: re-check the private internals named in tests/workflows/test_spiff_version.py")


def test_the_workflow_converter_is_where_the_engine_takes_it_from():
    converter = serializer.workflow_converter
    for method in ("mapping_from_dict", "set_default_attributes", "subprocesses_from_dict", "mapping_to_dict"):
        assert callable(getattr(converter, method, None)), method


def test_the_timer_module_reads_the_engine_clock():
    assert timer_module.datetime is clock.ContextDateTime
