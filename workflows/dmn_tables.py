"""The decision tables of a deployed version as plain data for reading, and a test of one table on values an owner
chooses, through the engine's own FEEL decision engine, saying which rule matched and why.

Tables are read from the files stored on the version, exactly as deployed. Each input cell is described in words
by describe_words, a Text that the catalogue translates like every other message. A test runs the table through the
engine, so the owner sees what a running instance would get; the cell-by-cell reasons use the same feel and
expressions functions the engine uses, so they agree with it.
"""
from __future__ import annotations

import ast
import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from sqlalchemy.orm import Session

from workflows import engine
from workflows.engine import expressions, feel
from workflows.errors import NotFound, WorkflowError
from workflows.messages import Text
from workflows.models import DefinitionVersion
from workflows.vocabulary import COMPARISON_LABELS

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@functools.lru_cache(maxsize=64)
def parse_xml(text: str) -> etree._Element:
    """Parse a stored .bpmn/.dmn file; stored files passed deployment, and the parser stays safe anyway."""
    return etree.fromstring(text.encode("utf-8"), _SAFE_XML)


# --- decision tables as data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    description: str  # feel.describe: the cell as FEEL reads it (English, for the engine's own messages)
    words: Text  # what the cell accepts, for people: Vietnamese, translated through the catalogue
    error: str | None = None


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    expression: str  # an input's expression; an output's variable name
    type_ref: str
    allowed_values: str


@dataclass(frozen=True)
class Rule:
    row: int  # 1-based, as the engine numbers rules
    id: str
    description: str
    annotations: tuple[str, ...]
    inputs: tuple[Cell, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class DecisionTable:
    file: str
    decision_id: str
    decision_name: str
    description: str
    table_id: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]


def decision_tables(version: DefinitionVersion) -> list[DecisionTable]:
    """Every decision table in VERSION's .dmn files, in file and document order."""
    return [table for name in sorted(version.files) if name.endswith(".dmn")
            for table in _tables_of(name, version.files[name])]


def decision_table(version: DefinitionVersion, decision_id: str) -> DecisionTable:
    for table in decision_tables(version):
        if table.decision_id == decision_id:
            return table
    raise NotFound(Text("Phiên bản {version} không có bảng quyết định '{decision}'.", version=version.version,
                         decision=decision_id))


@functools.lru_cache(maxsize=64)
def _tables_of(filename: str, text: str) -> tuple[DecisionTable, ...]:
    tables = []
    for decision in parse_xml(text).iterfind("{*}decision"):
        node = decision.find("{*}decisionTable")
        if node is None:
            continue
        inputs = tuple(_input_column(i) for i in node.iterfind("{*}input"))
        outputs = tuple(Column(o.get("id"), o.get("label") or "", o.get("name") or o.get("label") or "",
                               o.get("typeRef") or "", _text(o.find("{*}outputValues")))
                        for o in node.iterfind("{*}output"))
        rules = tuple(
            Rule(row, r.get("id"), _text(r), tuple(_text(a) for a in r.iterfind("{*}annotationEntry")),
                 tuple(_cell(_text(e)) for e in r.iterfind("{*}inputEntry")),
                 tuple(_text(e) for e in r.iterfind("{*}outputEntry")))
            for row, r in enumerate(node.iterfind("{*}rule"), 1))
        tables.append(DecisionTable(filename, decision.get("id"), decision.get("name") or decision.get("id"),
                                    _text(decision), node.get("id") or "", node.get("hitPolicy") or "UNIQUE",
                                    node.get("aggregation"), inputs, outputs, rules))
    return tuple(tables)


def _input_column(node: etree._Element) -> Column:
    expression = node.find("{*}inputExpression")
    # As the engine reads it: the expression, else the label.
    text = _text(expression) or node.get("label") or ""
    type_ref = expression.get("typeRef") if expression is not None else None
    return Column(node.get("id"), node.get("label") or "", text, type_ref or "", _text(node.find("{*}inputValues")))


def _text(node: etree._Element | None) -> str:
    """The <text> (or <description>) child of NODE, stripped; '' when there is none."""
    if node is None:
        return ""
    child = node.find("{*}text")
    if child is None:
        child = node.find("{*}description")
    return (child.text or "").strip() if child is not None else ""


def _cell(text: str) -> Cell:
    try:
        return Cell(text, feel.describe(text), describe_words(text))
    except feel.FeelError as exc:
        return Cell(text, str(exc), Text("Không đọc được ô này: {error}", error=str(exc)), error=str(exc))


_INTERVAL = re.compile(r"^in ([\[\]])(.+?)\.\.(.+)([\[\]])$")


def describe_words(cell: str | None) -> Text:
    """Say what an input cell accepts, from feel's own reading of it, as a Text ('từ 1 đến 2'; English 'from 1 to 2'
    through the catalogue)."""
    tests = feel.parse_unary_tests(cell)
    if not tests.tests:
        return Text("bất kỳ giá trị nào")
    words = [str(t) for t in tests.tests]
    if len(words) > 1 and all(w.startswith("= ") or w == "is null" for w in words):
        text = Text("là một trong: {values}", values=", ".join("null" if w == "is null" else w[2:] for w in words))
    else:
        text = _test_words(words[0])
        for word in words[1:]:
            text = Text("{first} hoặc {second}", first=text, second=_test_words(word))
    return Text("không phải ({text})", text=text) if tests.negated else text


def _test_words(test: str) -> Text:
    if test == "is null":
        return Text("không có giá trị (null)")
    if test in ("= true", "= false"):
        return Text("đúng (true)") if test == "= true" else Text("sai (false)")
    if test.startswith("= "):
        return Text("bằng {value}", value=test[2:])
    for op, words in COMPARISON_LABELS.items():
        if test.startswith(op + " "):
            return Text("{comparison} {value}", comparison=words, value=test[len(op) + 1:])
    interval = _INTERVAL.match(test)
    if interval:
        opening, low, high, closing = interval.groups()
        if opening == "[" and closing == "]":
            return Text("từ {low} đến {high}", low=low, high=high)
        return Text("{lower} {low} và {upper} {high}", lower=COMPARISON_LABELS[">=" if opening == "[" else ">"],
                    low=low, upper=COMPARISON_LABELS["<=" if closing == "]" else "<"], high=high)
    return Text("điều kiện {test}", test=test)


# --- the test form and one evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """One value the owner types for a test: a variable the table's expressions read."""

    name: str
    label: str
    # A DMN typeRef (string, integer, long, double, boolean, date) when an input is the variable itself; else what
    # its use shows ("number", "list", "boolean"), or "feel" for any FEEL literal.
    kind: str
    used_in: tuple[str, ...]  # the input expressions that read it
    suggestions: tuple[str, ...]  # text values the rules test for


def variables(table: DecisionTable) -> list[Variable]:
    """The variables a test of TABLE needs, typed by the input's typeRef when the input is the variable itself."""
    found: dict[str, dict[str, Any]] = {}
    for index, column in enumerate(table.inputs):
        names, hints = _names(column.expression)
        plain = column.expression.strip() in names and len(names) == 1
        for name in names:
            entry = found.setdefault(name, {"label": "", "kind": "", "used_in": [], "suggestions": []})
            entry["used_in"].append(column.expression)
            if plain:
                entry["label"], entry["kind"] = column.label, column.type_ref or "feel"
                entry["suggestions"] += [s for rule in table.rules for s in _strings(rule.inputs[index].text)]
            elif entry["kind"] in ("", "feel"):
                entry["kind"] = hints.get(name, "feel")
    for rule in table.rules:  # names written inside cells, e.g. "> threshold"
        for cell in rule.inputs:
            for name in _cell_names(cell.text):
                found.setdefault(name, {"label": "", "kind": "feel", "used_in": [cell.text], "suggestions": []})
    return [Variable(name, e["label"] or name, e["kind"] or "feel", tuple(dict.fromkeys(e["used_in"])),
                     tuple(dict.fromkeys(e["suggestions"]))) for name, e in found.items()]


def _names(expression: str) -> tuple[list[str], dict[str, str]]:
    """Variable names EXPRESSION reads, in order, and what their use says about their kind."""
    try:
        tree = ast.parse(expressions.to_python(expression, "feel"), mode="eval")
    except (SyntaxError, expressions.ExpressionError):
        return [], {}
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls]
    hints: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) or isinstance(node, ast.Compare) and all(
                type(op) in (ast.Lt, ast.LtE, ast.Gt, ast.GtE) for op in node.ops):
            kind, operands = "number", list(ast.iter_child_nodes(node))  # arithmetic and orderings
        elif isinstance(node, ast.BoolOp) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            kind, operands = "boolean", list(ast.iter_child_nodes(node))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("count", "sum"):
            kind, operands = "list", node.args
        else:
            continue
        hints.update({o.id: kind for o in operands if isinstance(o, ast.Name) and id(o) not in calls})
    return list(dict.fromkeys(names)), hints


def _strings(cell: str) -> list[str]:
    return re.findall(r'"((?:[^"\\]|\\.)*)"', cell or "")


def _cell_names(cell: str) -> list[str]:
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', " ", cell or "")
    return [w.split(".")[0] for w in re.findall(r"[^\W\d][\w.]*", without_strings)
            if w not in ("not", "true", "false", "null", "date")]


@dataclass(frozen=True)
class CellCheck:
    test: Cell
    value: str  # the input's value, written as FEEL
    matched: bool


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    cells: tuple[CellCheck, ...]
    matched: bool
    applied: bool  # the engine used this rule for the outputs


@dataclass(frozen=True)
class DecisionTest:
    table: DecisionTable
    inputs: tuple[tuple[Column, str], ...]  # each input column with its computed value, written as FEEL
    outputs: dict[str, Any] | None  # None when the engine refused (e.g. two rules match under UNIQUE)
    rules: tuple[RuleCheck, ...]
    error: str | None

    @property
    def applied(self) -> tuple[RuleCheck, ...]:
        return tuple(r for r in self.rules if r.applied)

    @property
    def shown_outputs(self) -> tuple[tuple[Column, str], ...]:
        return tuple((o, feel_text((self.outputs or {}).get(o.expression))) for o in self.table.outputs)


def test_decision(session: Session, version_id: int, decision_id: str, inputs: Mapping[str, Any]) -> DecisionTest:
    """Evaluate DECISION_ID of a deployed version on INPUTS with the engine; say which rules matched and why."""
    version = session.get(DefinitionVersion, version_id)
    if version is None:
        raise NotFound(Text("Không tìm thấy phiên bản quy trình #{id}.", id=version_id))
    table = decision_table(version, decision_id)
    data = {v.name: None for v in variables(table)} | dict(inputs)
    values: list[Any] = []
    shown: list[tuple[Column, str]] = []
    for column in table.inputs:
        try:
            value = expressions.evaluate(column.expression, data, dialect="feel")
            shown.append((column, feel_text(value)))
        except expressions.ExpressionError as exc:
            value = None
            shown.append((column, f"⚠ {exc.message}"))
        values.append(value)
    outputs, applied_rows, error = None, set(), None
    try:
        result = engine.run_straight_through(_probe(version.files[table.file], table.file, decision_id), data)
        outputs = {o.expression: result.get(o.expression) for o in table.outputs}
        applied_rows = {m["row"] for m in result.get("decision_trace", {}).get(table.table_id, [])}
    except (WorkflowError, feel.FeelError, expressions.ExpressionError) as exc:  # e.g. UNIQUE with two matches
        error = getattr(exc, "message", None) or str(exc)
    checks = []
    for rule in table.rules:
        cells = tuple(CellCheck(cell, feel_text(value), _matches(cell.text, value, data))
                      for cell, value in zip(rule.inputs, values, strict=True))
        checks.append(RuleCheck(rule, cells, all(c.matched for c in cells), rule.row in applied_rows))
    return DecisionTest(table, tuple(shown), outputs, tuple(checks), error)


test_decision.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def _matches(cell: str, value: Any, data: Mapping[str, Any]) -> bool:
    try:
        return feel.parse_unary_tests(cell).matches(value, data)
    except feel.FeelError:
        return False


_PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="decision_test_definitions"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="decision_test_probe" isExecutable="true">
    <bpmn:startEvent id="probe_start"><bpmn:outgoing>probe_to_decide</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="probe_decide" camunda:decisionRef="{decision}" camunda:mapDecisionResult="singleResult">
      <bpmn:incoming>probe_to_decide</bpmn:incoming><bpmn:outgoing>probe_to_end</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="probe_end"><bpmn:incoming>probe_to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="probe_to_decide" sourceRef="probe_start" targetRef="probe_decide" />
    <bpmn:sequenceFlow id="probe_to_end" sourceRef="probe_decide" targetRef="probe_end" />
  </bpmn:process>
</bpmn:definitions>
"""


@functools.lru_cache(maxsize=32)
def _probe(dmn_text: str, dmn_name: str, decision_id: str) -> str:
    # The engine's public way to run one decision: a one-task process that calls it, compiled with the version's own
    # .dmn file (see the report of issue 4 for the engine function that would replace this).
    reference = escape(decision_id, {'"': "&quot;"})
    files = {"decision_test_probe.bpmn": _PROBE.replace("{decision}", reference).encode(),
             dmn_name: dmn_text.encode("utf-8")}
    return engine.compile_files(files)["decision_test_probe"].spec_json


def feel_text(value: Any) -> str:
    """VALUE written as an owner would type it in FEEL; dates as dd/mm/yyyy."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(feel_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return str(value)
