"""The uploaded set read once: each readable file's XML, and what the checks look up across files.

`read(files)` parses every file safely (never running anything) and returns the index with the problems met while
reading: names, types, sizes, encodings, XML, Camunda 8 files, the schemas, duplicate ids. The checks then only look.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from workflows.engine import MAX_FILE_BYTES, parse_xml, schema_errors
from workflows.engine.constructs import JAVA_ATTRIBUTES
from workflows.engine.xml import refusal
from workflows.errors import DefinitionInvalid
from workflows.messages import Text
from workflows.validation.messages import KIND_BPMN, KIND_DMN, XML_ERROR_OTHER, XML_ERRORS
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import (
    BPMN,
    DMN_NAMESPACES,
    FILE_NAME,
    ZEEBE,
    camunda,
    children,
    declared,
    event_kinds,
    local_name,
    namespace_of,
    signal_name,
    wrapped,
)

MAX_FILES = 30
MAX_TOTAL_BYTES = 10_000_000


@dataclass(frozen=True)
class UploadIndex:
    """An uploaded set as the checks see it. Elements are lxml elements of the parsed files."""

    files: Mapping[str, bytes]  # as uploaded
    roots: Mapping[str, Any]  # file -> root element, for each file that could be read
    kinds: Mapping[str, str]  # file -> "bpmn" | "dmn"
    process_file: Mapping[str, str]  # process id -> file (the first file declaring it)
    process_elements: Mapping[str, Any]
    decision_file: Mapping[str, str]  # decision id -> file (one decision per file is read)
    decision_elements: Mapping[str, Any]
    unreadable: bool  # the last file could not be read: do not also claim that no process exists
    thrown_signals: frozenset[str]

    def processes(self) -> list[tuple[str, Any]]:
        """(file, process element) of every process in every BPMN file, ids or not."""
        return [(name, process) for name, root in self.roots.items() if self.kinds[name] == "bpmn"
                for process in children(root, "process")]

    def elements(self, *tags: str) -> list[tuple[str, Any]]:
        """(file, element) of every BPMN element named one of TAGS inside a process, in document order."""
        wanted = {f"{{{BPMN}}}{tag}" for tag in tags}
        return [(name, element) for name, process in self.processes() for element in process.iter()
                if element is not process and element.tag in wanted]


def read(files: Mapping[str, bytes]) -> tuple[UploadIndex, list[Problem]]:
    """Read FILES into an index; the problems are those met while reading and indexing."""
    problems: list[Problem] = []
    if len(files) > MAX_FILES:
        problems.append(problem("too_many_files", limit=MAX_FILES))
    if sum(len(content) for content in files.values()) > MAX_TOTAL_BYTES:
        problems.append(problem("total_too_large", limit=MAX_TOTAL_BYTES // 1_000_000))
    roots: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    unreadable = False
    for name, content in sorted(files.items()):
        found = _read_file(name, content, problems)
        unreadable = found is None
        if found is not None:
            roots[name], kinds[name] = found
    process_file: dict[str, str] = {}
    process_elements: dict[str, Any] = {}
    decision_file: dict[str, str] = {}
    decision_elements: dict[str, Any] = {}
    thrown: set[str] = set()
    for name, root in roots.items():
        if kinds[name] == "bpmn":
            problems += _index_processes(name, root, process_file, process_elements)
            for element in root.iter(f"{{{BPMN}}}signalEventDefinition"):
                if local_name(element.getparent()) in ("intermediateThrowEvent", "endEvent"):
                    thrown.add(signal_name(root, element) or "")
        else:
            problems += _index_decisions(name, root, decision_file, decision_elements)
    index = UploadIndex(dict(files), roots, kinds, process_file, process_elements, decision_file, decision_elements,
                        unreadable, frozenset(thrown))
    return index, problems


def _read_file(name: str, content: bytes, problems: list[Problem]) -> tuple[Any, str] | None:
    """The root element and kind of one file, or None (with the reason added to PROBLEMS)."""
    if not FILE_NAME.fullmatch(name) or name.startswith(".") or ".." in name:
        problems.append(problem("bad_name", name))
        return None
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "form":
        problems.append(problem("camunda_form", name))
        return None
    if extension not in ("bpmn", "dmn"):
        problems.append(problem("file_type", name))
        return None
    refused = refusal(content)
    if refused is not None:
        code, line = refused
        params = {"limit": MAX_FILE_BYTES // 1_000_000} if code == "too_large" else {}
        problems.append(problem(code, name, line=line if code == "doctype" else None, **params))
        return None
    try:
        root = parse_xml(name, content)
    except DefinitionInvalid as exc:
        problems.append(xml_syntax_problem(name, exc))
        return None
    namespace = namespace_of(root)
    kind = "bpmn" if namespace == BPMN and local_name(root) == "definitions" else (
        "dmn" if namespace in DMN_NAMESPACES and local_name(root) == "definitions" else None)
    if kind is None:
        problems.append(problem("not_bpmn", name, line=root.sourceline, tag=local_name(root)))
        return None
    if kind != extension:
        problems.append(problem("wrong_extension", name, ext=f".{extension}",
                                kind=Text(KIND_BPMN) if kind == "bpmn" else Text(KIND_DMN)))
        return None
    camunda8 = _camunda8(name, root)
    if camunda8:
        problems += camunda8
        return None
    for line, message in schema_errors(root) or []:
        problems.append(problem("schema", name, line=line, detail=_schema_detail(message)))
    return root, kind


def _schema_detail(message: str) -> str:
    return re.sub(r"\{[^}]*\}", "", message)


def _camunda8(name: str, root: Any) -> list[Problem]:
    """The problems of a file drawn for Camunda 8 (Zeebe), or [] for a Camunda 7 file."""
    platform = root.get("{http://camunda.org/schema/modeler/1.0}executionPlatform") or ""
    zeebe = [el for el in root.iter()
             if namespace_of(el) == ZEEBE or any(a.startswith(f"{{{ZEEBE}}}") for a in el.attrib)]
    if not zeebe and platform != "Camunda Cloud" and ZEEBE not in root.nsmap.values():
        return []
    problems = [problem("camunda8", name, line=root.sourceline)]
    for element in zeebe:
        owner = element
        while owner is not None and (namespace_of(owner) == ZEEBE or local_name(owner) == "extensionElements"):
            owner = owner.getparent()
        what = (f"zeebe:{local_name(element)}" if namespace_of(element) == ZEEBE else
                ", ".join(f"zeebe:{etree.QName(a).localname}" for a in element.attrib if a.startswith(f"{{{ZEEBE}}}")))
        problems.append(problem("zeebe", name, owner if owner is not None else element, line=element.sourceline,
                                what=what))
    return problems


def _index_processes(name: str, root: Any, process_file: dict[str, str],
                     process_elements: dict[str, Any]) -> list[Problem]:
    problems = []
    for process in children(root, "process"):
        ident = process.get("id")
        if not ident:
            problems.append(problem("process_no_id", name, process))
            continue
        if ident in process_file:
            problems.append(problem("duplicate_process", name, process, id=ident, other=process_file[ident]))
            continue
        process_file[ident] = name
        process_elements[ident] = process
        if process.get("isExecutable") != "true" and process.find(f".//{{{BPMN}}}*") is not None:
            problems.append(problem("not_executable", name, process, severity="warning"))
    return problems


def _index_decisions(name: str, root: Any, decision_file: dict[str, str],
                     decision_elements: dict[str, Any]) -> list[Problem]:
    problems = []
    decisions = children(root, "decision", namespace_of(root))
    if len(decisions) > 1:
        problems.append(problem("dmn_many_decisions", name, line=root.sourceline, count=len(decisions),
                                ids=", ".join(d.get("id") or "?" for d in decisions)))
    for decision in decisions[:1]:
        ident = decision.get("id")
        if ident in decision_file:
            problems.append(problem("duplicate_decision", name, decision, id=ident, other=decision_file[ident]))
        elif ident:
            decision_file[ident] = name
            decision_elements[ident] = decision
    return problems


# --- what tasks and events refer to across files --------------------------------------------------------------


def called_process(task: Any) -> str | None:
    """The process a call activity calls, when it names one plainly (else its own check reports it)."""
    ref = task.get("calledElement")
    return ref if ref and not wrapped(ref) else None


def decision_ref(task: Any) -> str | None:
    """The decision a business rule task evaluates, when it names one plainly and runs no Java."""
    if any(camunda(task, a) for a in (*JAVA_ATTRIBUTES, "type")):
        return None
    ref = camunda(task, "decisionRef")
    return ref if ref and not wrapped(ref) else None


def caught_signals(event: Any) -> list[str]:
    """The names of the signals EVENT waits for (a catch event whose signal reference, if any, is declared)."""
    tag = local_name(event)
    if tag in ("intermediateThrowEvent", "endEvent") or tag not in (
            "intermediateCatchEvent", "boundaryEvent", "startEvent"):
        return []
    if tag == "startEvent" and event_kinds(event) and local_name(event.getparent()) == "process":
        return []
    root = event.getroottree().getroot()
    signals = declared(root)["signal"]
    found = []
    for definition in event.iterchildren(f"{{{BPMN}}}signalEventDefinition"):
        ref = definition.get("signalRef")
        if ref is None or ref in signals:
            found.append(signal_name(root, definition) or "")
    return found


_XML_DETAIL = re.compile(
    r"(?:mismatch: (?P<m1>\S+) line (?P<ml>\d+) and (?P<m2>[^,]+)|in tag (?P<t>\S+)|Entity '(?P<e>[^']+)'"
    r"|Attribute (?P<a>\S+) redefined|prefix (?P<p1>\S+) on (?P<p2>\S+))")


def xml_syntax_problem(name: str, exc: DefinitionInvalid) -> Problem:
    """The XML parser's complaint in the page's language, with its line and column."""
    cause = exc.__cause__
    message = getattr(cause, "msg", None)
    position = getattr(cause, "position", None)
    if message is None or position is None:
        return problem("not_xml", name, detail=exc.message)
    found = _XML_DETAIL.search(message)
    groups = found.groupdict() if found else {}
    first = groups.get("m1") or groups.get("t") or groups.get("e") or groups.get("a") or groups.get("p1") or ""
    second = groups.get("m2") or groups.get("p2") or ""
    detail = Text(XML_ERRORS.get(getattr(cause, "code", None), XML_ERROR_OTHER), first=first, second=second,
                  first_line=groups.get("ml") or "")
    return problem("not_xml", name, line=position[0], template="xml_syntax", detail=detail, row=position[0],
                   column=position[1])
