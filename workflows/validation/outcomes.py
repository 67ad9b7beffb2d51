"""End events the application reads an outcome from: each must say what it means (engine/constructs.py, outcomes).

Without the property the application has to guess from the diagram, and a second end event once counted as
"accepted": the upload warns for each such end event rather than let the count be wrong unnoticed.
"""
from __future__ import annotations

from collections.abc import Iterator

from workflows.engine.constructs import OUTCOME_PROCESSES, OUTCOME_PROPERTY, OUTCOME_VALUES
from workflows.validation.index import UploadIndex
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import BPMN, CAMUNDA


def check_outcomes(index: UploadIndex) -> Iterator[Problem]:
    for process_id, process in index.process_elements.items():
        if process_id not in OUTCOME_PROCESSES:
            continue
        name = index.process_file[process_id]
        for end in process.iterfind(f"{{{BPMN}}}endEvent"):  # the process's own ends, not a sub-process's
            values = [p.get("value") for p in end.iterfind(
                f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property")
                if p.get("name") == OUTCOME_PROPERTY]
            if not values:
                yield problem("outcome_missing", name, end, severity="warning", process=process_id,
                              values=" | ".join(OUTCOME_VALUES))
            elif len(values) > 1 or values[0] not in OUTCOME_VALUES:
                yield problem("outcome_value", name, end, severity="warning", value=", ".join(map(str, values)),
                              values=" | ".join(OUTCOME_VALUES))
