"""Checks across files (called processes, decisions, signals, an executable process at all) and, last, the engine."""
from __future__ import annotations

from collections.abc import Iterator

from workflows import engine
from workflows.errors import DefinitionInvalid
from workflows.messages import Text
from workflows.validation.dmn import several_hits
from workflows.validation.index import UploadIndex, called_process, caught_signals, decision_ref
from workflows.validation.messages import MESSAGES
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import camunda, namespace_of


def check_references(index: UploadIndex) -> Iterator[Problem]:
    for name, task in index.elements("callActivity"):
        ref = called_process(task)
        if ref is not None and ref not in index.process_file:
            yield problem("called_missing", name, task, ref=ref)
    used = set()
    rule_tasks = [(name, task, decision_ref(task)) for name, task in index.elements("businessRuleTask")]
    for name, task, ref in rule_tasks:
        if ref is not None:
            used.add(ref)
            if ref not in index.decision_file:
                yield problem("decision_missing", name, task, ref=ref)
    for name, task, ref in rule_tasks:
        mapping = camunda(task, "mapDecisionResult") or "resultList"
        decision = index.decision_elements.get(ref) if ref is not None else None
        if decision is not None and camunda(task, "mapDecisionResult") in ("singleResult", "singleEntry"):
            several = several_hits(decision)
            if several is not None:
                yield problem("decision_several", name, task, ref=ref, mapping=mapping, first=several[0],
                              second=several[1], example=several[2])
        if decision is None or not camunda(task, "resultVariable") or mapping not in ("singleEntry", "collectEntries"):
            continue
        count = len(decision.findall(f".//{{{namespace_of(decision)}}}output"))
        if count != 1 and decision.find(f"{{{namespace_of(decision)}}}decisionTable") is not None:
            yield problem("decision_outputs", name, task, ref=ref, mapping=mapping, count=count)
    for name, event in index.elements("intermediateCatchEvent", "boundaryEvent", "startEvent"):
        for signal in caught_signals(event):
            if signal not in index.thrown_signals:
                yield problem("signal_unmatched", name, event, name=signal)
    for ident, file in index.decision_file.items():
        if ident not in used:
            yield problem("decision_unused", file, index.decision_elements[ident], severity="warning")
    if not index.unreadable and not any(el.get("isExecutable") == "true" for el in index.process_elements.values()):
        yield problem("no_process")


def check_compiles(index: UploadIndex) -> Iterator[Problem]:
    """The engine's own compilation, the last check: whatever it still refuses, in its words."""
    readable = {n: c for n, c in index.files.items() if n in index.roots}
    try:
        engine.compile_files(readable)
    except DefinitionInvalid as exc:
        for found in exc.problems or [{"message": exc.message}]:
            yield Problem(code="engine", message=Text(MESSAGES["engine"], detail=found.get("message")),
                          file=found.get("file"), element=found.get("element"), name=found.get("name"),
                          line=found.get("line"))
