"""English names of steps and processes drawn in the deployed diagrams (a `name_en` property; bpmn/README.md).

The catalogue knows the steps and processes of the bundled diagrams; one the process owner added or renamed is known
only by its diagram. A step's English name is a Camunda extension property, which the engine keeps in the task's
`extensions` in the stored spec: read from there, so nothing extra is stored per task. The engine keeps no properties
of a process, so a process's `name_en` is read from its newest version's files as deployed.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.cache import DatabaseCache
from workflows.engine.xml import BPMN_MODEL_NS, parse_xml
from workflows.errors import DefinitionInvalid
from workflows.models import DefinitionVersion, ProcessDefinition

ENGLISH_NAME_PROPERTY = "name_en"
_CACHE: DatabaseCache[dict[str, str | None]] = DatabaseCache("step names", max_entries=8, max_age_seconds=60.0)
_CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"


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


def english_process_names(session: Session) -> dict[str, str | None]:
    """Every deployed process's name → the English name its newest version's diagram gives, or None."""
    def load() -> dict[str, str | None]:
        newest = (select(DefinitionVersion.definition_id, func.max(DefinitionVersion.version).label("version"))
                  .group_by(DefinitionVersion.definition_id).subquery())
        rows = session.execute(
            select(ProcessDefinition.key, ProcessDefinition.name, DefinitionVersion.files)
            .join(DefinitionVersion, DefinitionVersion.definition_id == ProcessDefinition.id)
            .join(newest, (newest.c.definition_id == DefinitionVersion.definition_id)
                  & (newest.c.version == DefinitionVersion.version)))
        return {name: process_english_name(key, files) for key, name, files in rows}
    return _CACHE.get(session, "processes", load)


def process_english_name(key: str, files: dict[str, str]) -> str | None:
    """The `name_en` property of process KEY in FILES (file name → text, as a version stores them), or None."""
    for name, text in files.items():
        if not name.endswith(".bpmn") or f'id="{key}"' not in text:
            continue
        try:
            root = parse_xml(name, text.encode())
        except DefinitionInvalid:
            continue
        for process in root.iterfind(f"{{{BPMN_MODEL_NS}}}process"):
            if process.get("id") != key:
                continue
            for prop in process.iterfind(f"{{{BPMN_MODEL_NS}}}extensionElements/{_CAMUNDA}properties/"
                                         f"{_CAMUNDA}property"):
                if prop.get("name") == ENGLISH_NAME_PROPERTY and (prop.get("value") or "").strip():
                    return prop.get("value").strip()
    return None
