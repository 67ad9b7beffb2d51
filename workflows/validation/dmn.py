"""Checks of decision tables: one decision per file, FEEL cells, hit policies, and UNIQUE/ANY overlaps shown from
the table alone (beyond MAX_STATIC_RULES rules they are left to the engine's run-time check)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from workflows.engine import expressions, feel
from workflows.engine.constructs import AGGREGATIONS, HIT_POLICIES
from workflows.validation.report import Problem, problem
from workflows.validation.xmltools import (
    DMN_CAMUNDA,
    IDENTIFIER,
    children,
    column_label,
    local_name,
    namespace_of,
    text_of,
)

MAX_STATIC_RULES = 300


def check_dmn_file(name: str, root: Any) -> Iterator[Problem]:
    """Every decision of the DMN file NAME."""
    namespace = namespace_of(root)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if namespace_of(element) == namespace and local_name(element) == "businessKnowledgeModel":
            yield problem("dmn_bkm", name, element)
    for decision in children(root, "decision", namespace):
        required: dict[str, Any] = {}
        for requirement in decision.iterfind(f"{{{namespace}}}informationRequirement/{{{namespace}}}"
                                             "requiredDecision"):
            required.setdefault((requirement.get("href") or "").lstrip("#"), requirement)
        for ref, requirement in required.items():
            yield problem("dmn_drg", name, decision, line=requirement.sourceline, ref=ref)
        table = decision.find(f"{{{namespace}}}decisionTable")
        if table is None:
            logic = next((c for c in decision if local_name(c) not in (
                "description", "extensionElements", "informationRequirement", "knowledgeRequirement",
                "authorityRequirement", "question", "allowedAnswers", "variable")), None)
            yield problem("dmn_not_table", name, decision, what=local_name(logic) if logic is not None else "—")
            continue
        yield from _check_table(name, decision, table, namespace)


def _check_table(name: str, decision: Any, table: Any, ns: str) -> Iterator[Problem]:
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    aggregation = (table.get("aggregation") or "").strip().upper()
    inputs = children(table, "input", ns)
    outputs = children(table, "output", ns)
    if policy not in HIT_POLICIES:
        yield problem("hit_policy", name, decision, line=table.sourceline, policy=policy)
    if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS or len(outputs) != 1):
        yield problem("aggregation", name, decision, line=table.sourceline, what=aggregation)
    for column in inputs:
        yield from _check_input_column(name, column, ns)
    names: set[str] = set()
    for column in outputs:
        output_name = column.get("name") or column.get("label") or ""
        if not IDENTIFIER.fullmatch(output_name) or output_name in names or output_name.startswith("_"):
            yield problem("dmn_output_name", name, column)
        names.add(output_name)
    parsed_rules = []
    for row, rule in enumerate(children(table, "rule", ns), start=1):
        parsed, problems = _read_rule(name, decision, rule, row, inputs, outputs, ns)
        parsed_rules.append(parsed)
        yield from problems
    rules = [r for r in parsed_rules if r is not None]
    if len(rules) == len(parsed_rules) and policy in ("UNIQUE", "ANY") and len(rules) <= MAX_STATIC_RULES:
        whole = _whole_columns(inputs, ns)
        if whole is not None:
            yield from _check_overlaps(name, decision, policy, rules, [column_label(c) for c in inputs], whole)


def _whole_columns(inputs: list[Any], ns: str) -> list[bool] | None:
    """Per input column, whether it holds whole numbers; None when two columns read the same expression (then an
    example input could contradict itself)."""
    expressions_used = [text_of(c.find(f"{{{ns}}}inputExpression/{{{ns}}}text")) for c in inputs]
    if len(set(expressions_used)) != len(expressions_used):
        return None
    return [(c.find(f"{{{ns}}}inputExpression").get("typeRef") or "").lower() in ("integer", "long", "int")
            if c.find(f"{{{ns}}}inputExpression") is not None else False for c in inputs]


def several_hits(decision: Any) -> tuple[int, int, str] | None:
    """For a table that may hit several rules (COLLECT without aggregation, RULE ORDER): two rows that match the
    same input and that input described, or None when no such input exists or none can be shown from the table."""
    ns = namespace_of(decision)
    table = decision.find(f"{{{ns}}}decisionTable")
    if table is None:
        return None
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    if policy not in ("COLLECT", "RULE ORDER") or (table.get("aggregation") or "").strip():
        return None
    inputs, outputs = children(table, "input", ns), children(table, "output", ns)
    parsed = [_read_rule("", decision, rule, row, inputs, outputs, ns)[0]
              for row, rule in enumerate(children(table, "rule", ns), start=1)]
    whole = _whole_columns(inputs, ns)
    if any(r is None for r in parsed) or whole is None or len(parsed) > MAX_STATIC_RULES:
        return None
    rules = [r for r in parsed if r is not None]
    for first, second in combinations(rules, 2):
        example = _overlap(first.tests, second.tests, whole)
        if example is not None:
            labels = [column_label(c) for c in inputs]
            return first.row, second.row, ", ".join(f"{c} = {v}" for c, v in zip(labels, example, strict=True)) or "—"
    return None


def _check_input_column(name: str, column: Any, ns: str) -> Iterator[Problem]:
    expression = column.find(f"{{{ns}}}inputExpression")
    language = (expression.get("expressionLanguage") if expression is not None else None) or ""
    if language and language.lower() not in ("feel", "juel", "https://www.omg.org/spec/dmn/20191111/feel/"):
        yield problem("dmn_language", name, column, what=language)
        return
    variable = column.get(f"{{{DMN_CAMUNDA}}}inputVariable")
    if variable and variable != "cellInput":
        yield problem("dmn_input_variable", name, column, what=variable)
    text = text_of(expression.find(f"{{{ns}}}text")) if expression is not None else ""
    if not text:
        yield problem("dmn_input", name, column, detail="the input expression is empty")
        return
    try:
        expressions.check(text, dialect="feel")
    except expressions.ExpressionError as exc:
        yield problem("dmn_input", name, column, detail=str(exc))


def _read_rule(name: str, decision: Any, rule: Any, row: int, inputs: list[Any], outputs: list[Any],
               ns: str) -> tuple[_Rule | None, list[Problem]]:
    """One rule's cells read as FEEL: the rule (None when a cell cannot be read) and what is wrong with it."""
    entries = children(rule, "inputEntry", ns)
    results = children(rule, "outputEntry", ns)
    problems = [problem("dmn_entries", name, decision, line=rule.sourceline, template=template, row=row, got=len(got),
                        expected=len(expected))
                for got, expected, template in ((entries, inputs, "dmn_entries_input"),
                                                (results, outputs, "dmn_entries_output"))
                if len(got) != len(expected)]
    if problems:
        return None, problems
    tests = []
    for entry, column in zip(entries, inputs, strict=True):
        cell = text_of(entry.find(f"{{{ns}}}text"))
        language = entry.get("expressionLanguage")
        if language and language.lower() not in ("feel", "https://www.omg.org/spec/dmn/20191111/feel/"):
            problems.append(problem("dmn_language", name, decision, line=entry.sourceline, what=language))
            continue
        try:
            tests.append(feel.parse_unary_tests(cell))
        except feel.FeelError as exc:
            problems.append(problem("dmn_cell", name, decision, line=entry.sourceline, cell=cell, row=row,
                                    column=column_label(column), detail=str(exc)))
    values = []
    for entry, column in zip(results, outputs, strict=True):
        cell = text_of(entry.find(f"{{{ns}}}text"))
        try:
            values.append(feel.parse_output_literal(cell))
        except feel.FeelError as exc:
            problems.append(problem("dmn_cell", name, decision, line=entry.sourceline, cell=cell, row=row,
                                    column=column.get("name") or column.get("label") or "", detail=str(exc)))
    return (None if problems else _Rule(row, tuple(tests), tuple(values))), problems


def _check_overlaps(name: str, decision: Any, policy: str, rules: list[_Rule], columns: list[str],
                   whole: list[bool]) -> Iterator[Problem]:
    reported = 0
    for first, second in combinations(rules, 2):
        if reported >= 10:
            break
        if policy == "ANY" and (any(callable(v) for v in (*first.outputs, *second.outputs))
                                or first.outputs == second.outputs):
            continue
        example = _overlap(first.tests, second.tests, whole)
        if example is None:
            continue
        described = ", ".join(f"{column} = {feel_value}" for column, feel_value in zip(columns, example,
                                                                                      strict=True))
        yield problem("unique_overlap" if policy == "UNIQUE" else "any_disagree", name, decision,
                      line=decision.sourceline, first=first.row, second=second.row, example=described or "—")
        reported += 1


# --- static UNIQUE overlaps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    row: int
    tests: tuple[feel.UnaryTests, ...]
    outputs: tuple[Any, ...]


def _literals(cell: feel.UnaryTests) -> list[Any] | None:
    """The literal values a cell mentions; None when it reads a variable (then nothing can be shown statically)."""
    found = []
    for test in cell.tests:
        endpoints = [test.low, test.high] if hasattr(test, "low") else [test.endpoint]
        for endpoint in endpoints:
            if not hasattr(endpoint, "value"):
                return None
            found.append(endpoint.value)
    return found


def _candidates(cells: tuple[feel.UnaryTests, feel.UnaryTests], whole: bool) -> list[Any] | None:
    """Values that, between them, hit every region the two cells cut the line into; None if unknowable."""
    values: list[Any] = []
    for cell in cells:
        literals = _literals(cell)
        if literals is None:
            return None
        values += literals
    numbers = sorted({v for v in values if isinstance(v, int | float) and not isinstance(v, bool)})
    extra: list[Any] = []
    if numbers:
        extra += [numbers[0] - 1, numbers[-1] + 1]
        if not whole:  # between two integer bounds of an integer column there may be no value at all
            extra += [(a + b) / 2 for a, b in zip(numbers, numbers[1:], strict=False)]
        extra += [n + d for n in numbers for d in (-1, 1)]
    if any(isinstance(v, str) for v in values) or not values:
        extra.append("\u2063other")  # a text no cell names
    if any(isinstance(v, bool) for v in values):
        extra += [True, False]
    ordered = []
    for value in [*values, *extra]:
        if not any(type(value) is type(o) and value == o for o in ordered):
            ordered.append(value)
    return ordered


def _overlap(first: tuple[feel.UnaryTests, ...], second: tuple[feel.UnaryTests, ...],
             whole: list[bool]) -> list[str] | None:
    """An input, one value per column, matched by both rules; None when none exists or none can be shown."""
    example = []
    for a, b, integer in zip(first, second, whole, strict=True):
        if not a.tests and not b.tests:
            example.append("bất kỳ / any")
            continue
        candidates = _candidates((a, b), integer)
        if candidates is None:
            return None
        hit = next((v for v in candidates if a.matches(v) and b.matches(v)), _MISSING)
        if hit is _MISSING:
            return None
        example.append(feel.format_value(hit) if not (isinstance(hit, str) and hit.startswith("\u2063")) else
                       "một giá trị khác / another value")
    return example


_MISSING = object()
