"""English names of steps drawn in the deployed diagrams (a `name_en` property on the task; bpmn/README.md).

The catalogue knows the steps of the bundled diagrams; a step the process owner added or renamed is known only by its
diagram. Its English name is a Camunda extension property, which the engine keeps in the task's `extensions` in the
stored spec: read from there, so nothing extra is stored per task.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cache import DatabaseCache
from workflows.models import DefinitionVersion

ENGLISH_NAME_PROPERTY = "name_en"
_CACHE: DatabaseCache[dict[str, str | None]] = DatabaseCache("step names", max_entries=4, max_age_seconds=60.0)


def english_step_names(session: Session) -> dict[str, str | None]:
    """Every user step's name in the deployed diagrams → its English name there, or None when no diagram gives one.

    When several versions name the same step, one that gives an English name wins.
    """
    def load() -> dict[str, str | None]:
        names: dict[str, str | None] = {}
        for (spec,) in session.execute(select(DefinitionVersion.spec_json)):
            for name, english in _named_steps(json.loads(spec)):
                if english or name not in names:
                    names[name] = english or names.get(name)
        return names
    return _CACHE.get(session, "steps", load)


def _named_steps(node: Any) -> list[tuple[str, str | None]]:
    # User tasks are the nodes that carry camunda:candidateGroups among their extensions (as engine.user_steps reads).
    found: list[tuple[str, str | None]] = []
    if isinstance(node, dict):
        extensions = node.get("extensions")
        if isinstance(extensions, dict) and extensions.get("camunda:candidateGroups") and node.get("bpmn_name"):
            english = str(extensions.get(ENGLISH_NAME_PROPERTY) or "").strip() or None
            found.append((str(node["bpmn_name"]), english))
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return found
    for child in children:
        found.extend(_named_steps(child))
    return found
