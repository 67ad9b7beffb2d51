"""The sandboxed expression language, part one: the dialects rewritten to a Python subset, parsed and whitelisted.

SpiffWorkflow evaluates gateway conditions, timer values, DMN cells and similar diagram text with plain ``eval`` and
full builtins, so ``__import__('os').system(...)`` in a gateway condition runs (docs/ENGINE.md, "Expressions"), and
RestrictedPython bounds neither CPU nor memory. Here an expression is parsed with ``ast``, checked against a small
whitelist and then *interpreted* node by node: no text from a diagram ever reaches ``eval``, ``exec`` or ``compile``.
The only effects an expression can have are reading variables and calling the functions we hand it.

Three dialects are read: Camunda 7 JUEL (``${amount > 1000}``), DMN FEEL (``a = 1``) and a Python subset. Where
Python and FEEL differ, FEEL wins: null (``None``) propagates through arithmetic and ordering, ``and``/``or``/``not``
use three-valued logic, and ``unit.rank`` reads the ``rank`` key of a dict.

workflows/engine/expressions.py holds the interpreter and the public API (`check`, `evaluate`).
"""
from __future__ import annotations

import ast
import functools
import operator
import re
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

from workflows.engine.dates import METHODS as _DATE_METHODS

MAX_SOURCE_LENGTH = 10_000
MAX_DEPTH = 50
MAX_SIZE = 100_000  # characters of a string, elements of a list (nested lists count in full)
MAX_INT = 10**100
DIALECTS = ("auto", "juel", "feel", "python")


class ExpressionError(ValueError):
    """An expression is not allowed, cannot be read, or failed; the message is safe to show process owners."""

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression

    def __str__(self) -> str:
        if self.expression is None:
            return self.message
        shown = self.expression if len(self.expression) <= 120 else self.expression[:117] + "..."
        return f"{self.message} (in expression {shown!r})"


# --- dialects -> Python subset ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+) | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') | (?P<quote>["'])
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?) | (?P<name>[^\W\d]\w*)
      | (?P<op>&&|\|\||==|!=|<=|>=|//|\*\*|:=|[^\s\w])""",
    re.VERBOSE | re.DOTALL,
)
_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")", "]", "}"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_JUEL_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "div": "/", "mod": "%",
               "&&": "and", "||": "or", **_LITERALS}


class _Tok(NamedTuple):
    text: str
    kind: str
    space: bool = False  # whitespace came before it in the source


def _tokenize(text: str) -> list[_Tok]:
    tokens, space = [], False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or ""
        if kind == "quote":
            raise ExpressionError("A string literal is not closed")
        if kind == "space":
            space = True
        else:
            tokens.append(_Tok(match.group(), kind, space))
            space = False
    return tokens


def _join(tokens: list[_Tok]) -> str:
    out = ""
    for tok in tokens:
        wordy = out and (out[-1].isalnum() or out[-1] == "_") and (tok.text[0].isalnum() or tok.text[0] == "_")
        if out and out[-1] not in _OPEN and tok.text not in ")],":
            out += " " if tok.space or wordy else ""
        out += tok.text
    return out


def _skip_group(tokens: list[_Tok], i: int) -> int:
    """Return the index just after the bracket group that opens at I."""
    depth = 0
    for k in range(i, len(tokens)):
        depth += (tokens[k].text in _OPEN) - (tokens[k].text in _CLOSE)
        if depth == 0:
            return k + 1
    raise ExpressionError(f"The bracket '{tokens[i].text}' is not closed")


def _operand_end(tokens: list[_Tok], i: int) -> int:
    """Return the index just after the unary operand (prefixes, a name/literal/group, then .x [i] (args)) at I."""
    while i < len(tokens) and tokens[i].text in ("!", "not", "empty", "-", "+"):
        i += 1
    if i >= len(tokens):
        raise ExpressionError("An operator is missing its operand")
    i = _skip_group(tokens, i) if tokens[i].text in _OPEN else i + 1
    while i < len(tokens):
        if tokens[i].text == "." and i + 1 < len(tokens) and tokens[i + 1].kind == "name":
            i += 2
        elif tokens[i].text in ("[", "("):
            i = _skip_group(tokens, i)
        else:
            return i
    return i


def _check_nesting(tokens: list[_Tok]) -> None:
    """Refuse deep nesting before the recursive JUEL rewrites below, which would otherwise recurse too deeply."""
    depth = run = deepest = 0
    for tok in tokens:
        depth += (tok.text in _OPEN) - (tok.text in _CLOSE)
        run = run + 1 if tok.text in ("!", "not", "empty") else 0
        deepest = max(deepest, depth + run)
    if deepest > MAX_DEPTH or sum(tok.text == "?" for tok in tokens) > MAX_DEPTH:
        raise ExpressionError(f"The expression is nested more than {MAX_DEPTH} levels deep")


def _juel_prefixes(tokens: list[_Tok]) -> list[_Tok]:
    """Wrap JUEL `!x`, `not x` and `empty x` around their operand only, because they bind tighter than `==`."""
    out, i = [], 0
    while i < len(tokens):
        tok, after = tokens[i], tokens[i + 1].text if i + 1 < len(tokens) else ""
        prefix = tok.text == "!" or (tok.kind == "name" and tok.text in ("not", "empty") and after != "in")
        if not prefix or (i and tokens[i - 1].text == "."):
            out.append(tok)
            i += 1
            continue
        end = _operand_end(tokens, i + 1)
        inner = _juel_prefixes(tokens[i + 1:end])
        head = [_Tok("is_empty", "name", tok.space), _Tok("(", "op")] if tok.text == "empty" else [
            _Tok("(", "op", tok.space), _Tok("not", "name")]
        out += [*head, *inner, _Tok(")", "op")]
        i = end
    return out


def _top_level(tokens: list[_Tok]) -> list[int]:
    depth, found = 0, []
    for k, tok in enumerate(tokens):
        depth -= tok.text in _CLOSE
        if depth == 0 and tok.text in ("?", ":", ","):
            found.append(k)
        depth += tok.text in _OPEN
    return found


def _juel_ternary(tokens: list[_Tok]) -> list[_Tok]:
    """Rewrite `a ? b : c` (lowest precedence, right-associative) as `(b if a else c)`, at every bracket depth."""
    marks = [k for k in _top_level(tokens) if tokens[k].text != ","]
    if not any(tokens[k].text == "?" for k in marks):
        out, i = [], 0
        while i < len(tokens):
            if tokens[i].text not in _OPEN:
                out.append(tokens[i])
                i += 1
                continue
            end = _skip_group(tokens, i)
            inner, start = tokens[i + 1:end - 1], 0
            out.append(tokens[i])
            for cut in [*(k for k in _top_level(inner) if inner[k].text == ","), len(inner)]:
                item = inner[start:cut]
                if tokens[i].text == "{" and any(item[k].text == "?" for k in _top_level(item)):
                    raise ExpressionError("Put a ?: expression inside a map literal in parentheses")
                out += _juel_ternary(item) + inner[cut:cut + 1]
                start = cut + 1
            out.append(tokens[end - 1])
            i = end
        return out
    question = next(k for k in marks if tokens[k].text == "?")
    pending = 0
    for k in (k for k in marks if k > question):
        if tokens[k].text == "?":
            pending += 1
        elif pending:
            pending -= 1
        else:
            cond, yes, no = tokens[:question], tokens[question + 1:k], tokens[k + 1:]
            if not (cond and yes and no):
                raise ExpressionError("A ?: expression is missing a part")
            return [_Tok("(", "op", cond[0].space), *_juel_ternary(yes), _Tok("if", "name", True),
                    *_juel_ternary(cond), _Tok("else", "name", True), *_juel_ternary(no), _Tok(")", "op")]
    raise ExpressionError("A '?' has no matching ':'")


def to_python(source: str, dialect: str = "auto") -> str:
    """Translate SOURCE written in DIALECT ("auto", "juel", "feel", "python") into the Python subset evaluate() runs."""
    if dialect not in DIALECTS:
        raise ExpressionError(f"Unknown expression dialect {dialect!r}; use one of {', '.join(DIALECTS)}", source)
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_SOURCE_LENGTH} characters", source[:200])
    text = source.strip()
    if dialect == "python":
        return text
    wrapped = re.fullmatch(r"[$#]\{(.*)\}", text, re.DOTALL)
    if dialect == "auto" and wrapped:
        dialect = "juel"
    if dialect == "juel" and wrapped:
        text = wrapped.group(1)
    try:
        tokens = _tokenize(text)
        words = _JUEL_WORDS if dialect == "juel" else _LITERALS
        for i, tok in enumerate(tokens):
            follows_dot = i > 0 and tokens[i - 1].text == "."
            if tok.text in words and not follows_dot and tok.kind in ("name", "op"):
                tokens[i] = tok._replace(text=words[tok.text])
            elif dialect == "feel" and tok.text == "=":
                tokens[i] = tok._replace(text="==")
            elif dialect == "feel" and tok.text == "not" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
                tokens[i] = tok._replace(text="is_not")
        if dialect == "juel":
            _check_nesting(tokens)
            tokens = _juel_ternary(_juel_prefixes(tokens))
        return _join(tokens)
    except ExpressionError as exc:
        exc.expression = source
        raise


# --- parsing and the whitelist ---------------------------------------------------------------------------------

BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
ORDER = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_COMPARE = {ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot, *ORDER}
_SYMBOLS = {ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
            ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~"}
DATE_METHODS = frozenset(_DATE_METHODS)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_FORBIDDEN = {ast.Lambda: "lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
              ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
              ast.Starred: "a starred (*) argument", ast.NamedExpr: "assignment (:=)", ast.JoinedStr: "an f-string",
              ast.Slice: "a slice", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield"}
_STATEMENTS = {ast.Import: "import", ast.ImportFrom: "from ... import", ast.Assign: "assignment (=)",
               ast.AugAssign: "assignment", ast.AnnAssign: "assignment", ast.Delete: "del"}


class Prepared(NamedTuple):
    tree: ast.expr
    calls: frozenset[str]
    names: frozenset[str]


def _snippet(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        return "..."
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(text: str) -> ast.expr:
    if not text:
        raise ExpressionError("The expression is empty")
    with warnings.catch_warnings():  # e.g. "invalid escape sequence": we only want a yes/no answer
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text, mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            reason = getattr(exc, "msg", None) or "it is too complex"
        try:
            statements = ast.parse(text, mode="exec").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            statements = []
    for stmt in statements:
        if not isinstance(stmt, ast.Expr):
            what = _STATEMENTS.get(type(stmt), type(stmt).__name__.lower())
            raise ExpressionError(f"Statements such as {what} are not allowed; write a single expression")
    if len(statements) > 1:
        raise ExpressionError("Write a single expression, not several")
    raise ExpressionError(f"Cannot read the expression: {reason}")


def _check_name(name: str) -> None:
    if name.startswith("_"):
        raise ExpressionError(f"The name '{name}' is not allowed: names starting with '_' are private")


def _validate(node: ast.AST, depth: int, calls: set[str], names: set[str]) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"The expression is nested more than {MAX_DEPTH} levels deep")
    kind, children = type(node), []
    if kind is ast.Constant:
        if type(node.value) not in _CONSTANT_TYPES:
            raise ExpressionError(f"The constant {_snippet(node)} is not allowed")
        if type(node.value) is int and abs(node.value) > MAX_INT:
            raise ExpressionError("The number is too large")
    elif kind is ast.Name:
        _check_name(node.id)
        names.add(node.id)
    elif kind is ast.Attribute:
        if node.attr.startswith("_"):
            raise ExpressionError(f"The attribute '{node.attr}' is not allowed: names starting with '_' are private")
        children = [node.value]
    elif kind is ast.Call:
        if node.keywords:
            raise ExpressionError(f"Keyword arguments are not allowed in '{_snippet(node)}'")
        if isinstance(node.func, ast.Attribute):
            # Methods exist only on date-times (workflows/engine/dates.py): Camunda's dateTime().plusDays(5).
            if node.func.attr not in DATE_METHODS:
                raise ExpressionError(f"Calling '{_snippet(node.func)}' is not allowed: the method "
                                      f"'{node.func.attr}' is not supported; the only methods are those of a "
                                      f"date-time such as dateTime(): {', '.join(sorted(DATE_METHODS))}")
            children = [node.func.value, *node.args]
        elif not isinstance(node.func, ast.Name):
            raise ExpressionError(f"Calling '{_snippet(node.func)}' is not allowed: only functions such as "
                                  "count(x) can be called")
        else:
            _check_name(node.func.id)
            calls.add(node.func.id)
            children = node.args
    elif kind in (ast.BinOp, ast.UnaryOp):
        allowed = BINOPS if kind is ast.BinOp else (ast.Not, ast.USub, ast.UAdd)
        if type(node.op) not in allowed:
            raise ExpressionError(f"The operator '{_SYMBOLS.get(type(node.op), '?')}' is not allowed")
        children = [node.left, node.right] if kind is ast.BinOp else [node.operand]
    elif kind is ast.Compare:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE:
                raise ExpressionError(f"The comparison '{_snippet(node)}' is not allowed")
            if isinstance(op, ast.Is | ast.IsNot) and not (isinstance(right, ast.Constant) and right.value is None):
                raise ExpressionError("'is' is only allowed as 'is None' or 'is not None'")
        children = [node.left, *node.comparators]
    elif kind is ast.BoolOp:
        children = node.values
    elif kind is ast.IfExp:
        children = [node.test, node.body, node.orelse]
    elif kind in (ast.List, ast.Tuple, ast.Set):
        children = node.elts
    elif kind is ast.Dict:
        if None in node.keys:
            raise ExpressionError("Dict unpacking (**) is not allowed")
        children = [*node.keys, *node.values]
    elif kind is ast.Subscript:
        index = node.slice
        negative = isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
        if not isinstance(index.operand if negative else index, ast.Constant | ast.Name):
            raise ExpressionError(f"The index '{_snippet(index)}' is not allowed: use a constant or a name, "
                                  "e.g. a[0] or a[\"key\"]")
        children = [node.value, index]
    else:
        what = _FORBIDDEN.get(kind, f"'{kind.__name__}'")
        raise ExpressionError(f"{what[0].upper()}{what[1:]} is not allowed in an expression: '{_snippet(node)}'")
    for child in children:
        _validate(child, depth + 1, calls, names)


@functools.lru_cache(maxsize=4096)
def prepare(source: str, dialect: str) -> Prepared:
    tree = _parse(to_python(source, dialect))
    calls: set[str] = set()
    names: set[str] = set()
    _validate(tree, 1, calls, names)
    return Prepared(tree, frozenset(calls), frozenset(names))
