"""Checks of the expressions in diagrams (conditions, timers, task dates, loops) with the sandbox's own checker."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from workflows import engine
from workflows.engine import expressions
from workflows.messages import Text
from workflows.validation.messages import DUE_DATE, FOLLOW_UP_DATE
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import BPMN, IDENTIFIER, camunda, local_name, text_of, wrapped


def check_task_date(name: str, task: Any, attribute: str, value: str) -> Iterator[Problem]:
    text = value.strip()
    if engine.timer_literal_kind(text) in ("timeDate", "timeDuration"):  # a date, or that long from now
        return
    if engine.timer_literal_kind(text) is not None or not wrapped(text):
        what = DUE_DATE if attribute == "dueDate" else FOLLOW_UP_DATE
        yield problem("task_date", name, task, what=Text(what), value=text)
        return
    yield from check_expression(name, task, text, attribute)


def check_timerEventDefinition(name: str, definition: Any) -> Iterator[Problem]:
    owner = definition.getparent()
    values = [child for child in definition if local_name(child) in engine.TIMER_LITERALS]
    if len(values) != 1:
        yield problem("timer_missing", name, owner, line=definition.sourceline)
        return
    kind, text = local_name(values[0]), text_of(values[0])
    if not text:
        yield problem("timer_missing", name, owner, line=values[0].sourceline)
    elif engine.timer_literal_kind(text) is not None:
        error = engine.timer_literal_error(kind, text)
        if error:
            yield problem("timer", name, owner, line=values[0].sourceline, detail=error)
    elif kind == "timeCycle" and re.fullmatch(r"\S+(\s+\S+){4,6}", text) and not wrapped(text):
        yield problem("timer_cron", name, owner, line=values[0].sourceline, value=text)
    elif re.fullmatch(r"(R\d*/)?P[\dYMWDTHS.,]*[A-Z]?|\d{4}-[\d\-T:.+Z]*", text):
        # Looks like an ISO value with a typo (P5X): as an expression it would name a variable that never exists.
        yield problem("timer", name, owner, line=values[0].sourceline,
                      detail=f"'{text}' is not a valid ISO-8601 {kind} value")
    elif kind != "timeDate" and re.search(r"\b(now|dateTime)\s*\(", text):
        # A date-time where a duration or a cycle belongs would fail when the timer is reached.
        yield problem("timer", name, owner, line=values[0].sourceline,
                      detail=f"'{text}' gives a date-time; a {kind} timer needs an ISO-8601 {kind} value such as "
                             f"{'P5D' if kind == 'timeDuration' else 'R3/P1D'}. For a date-time use timeDate")
    else:
        try:
            expressions.check(text)
        except expressions.ExpressionError as exc:
            yield problem("timer", name, owner, line=values[0].sourceline, detail=str(exc))


def check_loop(name: str, element: Any) -> Iterator[Problem]:
    loop = element.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
    if loop is None:
        return
    collection = camunda(loop, "collection")
    cardinality = loop.find(f"{{{BPMN}}}loopCardinality")
    if collection is None and cardinality is None:
        yield problem("mi_standard", name, element, line=loop.sourceline)
    if collection is not None and not IDENTIFIER.fullmatch(engine.plain_collection(collection)):
        yield problem("mi_collection", name, element, line=loop.sourceline, value=collection)
    for child, where in ((cardinality, "loopCardinality"),
                         (loop.find(f"{{{BPMN}}}completionCondition"), "completionCondition")):
        if child is not None:
            yield from check_expression(name, element, text_of(child), where, line=child.sourceline)


def check_expression(name: str, element: Any, text: str, where: str, line: int | None = None) -> Iterator[Problem]:
    try:
        expressions.check(text)
    except expressions.ExpressionError as exc:
        yield problem("expression", name, element, line=line, where=where, detail=str(exc))
