"""Which item of its loop a multi-instance task works on (issue 11), as people read it.

The task row keeps the element variable's name and this instance's value (`HumanTask.instance_item`, filled when the
row is made from workflows/engine/run.instance_item). A value that is a unit's code reads as the unit's name; any other
value as text. The name is the Vietnamese one; pages put it through the `unit_name` filter for English.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflows.units import all_unit_names


@dataclass(frozen=True)
class InstanceItem:
    variable: str  # the element variable's name (camunda:elementVariable)
    value: Any  # this instance's item, as stored
    text: str  # the item as people read it: a unit's name, else the value as text
    is_unit: bool  # TEXT is a unit's (Vietnamese) name


def shown(item: Mapping[str, Any] | None, unit_names: Mapping[str, str]) -> InstanceItem | None:
    """ITEM (a task row's instance_item) for reading, with UNIT_NAMES (code -> name); None for a task of no loop."""
    if not item or not item.get("variable"):
        return None
    value = item.get("value")
    if isinstance(value, str) and value in unit_names:
        return InstanceItem(item["variable"], value, unit_names[value], True)
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "—"
    else:
        text = json.dumps(value, ensure_ascii=False)
    return InstanceItem(item["variable"], value, text, False)


def instance_item(session: Session, item: Mapping[str, Any] | None) -> InstanceItem | None:
    """As shown(), with the units' current names."""
    return shown(item, all_unit_names(session)) if item else None
