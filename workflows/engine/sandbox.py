"""SpiffWorkflow's script engine, with every diagram expression evaluated by the sandboxed interpreter.

SpiffWorkflow evaluates expressions with plain eval (docs/ENGINE.md, "Expressions"): here they go through
workflows.engine.expressions, a whitelisting interpreter, and scripts are refused outright.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.script_engine.python_environment import (  # type: ignore[import-untyped]
    BasePythonScriptEngineEnvironment,
)

import workflows.engine.expressions as expressions
from workflows.engine.dates import LOCAL_TZ


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates diagram expressions with workflows.engine.expressions; runs no scripts at all."""

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Mapping | None = None) -> Any:
        variables = {**context, **(external_context or {})}
        value = expressions.evaluate(expression, variables)
        # A date-time (dateTime().plusDays(5)) reaches Spiff's timers and the task data as ISO 8601 text.
        return value.isoformat() if isinstance(value, datetime) else value

    def execute(self, script: str, context: Mapping[str, Any], external_context: Mapping | None = None) -> Any:
        # ValueError, not SyntaxError: Spiff's error formatter crashes on a SyntaxError without a line number.
        raise ValueError("Script tasks are not allowed in this system")

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise ValueError("Service calls run only as external tasks")


class _SandboxScriptEngine(PythonScriptEngine):
    def validate(self, expression: str) -> None:
        expressions.check(expression)


script_engine = _SandboxScriptEngine(environment=_SandboxEnvironment())


def evaluate_expression(expression: str, data: Mapping[str, Any]) -> Any:
    """Evaluate a diagram expression (e.g. a camunda:dueDate) in the sandbox; a date-time gives its local day."""
    value = expressions.evaluate(expression, data)
    return value.astimezone(LOCAL_TZ).date() if isinstance(value, datetime) else value

