"""Domain errors. Messages are safe to show users; webapp/errors.py maps each class to an HTTP status."""
from __future__ import annotations


class WorkflowError(Exception):
    """Base class of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(WorkflowError):
    code = "not_found"


class NotAllowed(WorkflowError):
    code = "forbidden"


class Conflict(WorkflowError):
    """Someone else changed the same thing first (a task already completed, a stale save)."""

    code = "conflict"


class InvalidInput(WorkflowError):
    """Input that fails validation; `fields` maps each bad field to its problem."""

    code = "invalid"


class DefinitionInvalid(WorkflowError):
    """A BPMN/DMN set that cannot be deployed; `problems` lists every finding."""

    code = "definition_invalid"

    def __init__(self, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class EngineError(WorkflowError):
    """The engine failed while running a diagram (an expression error, a missing variable)."""

    code = "engine_error"
