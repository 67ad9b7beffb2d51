"""Reading uploaded XML for the checks: namespaces, names, labels and the small lookups every check needs."""
from __future__ import annotations

import re
from typing import Any

from lxml import etree

from workflows.engine import BPMN_MODEL_NS
from workflows.engine.constructs import EVENT_DEFINITIONS

BPMN = BPMN_MODEL_NS
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/")
DMN_CAMUNDA = "http://camunda.org/schema/1.0/dmn"
FILE_NAME = re.compile(r"[\w][\w.\- ]{0,99}")
IDENTIFIER = re.compile(r"[^\W\d]\w*")
_WRAPPED = re.compile(r"\s*[$#]\{.*\}\s*", re.DOTALL)


def local_name(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def namespace_of(element: Any) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def label_of(element: Any) -> str:
    name, ident = (element.get("name") or "").strip(), element.get("id")
    if name and ident:
        return f"'{name}' ({ident})"
    return f"'{name or ident or local_name(element)}'"


def text_of(element: Any | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def camunda(element: Any, name: str) -> str | None:
    return element.get(f"{{{CAMUNDA}}}{name}")


def children(element: Any, tag: str, ns: str = BPMN) -> list[Any]:
    return element.findall(f"{{{ns}}}{tag}")


def wrapped(value: str) -> bool:
    """Whether VALUE is a `${…}`/`#{…}` expression rather than a literal."""
    return bool(_WRAPPED.fullmatch(value))


def owner_of(element: Any) -> Any:
    """The BPMN element an extension belongs to (for the report), not the extension itself."""
    owner = element
    while owner is not None and (namespace_of(owner) != BPMN or local_name(owner) in (
            "extensionElements", "multiInstanceLoopCharacteristics")):
        owner = owner.getparent()
    return owner if owner is not None else element


def event_kinds(event: Any) -> list[str]:
    return [EVENT_DEFINITIONS[local_name(child)] for child in event if local_name(child) in EVENT_DEFINITIONS]


def signal_name(root: Any, definition: Any) -> str | None:
    ref = definition.get("signalRef")
    for signal in children(root, "signal"):
        if signal.get("id") == ref:
            return signal.get("name")
    return definition.getparent().get("name")


def column_label(column: Any) -> str:
    return column.get("label") or column.get("name") or column.get("id") or "?"


def declared(root: Any) -> dict[str, dict[str, Any]]:
    """The messages, signals, errors and escalations a BPMN file declares, by kind and id."""
    return {kind: {el.get("id"): el for el in children(root, kind)} for kind in ("message", "signal", "error",
                                                                                 "escalation")}
