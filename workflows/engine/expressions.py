"""The sandboxed expression language, part two: the built-in functions, the interpreter and the public API.

workflows/engine/expression_syntax.py reads an expression (JUEL, FEEL or the Python subset) into a checked tree;
here that tree is interpreted node by node, so no text from a diagram ever reaches eval, exec or compile.
"""
from __future__ import annotations

import ast
import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

import workflows.engine.dates as dates
from workflows.engine.expression_syntax import (
    BINOPS,
    DIALECTS,
    MAX_DEPTH,
    MAX_INT,
    MAX_SIZE,
    MAX_SOURCE_LENGTH,
    ORDER,
    ExpressionError,
    Prepared,
    prepare,
    to_python,
)

__all__ = ["BUILTIN_FUNCTIONS", "DIALECTS", "MAX_DEPTH", "MAX_INT", "MAX_SIZE", "MAX_SOURCE_LENGTH", "ExpressionError",
           "check", "evaluate", "to_python"]

# --- built-in functions ----------------------------------------------------------------------------------------


def _nullable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make FN return None when any argument is None, as FEEL functions do."""
    return lambda *args: None if any(arg is None for arg in args) else fn(*args)


def _many(args: tuple[Any, ...]) -> Any:
    """Accept both f(1, 2) and f([1, 2]), as FEEL's min, max and sum do; None if any value is None."""
    values = args[0] if len(args) == 1 and isinstance(args[0], list | tuple | set) else args
    return None if not values or any(value is None for value in values) else values


def _round(value: Any, digits: Any = 0) -> Any:
    if value is None or digits is None:
        return None
    if not isinstance(digits, int) or abs(digits) > 100:  # round(x, -10**9) would compute 10**(10**9)
        raise ExpressionError("round() needs a whole number of digits between -100 and 100")
    return round(value, digits)


def _str(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float | dt.date):
        raise ExpressionError(f"str() converts numbers, text and dates, not a {type(value).__name__}")
    return None if value is None else str(value)


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | set | Mapping) and len(value) == 0)


def _contains(container: Any, item: Any) -> Any:
    if container is None:
        return None
    if not isinstance(container, str | list | tuple | set | Mapping):
        raise ExpressionError(f"contains() needs a list or a text, not a {type(container).__name__}")
    return item in container


_BUILTINS: dict[str, Callable[..., Any]] = {
    "count": _nullable(len), "len": _nullable(len), "abs": _nullable(abs), "round": _round,
    "min": lambda *args: None if (values := _many(args)) is None else min(values),
    "max": lambda *args: None if (values := _many(args)) is None else max(values),
    "sum": lambda *args: None if (values := _many(args)) is None else sum(values),
    "floor": _nullable(math.floor), "ceiling": _nullable(math.ceil), "is_empty": _is_empty,
    "is_not": lambda value: None if value is None else not value, "contains": _contains,
    "str": _str, "int": _nullable(int), "float": _nullable(float), "date": _date,
    "now": dates.now, "dateTime": dates.now,
}
BUILTIN_FUNCTIONS = frozenset(_BUILTINS)


# --- the interpreter -------------------------------------------------------------------------------------------

def _size(value: Any, budget: int = MAX_SIZE) -> int:
    """Count characters and elements in VALUE, nested ones included, giving up soon after BUDGET."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if not isinstance(value, list | tuple | set | frozenset):
        return 0
    total = len(value)
    for item in value:
        if total > budget:
            break
        total += _size(item, budget - total)
    return total


_ATOMS = frozenset({type(None), bool, int, float, Decimal, dt.date, dt.datetime})


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ExpressionError("The result is too large a number")
    if type(value) in _ATOMS:  # most results: nothing to count
        return value
    if _size(value) > MAX_SIZE:
        raise ExpressionError(f"The result is too large (more than {MAX_SIZE} characters or elements)")
    return value


def _compare(op: type, left: Any, right: Any) -> Any:
    if op is ast.Eq or op is ast.NotEq:
        return (left == right) is (op is ast.Eq)
    if op is ast.Is or op is ast.IsNot:  # the checker allows only "is None" / "is not None"
        return (left is None) is (op is ast.Is)
    if op is ast.In or op is ast.NotIn:
        if right is None:
            return None
        if not isinstance(right, str | list | tuple | set | Mapping):
            raise ExpressionError(f"'in' needs a list or a text on its right, not a {type(right).__name__}")
        return (left in right) is (op is ast.In)
    if left is None or right is None:
        return None
    return ORDER[op](left, right)


class _Interpreter:
    def __init__(self, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> None:
        self.variables, self.functions = variables, functions

    def run(self, node: ast.AST) -> Any:
        return _HANDLERS[type(node)](self, node)

    def constant(self, node: ast.Constant) -> Any:
        return node.value

    def name(self, node: ast.Name) -> Any:
        try:
            return self.variables[node.id]
        except KeyError:
            raise ExpressionError(f"Unknown variable '{node.id}'") from None

    def attribute(self, node: ast.Attribute) -> Any:
        base = self.run(node.value)
        if base is None or isinstance(base, Mapping):  # FEEL path semantics: a missing key or null base gives null
            return None if base is None else base.get(node.attr)
        if isinstance(base, dt.date) and node.attr in ("year", "month", "day"):
            return getattr(base, node.attr)
        raise ExpressionError(f"Cannot read '.{node.attr}' of a {type(base).__name__}: only records have fields")

    def subscript(self, node: ast.Subscript) -> Any:
        base, key = self.run(node.value), self.run(node.slice)
        if base is None or key is None:
            return None
        if isinstance(base, Mapping):
            return base.get(key) if isinstance(key, str | int | float | bool) else None
        if not isinstance(base, list | tuple | str):
            raise ExpressionError(f"Cannot index a {type(base).__name__}")
        if not isinstance(key, int) or isinstance(key, bool):
            raise ExpressionError(f"A list position must be a whole number, not {key!r}")
        return base[key] if -len(base) <= key < len(base) else None

    def binop(self, node: ast.BinOp) -> Any:
        left, right = self.run(node.left), self.run(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mod) and isinstance(left, str):  # "%0999999d" % 1 would build a huge string
            raise ExpressionError("'%' works on numbers only")
        if isinstance(node.op, ast.Mult):
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
                    raise ExpressionError(f"The result is too large (more than {MAX_SIZE} characters or elements)")
        try:
            result = BINOPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ExpressionError("Division by zero") from None
        except (TypeError, ValueError, OverflowError):
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}.get(
                type(node.op), "%")
            raise ExpressionError(f"Cannot compute {type(left).__name__} {symbol} {type(right).__name__}") from None
        return _bounded(result)

    def unaryop(self, node: ast.UnaryOp) -> Any:
        value = self.run(node.operand)
        if value is None or isinstance(node.op, ast.Not):
            return None if value is None else not value
        if not isinstance(value, int | float):
            raise ExpressionError(f"A sign needs a number, not a {type(value).__name__}")
        return -value if isinstance(node.op, ast.USub) else value

    def boolop(self, node: ast.BoolOp) -> Any:
        # Three-valued logic: None is "unknown". `and` stops at the first false value, `or` at the first true one;
        # otherwise the answer is unknown if any operand was, else the last operand (as in Python).
        stop_on_true, unknown, value = isinstance(node.op, ast.Or), False, None
        for operand in node.values:
            value = self.run(operand)
            if value is None:
                unknown = True
            elif bool(value) is stop_on_true:
                return value
        return None if unknown else value

    def compare(self, node: ast.Compare) -> Any:
        left, result = self.run(node.left), True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.run(comparator)
            try:
                outcome = _compare(type(op), left, right)
            except TypeError:
                raise ExpressionError(f"Cannot compare {type(left).__name__} with {type(right).__name__}") from None
            if outcome is False:
                return False
            result = None if outcome is None else result
            left = right
        return result

    def ifexp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)  # null test: else branch

    def collection(self, node: ast.List | ast.Tuple | ast.Set | ast.Dict) -> Any:
        try:
            if isinstance(node, ast.Dict):
                return {self.run(key): self.run(value) for key, value in zip(node.keys, node.values, strict=True)}
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](self.run(e) for e in node.elts)
        except TypeError:
            raise ExpressionError("Lists and records cannot be set members or record keys") from None

    def call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute):  # the checker allows date-time methods only
            receiver = self.run(node.func.value)
            try:
                return dates.call_method(receiver, node.func.attr, [self.run(arg) for arg in node.args])
            except dates.DateError as exc:
                raise ExpressionError(str(exc)) from None
        name = node.func.id  # the checker allows plain names otherwise
        function = self.functions[name] if name in self.functions else _BUILTINS.get(name)
        if function is None:
            raise ExpressionError(f"Unknown function '{name}'")
        args = [self.run(arg) for arg in node.args]
        try:
            return _bounded(function(*args))
        except ExpressionError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"{name}() failed: {exc}") from None


_HANDLERS: dict[type, Callable[[_Interpreter, Any], Any]] = {
    ast.Constant: _Interpreter.constant, ast.Name: _Interpreter.name, ast.Attribute: _Interpreter.attribute,
    ast.Subscript: _Interpreter.subscript, ast.BinOp: _Interpreter.binop, ast.UnaryOp: _Interpreter.unaryop,
    ast.BoolOp: _Interpreter.boolop, ast.Compare: _Interpreter.compare, ast.IfExp: _Interpreter.ifexp,
    ast.List: _Interpreter.collection, ast.Tuple: _Interpreter.collection, ast.Set: _Interpreter.collection,
    ast.Dict: _Interpreter.collection, ast.Call: _Interpreter.call,
}


# --- public API ------------------------------------------------------------------------------------------------

def _unknown_functions(prepared: Prepared, functions: Collection[str]) -> None:
    for name in sorted(prepared.calls - BUILTIN_FUNCTIONS):
        if name not in functions:
            available = ", ".join(sorted(BUILTIN_FUNCTIONS | set(functions)))
            raise ExpressionError(f"The function '{name}' is not available; available functions: {available}")


def check(source: str, dialect: str = "auto", allowed_names: set[str] | None = None, *,
          functions: Collection[str] = ()) -> None:
    """Raise ExpressionError unless SOURCE is a safe expression using only ALLOWED_NAMES and the given FUNCTIONS."""
    try:
        prepared = prepare(source, dialect)
        _unknown_functions(prepared, functions)
        unknown = sorted(prepared.names - allowed_names) if allowed_names is not None else []
        if unknown:
            raise ExpressionError(f"Unknown variable '{unknown[0]}'")
    except ExpressionError as exc:
        exc.expression = exc.expression or source
        raise


def evaluate(source: str, variables: Mapping[str, Any], dialect: str = "auto",
             functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
    """Check SOURCE and compute its value from VARIABLES, with the built-ins plus FUNCTIONS callable."""
    functions = functions or {}
    try:
        prepared = prepare(source, dialect)
        if prepared.calls and not prepared.calls <= BUILTIN_FUNCTIONS:
            _unknown_functions(prepared, functions)
        return _Interpreter(variables, functions).run(prepared.tree)
    except ExpressionError as exc:
        exc.expression = exc.expression or source
        raise
