"""A set of uploaded .bpmn/.dmn files compiled into executable processes, and one decision table evaluated."""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask  # type: ignore[import-untyped]

import workflows.engine.expressions as expressions
import workflows.engine.feel as feel
from workflows.engine.dmn import FeelDecisionEngine, MatchedRule
from workflows.engine.parser import Parser
from workflows.engine.serializer import serializer
from workflows.engine.xml import BPMN_MODEL_NS, parse_xml, validator
from workflows.errors import DefinitionInvalid, EngineError


@dataclass
class CompiledProcess:
    """One executable process with the files it needs, ready to store as a definition version."""

    process_id: str
    name: str
    files: dict[str, str]
    spec_json: str

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()


def compile_files(files: Mapping[str, bytes]) -> dict[str, CompiledProcess]:
    """Parse a set of .bpmn/.dmn files; return every executable process with the files it depends on."""
    roots: dict[str, etree._Element] = {}
    try:
        return _compile(files, roots)
    except DefinitionInvalid:
        raise
    except ValidationException as exc:
        problem = {
            "file": getattr(exc, "file_name", None) or None,
            "element": getattr(exc, "id", None) or None,
            "name": getattr(exc, "name", None) or None,
            "line": getattr(exc, "line_number", None) or _line_of(roots, exc),
            "message": str(exc).split("\n")[0],
        }
        raise DefinitionInvalid(f"{problem['file'] or 'upload'}: {problem['message']}", [problem]) from exc
    except Exception as exc:  # noqa: BLE001
        # SpiffWorkflow answers some invalid models with bare TypeErrors and KeyErrors (docs/ENGINE.md); an upload must
        # be refused with a message, never crash the request.
        problem = {"file": None, "element": None, "name": None, "line": None,
                   "message": f"The engine could not read these files ({type(exc).__name__}: {exc})"}
        raise DefinitionInvalid(problem["message"], [problem]) from exc


def _line_of(roots: Mapping[str, etree._Element], exc: Any) -> int | None:
    # Spiff reads `node.line_number`, which lxml never sets; find the element again to name its line.
    element_id, file_name = getattr(exc, "id", None), getattr(exc, "file_name", None)
    if not element_id:
        return None
    for name, root in roots.items():
        if file_name and name != file_name:
            continue
        found = root.xpath("//*[@id=$id]", id=element_id)
        if found:
            return found[0].sourceline
    return None


def _fill_dmn_ids(root: etree._Element) -> None:
    """Give ids to the table parts Spiff requires ids of: DMN makes them optional and Camunda Modeler 4 omitted some."""
    for decision in root.iterfind("{*}decision"):
        prefix = decision.get("id") or "decision"
        for index, element in enumerate(decision.iter(), start=1):
            if isinstance(element.tag, str) and etree.QName(element).localname in (
                    "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry") and not element.get("id"):
                element.set("id", f"{prefix}_{etree.QName(element).localname}_{index}")


CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


def plain_collection(value: str) -> str:
    """camunda:collection as a variable name: Camunda's `${units}` is the list variable `units`."""
    found = re.fullmatch(r"\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*", value)
    return found.group(1) if found else value.strip()


def _take_unconditioned_flows(root: etree._Element) -> None:
    """Camunda 7 takes an exclusive gateway's flow without a condition when it reaches it (a condition that is always
    true, in the diagram's order); SpiffWorkflow refuses such a flow, so it gets that condition written out. The
    upload warns about it (validation, gateway_no_condition)."""
    for process in root.iterfind("{*}process"):
        flows = list(process.iter("{*}sequenceFlow"))
        for gateway in process.iter("{*}exclusiveGateway"):
            outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
            if len(outgoing) < 2:
                continue
            for flow in outgoing:
                if flow.find("{*}conditionExpression") is None and flow.get("id") != gateway.get("default"):
                    condition = etree.SubElement(flow, f"{{{BPMN_MODEL_NS}}}conditionExpression")
                    condition.set("{http://www.w3.org/2001/XMLSchema-instance}type", "bpmn:tFormalExpression")
                    condition.text = "${true}"


def _compile(files: Mapping[str, bytes], roots: dict[str, etree._Element]) -> dict[str, CompiledProcess]:
    parser = Parser(validator=validator(BPMN_MODEL_NS))
    dmn_file_of: dict[str, str] = {}
    for name, content in sorted(files.items()):
        root = parse_xml(name, content)
        roots[name] = root
        if name.endswith(".dmn"):
            _fill_dmn_ids(root)
            parser.add_dmn_xml(root, filename=name)
            for decision in root.iterfind("{*}decision"):
                dmn_file_of[decision.get("id")] = name
        elif name.endswith(".bpmn"):
            _take_unconditioned_flows(root)
            for loop in root.iter("{*}multiInstanceLoopCharacteristics"):
                if loop.get(f"{{{CAMUNDA_NS}}}collection") is not None:
                    loop.set(f"{{{CAMUNDA_NS}}}collection", plain_collection(loop.get(f"{{{CAMUNDA_NS}}}collection")))
            parser.add_bpmn_xml(root, filename=name)
    texts = {name: content.decode("utf-8") for name, content in files.items()}
    compiled = {}
    for process_id in parser.get_process_ids():
        if not process_id:
            # The XSD allows a process without an id; Spiff then compiles it under None (docs/ENGINE.md).
            problem = {"file": parser.process_parsers[process_id].filename, "element": None, "name": None,
                       "line": None, "message": "An executable process has no id"}
            raise DefinitionInvalid(f"{problem['file']}: {problem['message']}", [problem])
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        needed = {parser.process_parsers[process_id].filename}
        for sub_id in subprocess_specs:
            needed.add(parser.process_parsers[sub_id].filename)
        for ts in [*spec.task_specs.values(), *(t for s in subprocess_specs.values() for t in s.task_specs.values())]:
            if isinstance(ts, BusinessRuleTask):
                ref = ts.extensions.get("camunda:decisionRef")
                if ref in dmn_file_of:
                    needed.add(dmn_file_of[ref])
        spec_dict = {
            "spec": serializer.to_dict(spec),
            "subprocess_specs": {k: serializer.to_dict(v) for k, v in subprocess_specs.items()},
        }
        compiled[process_id] = CompiledProcess(
            process_id=process_id,
            name=spec.description or process_id,
            files={n: texts[n] for n in sorted(needed)},
            spec_json=json.dumps(spec_dict),
        )
    return compiled


@functools.lru_cache(maxsize=32)
def _decision_engine(name: str, text: str, decision_id: str) -> FeelDecisionEngine:
    parser = Parser(validator=validator(BPMN_MODEL_NS))
    root = parse_xml(name, text.encode("utf-8"))
    _fill_dmn_ids(root)
    parser.add_dmn_xml(root, filename=name)
    return parser.get_engine(decision_id, None)


def evaluate_decision(name: str, text: str, decision_id: str,
                      data: Mapping[str, Any]) -> tuple[dict[str, Any], list[MatchedRule]]:
    """Evaluate decision DECISION_ID of the .dmn file NAME (its TEXT) on DATA, exactly as a business rule task would.

    Returns the outputs (after the hit policy) and the rules that matched; raises DefinitionInvalid for a table the
    engine cannot read and EngineError for one that fails on DATA (e.g. two matches under UNIQUE).
    """
    try:
        decision = _decision_engine(name, text, decision_id)
    except DefinitionInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 - Spiff's parser raises bare KeyErrors as well as ValidationException
        raise DefinitionInvalid(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", []) from exc
    try:
        return decision.evaluate_table(data)
    except (expressions.ExpressionError, feel.FeelError) as exc:
        raise EngineError(str(exc)) from exc

