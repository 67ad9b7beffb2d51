"""What an agency report's end means: the end event's `outcome` property (accepted | rejected) is the fact.

A process owner may add ends to agency_report in Camunda Modeler (a "rejected" end, say). Which end an instance reached
decides whether the unit's report came in, so the application never guesses from "the instance completed": an end
event says `<camunda:property name="outcome" value="accepted" />` or `rejected`, and an end it cannot classify counts
as not accepted (and the upload validator warns about it, naming it: `unclassified_end_events`).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping

from workflows import engine

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
OUTCOMES = ("accepted", "rejected")
REPORT_PROCESS = "agency_report"


def end_event_outcomes(files: Mapping[str, str | bytes], process_id: str = REPORT_PROCESS) -> dict[str, str | None]:
    """Each end event of PROCESS_ID in FILES → its outcome, or None when it names none (or an unknown one)."""
    found: dict[str, str | None] = {}
    for name, content in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        found.update(_outcomes_of(name, data, process_id))
    return found


@functools.lru_cache(maxsize=32)
def _outcomes_of(name: str, content: bytes, process_id: str) -> dict[str, str | None]:
    root = engine.parse_xml(name, content)
    outcomes: dict[str, str | None] = {}
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") != process_id:
            continue
        for end in process.iter(f"{{{BPMN}}}endEvent"):
            value = None
            for prop in end.iter(f"{{{CAMUNDA}}}property"):
                if prop.get("name") == "outcome":
                    value = (prop.get("value") or "").strip().lower()
            outcomes[end.get("id", "")] = value if value in OUTCOMES else None
    return outcomes


def unclassified_end_events(files: Mapping[str, str | bytes], process_id: str = REPORT_PROCESS) -> list[str]:
    """The end events of PROCESS_ID whose outcome the application cannot tell (for the upload warning)."""
    return sorted(end for end, outcome in end_event_outcomes(files, process_id).items() if outcome is None)


def reached_outcome(run: engine.Run, files: Mapping[str, str | bytes]) -> str | None:
    """The outcome of the end a completed RUN reached: 'accepted', 'rejected', or None (unclassified or none)."""
    outcomes = end_event_outcomes(files)
    reached = [outcomes.get(end) for end in _completed_ends(run, set(outcomes))]
    if "rejected" in reached or None in reached:
        return None if None in reached and "rejected" not in reached else "rejected"
    return "accepted" if reached else None


def _completed_ends(run: engine.Run, end_ids: set[str]) -> list[str]:
    # The engine's Run has no public "which end was reached" yet; this reads the finished workflow's tasks (the
    # COMPLETED state is 64 in SpiffWorkflow 3). Move it into workflows/engine once that package offers it.
    workflow = run._wf  # noqa: SLF001
    return [t.task_spec.bpmn_id for t in workflow.get_tasks() if getattr(t.task_spec, "bpmn_id", None) in end_ids
            and t.state == 64]
