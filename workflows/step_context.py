"""What a purpose-built step's handler is given: the unit of work, the task, its instance, the drawn form's values."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows import runtime
from workflows.models import HumanTask, ProcessInstance


@dataclass
class StepContext:
    ctx: runtime.Context
    task: HumanTask
    instance: ProcessInstance
    form_values: dict[str, Any]
