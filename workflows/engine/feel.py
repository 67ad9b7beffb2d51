"""DMN decision table cells in FEEL: input cells ("unary tests") and output entries.

SpiffWorkflow evaluates decision table cells as Python (docs/ENGINE.md, "Decision tables"): the FEEL that Camunda
Modeler's table editor writes, such as ``[1..10]``, ``"A","B"`` or ``not("A")``, either fails or silently never
matches, and every cell goes through ``eval`` (docs/ENGINE.md, "Expressions"). This module reads the FEEL subset
process owners write without running any code: an input cell becomes a small immutable test object, and an output
entry becomes a literal value or a sandboxed expression from ``workflows.engine.expressions``.

Matching follows FEEL: comparing with null (None) or across types (text against a number) is simply no match, never
an error, and ``true`` does not equal ``1``. ``not(tests)`` is the plain negation of the list, so ``not("A")`` also
matches None.
"""
from __future__ import annotations

import copy
import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import workflows.engine.expressions as expressions


class FeelError(ValueError):
    """A cell or output entry cannot be read or evaluated; the message is meant for process owners."""


_TOKEN = re.compile(
    r"""(?P<space>\s+) | (?P<string>"(?:[^"\\]|\\.)*") | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[^\W\d]\w*(?:\.[^\W\d]\w*)*) | (?P<op>\.\.|<=|>=|!=|==|[<>=\[\]\(\),-]) | (?P<bad>.)""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_KEYWORDS = {"true": True, "false": False, "null": None}


def _kind(value: Any) -> Any:
    """Return what may be compared with VALUE: numbers with numbers, dates with dates, and so on."""
    if isinstance(value, bool):
        return bool
    if isinstance(value, int | float | Decimal):
        return "number"
    return dt.datetime if isinstance(value, dt.datetime) else str if isinstance(value, str) else type(value)


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _kind(a) == _kind(b) and a == b


def _ordered(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None or _kind(a) != _kind(b):
        return False
    try:
        return bool(_ORDER[op](a, b))
    except TypeError:
        return False


def format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f'date("{value.isoformat()}")' if isinstance(value, dt.date) else str(value)


@dataclass(frozen=True)
class _Literal:
    value: Any

    def resolve(self, context: Mapping[str, Any], cell: str) -> Any:
        return self.value

    def __str__(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True)
class _Path:
    parts: tuple[str, ...]

    def resolve(self, context: Mapping[str, Any], cell: str) -> Any:
        if self.parts[0] not in context:
            raise FeelError(f"Cannot read cell '{cell}': there is no variable '{self.parts[0]}'")
        value = context[self.parts[0]]
        for part in self.parts[1:]:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def __str__(self) -> str:
        return ".".join(self.parts)


_Endpoint = _Literal | _Path


@dataclass(frozen=True)
class _Equal:
    endpoint: _Endpoint

    def matches(self, value: Any, context: Mapping[str, Any], cell: str) -> bool:
        return _equal(value, self.endpoint.resolve(context, cell))

    def __str__(self) -> str:
        return "is null" if self.endpoint == _Literal(None) else f"= {self.endpoint}"


@dataclass(frozen=True)
class _Comparison:
    op: str
    endpoint: _Endpoint

    def matches(self, value: Any, context: Mapping[str, Any], cell: str) -> bool:
        return _ordered(self.op, value, self.endpoint.resolve(context, cell))

    def __str__(self) -> str:
        return f"{self.op} {self.endpoint}"


@dataclass(frozen=True)
class _Interval:
    low: _Endpoint
    high: _Endpoint
    low_closed: bool
    high_closed: bool

    def matches(self, value: Any, context: Mapping[str, Any], cell: str) -> bool:
        low, high = self.low.resolve(context, cell), self.high.resolve(context, cell)
        return (_ordered(">=" if self.low_closed else ">", value, low)
                and _ordered("<=" if self.high_closed else "<", value, high))

    def __str__(self) -> str:
        return f"in {'[' if self.low_closed else ']'}{self.low}..{self.high}{']' if self.high_closed else '['}"


_Test = _Equal | _Comparison | _Interval


@dataclass(frozen=True)
class UnaryTests:
    """One input cell: a list of tests of which any may match, possibly negated; no tests means "any value"."""

    source: str
    tests: tuple[_Test, ...] = ()
    negated: bool = False

    @property
    def reads_variables(self) -> bool:
        """Whether the cell names a variable (`< limit`), so that its answer depends on more than the input value."""
        return any(isinstance(endpoint, _Path) for test in self.tests
                   for endpoint in ((test.low, test.high) if isinstance(test, _Interval) else (test.endpoint,)))

    def matches(self, value: Any, context: Mapping[str, Any] | None = None) -> bool:
        """Return whether VALUE passes this cell; names in the cell are read from CONTEXT."""
        if not self.tests:
            return True
        hit = any(test.matches(value, context or {}, self.source) for test in self.tests)
        return hit is not self.negated


class _Parser:
    def __init__(self, text: str, what: str = "cell") -> None:
        self.text, self.what, self.pos = text, what, 0
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text):
            if match.lastgroup != "space":
                self.tokens.append((match.lastgroup or "", match.group()))

    def error(self, reason: str) -> FeelError:
        return FeelError(f"Cannot read {self.what} '{self.text}': {reason}")

    def peek(self, ahead: int = 0) -> str:
        return self.tokens[self.pos + ahead][1] if self.pos + ahead < len(self.tokens) else ""

    def take(self, expected: str = "a value") -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.error(f"expected {expected} at the end")
        self.pos += 1
        if self.tokens[self.pos - 1][0] == "bad":  # reported only when reached, so the message is about the cause
            raise self.error(_bad_character(self.tokens[self.pos - 1][1]))
        return self.tokens[self.pos - 1]

    def expect(self, token: str, hint: str = "") -> None:
        if self.take(f"'{token}'")[1] != token:
            raise self.error(hint or f"expected '{token}' instead of '{self.tokens[self.pos - 1][1]}'")

    def unary_tests(self) -> UnaryTests:
        negated = self.peek() == "not" and self.peek(1) == "("
        if negated:
            self.pos += 2
        tests = [self.positive_test()]
        while self.peek() == ",":
            self.pos += 1
            tests.append(self.positive_test())
        if negated:
            self.expect(")", "not( is missing its closing ')'")
        if self.pos < len(self.tokens):
            token = self.take()[1]  # reports a bad character itself
            raise self.error(f"unexpected '{token}'; separate alternatives with commas, e.g. \"A\",\"B\"")
        return UnaryTests(self.text, tuple(tests), negated)

    def positive_test(self) -> _Test:
        token = self.peek()
        if token in _ORDER:
            self.pos += 1
            return _Comparison(token, self.endpoint())
        if token in ("=", "=="):
            raise self.error("write the value alone to test equality, e.g. 5 rather than = 5")
        if token == "!=":
            raise self.error("'!=' is not FEEL; write not(...) instead, e.g. not(\"A\")")
        if token in ("[", "]", "("):
            self.pos += 1
            low = self.endpoint()
            self.expect("..", "an interval needs '..' between its ends, e.g. [1..5]")
            high = self.endpoint()
            close = self.take("']' or '['")[1]
            if close not in ("]", "[", ")"):
                raise self.error(f"an interval must end with ']' or '[', not '{close}'")
            return _Interval(low, high, token == "[", close == "]")
        if token == "not":
            raise self.error("not(...) must enclose the whole cell")
        return _Equal(self.endpoint())

    def endpoint(self) -> _Endpoint:
        kind, token = self.take()
        if token == "-" and self.peek()[:1].isdigit():
            return _Literal(-self.number(self.take()[1]))
        if kind == "number":
            return _Literal(self.number(token))
        if kind == "string":
            return _Literal(re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), token[1:-1]))
        if kind != "name":
            raise self.error(f"expected a value but found '{token}'")
        if token in _KEYWORDS:
            return _Literal(_KEYWORDS[token])
        if self.peek() == "(":
            if token != "date":
                raise self.error(f"the function '{token}' cannot be used here; only date(\"2024-01-31\") can")
            self.pos += 1
            kind, text = self.take("a date in quotes")
            self.expect(")")
            try:
                return _Literal(dt.date.fromisoformat(text[1:-1] if kind == "string" else "?"))
            except ValueError:
                raise self.error(f"date() needs a date in quotes like \"2024-01-31\", not {text}") from None
        if any(part.startswith("_") for part in token.split(".")):
            raise self.error(f"the name '{token}' is not allowed: names starting with '_' are private")
        return _Path(tuple(token.split(".")))

    def number(self, token: str) -> int | float:
        return float(token) if any(c in token for c in ".eE") else int(token)


def _bad_character(char: str) -> str:
    if char == "'":
        return "text must be in double quotes, e.g. \"A\" rather than 'A'"
    if char == '"':
        return "a text value is missing its closing quote"
    if char == "?":
        return "'?' is Python-style cell syntax; write FEEL such as > 10, [1..5] or \"A\",\"B\""
    return f"unexpected character '{char}'"


@functools.lru_cache(maxsize=4096)
def parse_unary_tests(text: str | None) -> UnaryTests:
    """Read an input cell; None, an empty cell and "-" match any value."""
    source = (text or "").strip()
    if source in ("", "-"):
        return UnaryTests(source)
    return _Parser(source).unary_tests()


def describe(tests: UnaryTests | str | None) -> str:
    """Describe a cell in words for "which rule matched and why", e.g. 'in [1..5]'."""
    if not isinstance(tests, UnaryTests):
        tests = parse_unary_tests(tests)
    if not tests.tests:
        return "any value"
    if len(tests.tests) > 1 and all(isinstance(test, _Equal) for test in tests.tests):
        text = "one of " + ", ".join(str(test.endpoint) for test in tests.tests)
    else:
        text = " or ".join(str(test) for test in tests.tests)
    return f"not ({text})" if tests.negated else text


_NOT_A_LITERAL = object()


@functools.lru_cache(maxsize=4096)
def _literal(text: str) -> Any:
    """Return the value of a FEEL literal (number, text, true/false/null or a list of those), else _NOT_A_LITERAL."""
    parser = _Parser(text, "output")

    def value() -> Any:
        if parser.peek() != "[":
            endpoint = parser.endpoint()
            if isinstance(endpoint, _Path):
                raise FeelError("a name")
            return endpoint.value
        parser.pos += 1
        items = []
        while parser.peek() != "]":
            items.append(value())
            if parser.peek() != "]":
                parser.expect(",")
        parser.pos += 1
        return items

    try:
        result = value()
    except (FeelError, RecursionError):
        return _NOT_A_LITERAL
    return result if parser.pos == len(parser.tokens) else _NOT_A_LITERAL


def parse_output_literal(text: str | None, functions: Collection[str] = ()) -> Any:
    """Read an output entry: return its value if it is a literal, else a function of the context that computes it.

    FUNCTIONS names the extra functions the expression may call at evaluation time (beyond the built-ins).
    """
    source = (text or "").strip()
    if not source:
        return None
    value = _literal(source)
    if value is not _NOT_A_LITERAL:
        return copy.deepcopy(value)  # cached: the caller may merge it into task data and change it
    try:
        expressions.check(source, dialect="feel", functions=functions)
    except expressions.ExpressionError as exc:
        raise FeelError(f"Cannot read output '{source}': {exc.message}") from exc

    def compute(context: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        try:
            return expressions.evaluate(source, context, dialect="feel", functions=functions)
        except expressions.ExpressionError as exc:
            raise FeelError(f"Cannot compute output '{source}': {exc.message}") from exc

    return compute


def evaluate_output(text: str | None, context: Mapping[str, Any],
                    functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
    """Compute the value of output entry TEXT with the variables in CONTEXT."""
    entry = parse_output_literal(text, functions or {})
    return entry(context, functions) if callable(entry) else entry
