"""Decision tables as Camunda 7 evaluates them: FEEL unary tests in the cells and the hit policies enforced.

SpiffWorkflow's own DMN engine reads cells as Python and answers with the first match whatever the hit policy says
(docs/ENGINE.md, "Decision tables"); this engine replaces it, in parsed specs and in deserialised ones.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter  # type: ignore[import-untyped]

import workflows.engine.expressions as expressions
import workflows.engine.feel as feel
from workflows.engine.constructs import AGGREGATIONS, HIT_POLICIES
from workflows.errors import EngineError


@dataclass(frozen=True)
class MatchedRule:
    row: int
    rule_id: str
    description: str
    outputs: dict[str, Any]


class FeelDecisionEngine(DMNEngine):
    """Decision tables as Camunda evaluates them: FEEL unary tests and real hit policies.

    A COLLECT table with an aggregation carries it in its hit policy ("COLLECT SUM"), so it survives serialisation.
    A table whose cells and outputs are all literals, and whose input expressions call no clock, answers from the
    variables its inputs read alone; its answers are kept per those variables' values (proposing outcomes asks each
    table the same few questions once per unit).
    """

    def __init__(self, decision_table: Any) -> None:
        super().__init__(decision_table)
        # Answers by the values of the variables the inputs read (skips the inputs too), and by the input values.
        self._by_variables: dict[Any, tuple[dict[str, Any], list[MatchedRule]]] = {}
        self._by_inputs: dict[Any, tuple[dict[str, Any], list[MatchedRule]]] = {}
        self._kept: tuple[bool, tuple[str, ...] | None] | None = None  # (cells all literal, variables read)

    def evaluate_table(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[MatchedRule]]:
        table = self.decision_table
        literal_cells, reads = self._keeping()
        by_variables = _key([data[name] for name in reads]) \
            if reads is not None and all(name in data for name in reads) else None
        # One get() per lookup: another thread may clear the dictionary between a test and a read.
        kept = self._by_variables.get(by_variables) if by_variables is not None else None
        if kept is not None:
            return _copied(kept)  # the caller merges it into task data, and may change it
        inputs = [
            expressions.evaluate(i.expression or i.label, data, dialect="feel") for i in table.inputs
        ]
        by_inputs = _key(inputs) if literal_cells else None
        kept = self._by_inputs.get(by_inputs) if by_inputs is not None else None
        if kept is not None:
            answer = _copied(kept)
        else:
            answer = self._evaluate(table, inputs, data)
            _keep(self._by_inputs, by_inputs, answer)
        _keep(self._by_variables, by_variables, answer)
        return answer

    def _keeping(self) -> tuple[bool, tuple[str, ...] | None]:
        """Whether every cell and output is a literal (the answer follows from the input values), and the variables
        the input expressions read if the answer follows from their values alone (else None)."""
        if self._kept is None:
            table, names = self.decision_table, set()
            literal_cells = not any(
                feel.parse_unary_tests(entry.lhs[0] if entry.lhs else None).reads_variables
                for rule in table.rules for entry in rule.inputEntries
            ) and not any(callable(feel.parse_output_literal(e.text))
                          for rule in table.rules for e in rule.outputEntries)
            try:
                for prepared in (expressions.prepare(i.expression or i.label, "feel") for i in table.inputs):
                    if prepared.calls - _PURE_FUNCTIONS:
                        raise ValueError("a clock or a function of the caller")
                    names |= prepared.names - prepared.calls
                reads: tuple[str, ...] | None = tuple(sorted(names)) if literal_cells else None
            except (ValueError, expressions.ExpressionError):
                reads = None
            self._kept = (literal_cells, reads)
        return self._kept

    def _evaluate(self, table: Any, inputs: list[Any],
                  data: Mapping[str, Any]) -> tuple[dict[str, Any], list[MatchedRule]]:
        matched: list[MatchedRule] = []
        for rule in table.rules:
            if all(
                feel.parse_unary_tests(entry.lhs[0] if entry.lhs else None).matches(value, data)
                for entry, value in zip(rule.inputEntries, inputs, strict=True)
            ):
                outputs = {
                    (e.output.name or e.output.label): feel.evaluate_output(e.text, data) if e.text else None
                    for e in rule.outputEntries
                }
                matched.append(MatchedRule(rule.row_number, rule.id, (rule.description or "").strip(), outputs))
                if table.hit_policy == "FIRST":
                    break
        names = [o.name or o.label for o in table.outputs]
        policy, aggregation = _hit_policy(table.hit_policy)
        if table.hit_policy not in HIT_POLICIES and aggregation not in AGGREGATIONS:
            # A stored spec from before this check, or a hand-made one: never answer with a silent first match.
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy {table.hit_policy}, "
                              "which this system does not evaluate")
        if aggregation:
            return {n: _aggregate(aggregation, [m.outputs[n] for m in matched], table) for n in names}, matched
        if policy in ("COLLECT", "RULE ORDER"):
            return {n: [m.outputs[n] for m in matched] for n in names}, matched
        if not matched:
            return {n: None for n in names}, matched
        if policy == "UNIQUE" and len(matched) > 1:
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy UNIQUE but rules {rows} "
                              "all match")
        if policy == "ANY" and any(m.outputs != matched[0].outputs for m in matched):
            rows = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{table.name or table.id}' has hit policy ANY but rules {rows} disagree")
        return dict(matched[0].outputs), matched

    def result(self, task: Any) -> dict[str, Any]:
        outputs, matched = self.evaluate_table(task.data)
        trace = dict(task.data.get("decision_trace") or {})
        trace[self.decision_table.id] = [{"row": m.row, "rule": m.description or m.rule_id} for m in matched]
        extensions = getattr(task.task_spec, "extensions", None) or {}
        result_variable = extensions.get("camunda:resultVariable")
        mapping = extensions.get("camunda:mapDecisionResult")
        if result_variable:
            updates = {result_variable: self._mapped(mapping or "resultList", outputs, matched, task)}
        elif mapping in ("singleResult", "singleEntry"):
            # Our own diagrams: the one result's outputs become process variables; a table that may hit several
            # rules (COLLECT, RULE ORDER) gives its one hit as plain values, never a one-element list.
            row = self._mapped("singleResult", outputs, matched, task)
            updates = dict(row) if row is not None else {o.name or o.label: None for o in self.decision_table.outputs}
        else:
            updates = dict(outputs)  # no mapping: every output becomes a variable as the hit policy gives it
        updates["decision_trace"] = trace
        # Spiff deep-merges the result into the task data, which would union a list with the one a previous run of
        # the same table left behind; drop the old values so the table's answer replaces them.
        for key in updates:
            task.data.pop(key, None)
        return updates

    def _mapped(self, mapping: str, outputs: dict[str, Any], matched: list[MatchedRule], task: Any = None) -> Any:
        """The decision result as Camunda's camunda:mapDecisionResult maps it into camunda:resultVariable."""
        table = self.decision_table
        policy, aggregation = _hit_policy(table.hit_policy)
        if policy in ("COLLECT", "RULE ORDER") and not aggregation:
            rows = [m.outputs for m in matched]
        else:
            rows = [outputs] if matched else []
        name = table.name or table.id
        if mapping in ("singleEntry", "singleResult") and len(rows) > 1:
            where = f" of task '{task.task_spec.bpmn_name or task.task_spec.name}'" if task is not None else ""
            numbers = ", ".join(str(m.row) for m in matched)
            raise EngineError(f"Decision table '{name}' matched {len(rows)} rules ({numbers}) but "
                              f"camunda:mapDecisionResult{where} is {mapping}, which takes one")
        if mapping == "singleResult":
            return dict(rows[0]) if rows else None
        if mapping == "resultList":
            return [dict(row) for row in rows]
        if len(table.outputs) != 1:
            raise EngineError(f"camunda:mapDecisionResult {mapping} needs a table with one output; "
                              f"'{name}' has {len(table.outputs)}")
        values = [next(iter(row.values())) for row in rows]
        if mapping == "singleEntry":
            return values[0] if values else None
        return values  # collectEntries


_ANSWERS_KEPT = 1024
_PURE_FUNCTIONS = expressions.BUILTIN_FUNCTIONS - {"now", "dateTime"}


def _keep(answers: dict[Any, Any], key: Any, answer: tuple[dict[str, Any], list[MatchedRule]]) -> None:
    if key is not None:
        if len(answers) >= _ANSWERS_KEPT:
            answers.clear()
        answers[key] = _copied(answer)


_SCALARS = (type(None), bool, int, float, str, Decimal, dt.date)


def _key(values: Any) -> Any:
    """VALUES as a dictionary key that tells types apart (True, 1 and 1.0 are equal keys in Python); None if a value
    is of a kind FEEL cells are not written for."""
    kind = type(values)
    if kind in _SCALARS:
        return (kind, values)
    if kind is list or kind is tuple:
        items = tuple(_key(v) for v in values)
        return None if None in items else ("list", items)
    return None


def _copied(answer: tuple[dict[str, Any], list[MatchedRule]]) -> tuple[dict[str, Any], list[MatchedRule]]:
    """A copy of an answer that shares nothing mutable with it: the outputs are literals, only lists need copying."""
    outputs, matched = answer
    return ({name: _value_copied(value) for name, value in outputs.items()},
            [MatchedRule(m.row, m.rule_id, m.description,
                         {name: _value_copied(value) for name, value in m.outputs.items()}) for m in matched])


def _value_copied(value: Any) -> Any:
    return [_value_copied(item) for item in value] if type(value) is list else value


def _hit_policy(stored: str) -> tuple[str, str]:
    """("COLLECT", "SUM") for "COLLECT SUM"; ("RULE ORDER", "") for "RULE ORDER"."""
    if stored.startswith("COLLECT "):
        return "COLLECT", stored[len("COLLECT "):]
    return stored, ""


def _aggregate(aggregation: str, values: list[Any], table: Any) -> Any:
    """COLLECT with SUM/MIN/MAX/COUNT, as Camunda computes it: over the non-null outputs of the matching rules."""
    present = [v for v in values if v is not None]
    if aggregation == "COUNT":
        return len(present)
    if not present:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        raise EngineError(f"Decision table '{table.name or table.id}' aggregates with {aggregation}, "
                          "but not every matching output is a number")
    return {"SUM": sum, "MIN": min, "MAX": max}[aggregation](present)


class BusinessRuleTaskConverter(BaseBusinessRuleTaskConverter):
    def from_dict(self, dct: dict) -> Any:
        spec = super().from_dict(dct)
        spec.dmnEngine = FeelDecisionEngine(spec.dmnEngine.decision_table)
        return spec

