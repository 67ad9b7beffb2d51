"""Checks an uploaded set of .bpmn/.dmn files before it may become a version, and says plainly what is wrong.

Process owners bring files from Camunda Modeler. SpiffWorkflow accepts much that it then runs wrongly or not at all
(docs/ENGINE.md): expressions are only read at run time, Camunda 8 files and Java service tasks are half-parsed,
UNIQUE overlaps are never reported. So every file is read here first, as XML (never executed), and every problem is
reported at once with the file, the element, its line and a sentence (a Text: Vietnamese, shown in the reader's
language by the web layer). Only a set without errors goes on to the engine's own compilation, the last check.

The set is read once into an explicit index (`index.read`: safe XML parsing, size limits, the BPMN/DMN schemas,
duplicate ids); then each check is a function of that index yielding problems: every process element by element
(`elements`, `tasks`, `expressions`: roles, forms, expressions through the sandbox's checker, and the constructs
the engine refuses, from the engine's own table workflows/engine/constructs.py), every decision table (`dmn`),
the references across files, and the engine's compilation (`references`).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from workflows.errors import DefinitionInvalid
from workflows.messages import Text
from workflows.validation import index as _index
from workflows.validation.dmn import check_dmn_file
from workflows.validation.elements import check_bpmn_file
from workflows.validation.index import MAX_FILES, MAX_TOTAL_BYTES, UploadIndex
from workflows.validation.messages import MESSAGES
from workflows.validation.outcomes import check_outcomes
from workflows.validation.references import check_compiles, check_references
from workflows.validation.report import Problem, Report, problem
from workflows.validation.xmltools import CAMUNDA, FILE_NAME

__all__ = ["CAMUNDA", "FILE_NAME", "MAX_FILES", "MAX_TOTAL_BYTES", "MESSAGES", "Problem", "Report", "UploadIndex",
           "check", "problem", "validate"]



def check_each_file(upload: UploadIndex) -> Iterator[Problem]:
    """Each readable file on its own, in the order of their names."""
    for name, root in upload.roots.items():
        yield from (check_bpmn_file if upload.kinds[name] == "bpmn" else check_dmn_file)(name, root)


# The checks of a readable set, in the order their problems are reported.
CHECKS = (check_each_file, check_references, check_outcomes)


def validate(files: Mapping[str, bytes]) -> Report:
    """Check FILES (name -> bytes as uploaded) as one set; never raises for anything in the files themselves."""
    report = Report()
    try:
        _run(dict(files), report)
    except Exception as exc:  # noqa: BLE001 - whatever a file holds, the owner gets a report, not a server error
        report.problems.append(problem("engine", detail=f"{type(exc).__name__}: {exc}"))
    return report


def _run(files: dict[str, bytes], report: Report) -> None:
    if not files:
        report.problems.append(problem("empty_upload"))
        return
    upload, found = _index.read(files)
    report.problems += found
    for check_upload in CHECKS:
        report.problems += check_upload(upload)
    report.processes = sorted(p for p, el in upload.process_elements.items() if el.get("isExecutable") == "true")
    report.decisions = sorted(upload.decision_file)
    if not report.errors and upload.roots:
        report.problems += check_compiles(upload)


def check(files: Mapping[str, bytes]) -> Report:
    """Validate FILES; raise DefinitionInvalid listing every error, else return the report (warnings only)."""
    report = validate(files)
    if not report.ok:
        count = len(report.errors)
        raise DefinitionInvalid(
            Text("Bộ tệp có {count} lỗi; chưa tạo phiên bản mới.", count=count),
            [p.as_dict() for p in report.errors],
        )
    return report
