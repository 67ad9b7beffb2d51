"""What changed between two versions of a process: steps, flows, form fields, decisions and rules, and the files.

Read from the stored files as XML (never run), so any two versions compare, however old.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from workflows import engine
from workflows.engine.constructs import FLOW_NODES
from workflows.validation.xmltools import CAMUNDA
from workflows.versions import get_version

MAX_TEXT_DIFF_LINES = 400


@dataclass(frozen=True)
class Change:
    kind: str  # step, flow, field, decision, rule, file
    key: str
    label: str
    status: str  # added, removed, changed
    details: tuple[tuple[str, str | None, str | None], ...] = ()  # (what, before, after)
    parent: str | None = None  # the step of a field, the decision of a rule


@dataclass
class VersionDiff:
    key: str
    old: int
    new: int
    changes: list[Change] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)  # file -> unified diff of its text

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def empty(self) -> bool:
        return not self.changes


def diff(session: Session, key: str, old: int, new: int) -> VersionDiff:
    """Steps, flows, form fields, decisions and rules added, removed or changed from version OLD to NEW of KEY."""
    before, after = get_version(session, key, old), get_version(session, key, new)
    return diff_files(key, old, new, before.files, after.files)


def diff_files(key: str, old: int, new: int, before: Mapping[str, str], after: Mapping[str, str]) -> VersionDiff:
    result = VersionDiff(key, old, new)
    old_model, new_model = read_model(before), read_model(after)
    for kind in ("step", "field", "flow", "decision", "rule"):
        olds, news = old_model.get(kind, {}), new_model.get(kind, {})
        for item_key in [*olds, *(k for k in news if k not in olds)]:
            a, b = olds.get(item_key), news.get(item_key)
            item = b or a
            assert item is not None
            if a is None:
                result.changes.append(Change(kind, item_key, item.label, "added", parent=item.parent))
            elif b is None:
                result.changes.append(Change(kind, item_key, item.label, "removed", parent=item.parent))
            else:
                details = tuple((name, a.attributes.get(name), b.attributes.get(name))
                                for name in dict.fromkeys([*a.attributes, *b.attributes])
                                if a.attributes.get(name) != b.attributes.get(name))
                if details:
                    result.changes.append(Change(kind, item_key, b.label, "changed", details, parent=b.parent))
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        status = "added" if name not in before else "removed" if name not in after else "changed"
        result.changes.append(Change("file", name, name, status))
        lines = list(difflib.unified_diff((before.get(name) or "").splitlines(), (after.get(name) or "").splitlines(),
                                          f"v{old}/{name}", f"v{new}/{name}", lineterm="", n=2))
        if len(lines) > MAX_TEXT_DIFF_LINES:
            lines = [*lines[:MAX_TEXT_DIFF_LINES], f"… ({len(lines) - MAX_TEXT_DIFF_LINES} more lines)"]
        result.text[name] = "\n".join(lines)
    return result


@dataclass(frozen=True)
class _Item:
    label: str
    attributes: dict[str, str]
    parent: str | None = None


BPMN_NS = {"bpmn": engine.BPMN_MODEL_NS, "camunda": CAMUNDA}
_C = "{" + CAMUNDA + "}"


def read_model(files: Mapping[str, str]) -> dict[str, dict[str, _Item]]:
    """What a set of files says, flattened for comparison: steps, form fields, flows, decisions and rules."""
    model: dict[str, dict[str, _Item]] = {"step": {}, "field": {}, "flow": {}, "decision": {}, "rule": {}}
    for name, text in sorted(files.items()):
        try:
            root = engine.parse_xml(name, text.encode("utf-8"))
        except Exception:  # noqa: BLE001 - a stored file always parsed once; show what can be read
            continue
        if name.endswith(".bpmn"):
            _read_bpmn(root, model)
        elif name.endswith(".dmn"):
            _read_dmn(root, model)
    return model


def _label(element: Any) -> str:
    name = (element.get("name") or "").strip().replace("\n", " ")
    return f"{name} ({element.get('id')})" if name else str(element.get("id"))


def _read_bpmn(root: Any, model: dict[str, dict[str, _Item]]) -> None:
    for process in root.iterfind("bpmn:process", BPMN_NS):
        by_id = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
        for element in process.iter():
            if not isinstance(element.tag, str) or etree.QName(element).namespace != engine.BPMN_MODEL_NS:
                continue
            tag = etree.QName(element).localname
            ident = element.get("id")
            if tag in FLOW_NODES and ident:
                model["step"][ident] = _Item(_label(element), _step_attributes(element, tag))
                for form_field in element.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField",
                                                   BPMN_NS):
                    field_id = form_field.get("id") or "?"
                    model["field"][f"{ident}.{field_id}"] = _Item(
                        f"{form_field.get('label') or field_id} ({field_id})", _field_attributes(form_field),
                        parent=_label(element))
            elif tag == "sequenceFlow" and ident:
                condition = element.find("bpmn:conditionExpression", BPMN_NS)
                source = by_id.get(element.get("sourceRef"))
                attributes = {"from": element.get("sourceRef"), "to": element.get("targetRef"),
                              "name": element.get("name"),
                              "condition": "".join(condition.itertext()).strip() if condition is not None else None,
                              "default": "yes" if source is not None and source.get("default") == ident else None}
                model["flow"][ident] = _Item(_label(element), _clean(attributes))


def _step_attributes(element: Any, tag: str) -> dict[str, str]:
    lane = engine.lane_of(element)
    attributes: dict[str, Any] = {
        "name": (element.get("name") or "").strip() or None,
        "type": tag,
        "lane": (lane.get("name") or lane.get("id")) if lane is not None else None,
        "role": element.get(f"{_C}candidateGroups") or (engine.lane_role(lane) if lane is not None else None),
        "documentation": (element.findtext("bpmn:documentation", "", BPMN_NS) or "").strip() or None,
        "calledElement": element.get("calledElement"),
        "default flow": element.get("default"),
    }
    for name in ("assignee", "candidateUsers", "dueDate", "followUpDate", "priority", "formKey", "decisionRef",
                 "resultVariable", "mapDecisionResult", "topic", "type", "collection", "elementVariable"):
        value = element.get(f"{_C}{name}")
        if value is not None:
            attributes["implementation" if name == "type" else name] = value
    for prop in element.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", BPMN_NS):
        attributes[f"property {prop.get('name')}"] = prop.get("value")
    for definition in element:
        if not isinstance(definition.tag, str):
            continue
        local = etree.QName(definition).localname
        if local == "timerEventDefinition":
            for value in definition:
                if isinstance(value.tag, str):
                    attributes[f"timer {etree.QName(value).localname}"] = "".join(value.itertext()).strip()
        elif local.endswith("EventDefinition"):
            ref = next((v for k, v in definition.attrib.items() if k.endswith("Ref")), None)
            attributes["event"] = local.replace("EventDefinition", "") + (f" {ref}" if ref else "")
    if element.get("attachedToRef"):
        attributes["attached to"] = element.get("attachedToRef")
    return _clean(attributes)


def _field_attributes(form_field: Any) -> dict[str, str]:
    constraints = [c.get("name") + (f"={c.get('config')}" if c.get("config") is not None else "")
                   for c in form_field.iterfind("camunda:validation/camunda:constraint", BPMN_NS)]
    options = [f"{v.get('id')}={v.get('name') or v.get('id')}" for v in form_field.iterfind("camunda:value", BPMN_NS)]
    properties = [f"{p.get('id')}={p.get('value')}"
                  for p in form_field.iterfind("camunda:properties/camunda:property", BPMN_NS)]
    return _clean({"label": form_field.get("label"), "type": form_field.get("type") or "string",
                   "default": form_field.get("defaultValue"), "constraints": ", ".join(constraints) or None,
                   "values": "; ".join(options) or None, "properties": "; ".join(properties) or None})


def _read_dmn(root: Any, model: dict[str, dict[str, _Item]]) -> None:
    ns = {"dmn": etree.QName(root).namespace}
    for decision in root.iterfind("dmn:decision", ns):
        ident = decision.get("id") or "?"
        table = decision.find("dmn:decisionTable", ns)
        if table is None:
            model["decision"][ident] = _Item(_label(decision), {"name": decision.get("name") or ""})
            continue
        inputs = table.findall("dmn:input", ns)
        outputs = table.findall("dmn:output", ns)
        columns = [i.get("label") or i.get("id") or "?" for i in inputs]
        model["decision"][ident] = _Item(_label(decision), _clean({
            "name": decision.get("name"),
            "hit policy": (table.get("hitPolicy") or "UNIQUE") + (f" {table.get('aggregation')}"
                                                                  if table.get("aggregation") else ""),
            "inputs": "; ".join(f"{c}: {(i.findtext('dmn:inputExpression/dmn:text', '', ns) or '').strip()}"
                                for c, i in zip(columns, inputs, strict=True)),
            "outputs": ", ".join(o.get("name") or o.get("label") or "?" for o in outputs),
        }))
        for row, rule in enumerate(table.findall("dmn:rule", ns), start=1):
            cells = [(e.findtext("dmn:text", "", ns) or "").strip() or "-" for e in rule.findall("dmn:inputEntry", ns)]
            results = [(e.findtext("dmn:text", "", ns) or "").strip() for e in rule.findall("dmn:outputEntry", ns)]
            description = (rule.findtext("dmn:description", "", ns) or "").strip()
            attributes = {"row": str(row), "description": description or None}
            attributes.update({f"if {c}": cell for c, cell in zip(columns, cells, strict=False)})
            attributes.update({f"then {o.get('name') or o.get('label')}": value
                               for o, value in zip(outputs, results, strict=False)})
            model["rule"][f"{ident}.{rule.get('id')}"] = _Item(
                f"{row}. {description or rule.get('id')}", _clean(attributes), parent=_label(decision))


def _clean(attributes: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in attributes.items() if v not in (None, "")}
