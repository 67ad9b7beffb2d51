"""Reading uploaded files safely, and the BPMN/DMN schemas."""
from __future__ import annotations

import copy

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator  # type: ignore[import-untyped]
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as _DMN_SCHEMAS  # type: ignore[import-untyped]

from workflows.errors import DefinitionInvalid

MAX_FILE_BYTES = 2_000_000
BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


# Why an upload is not parsed at all, by the code the validator reports it under; the parser refuses with these words.
REFUSALS = {
    "too_large": f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB",
    "not_utf8": "the file is not UTF-8 text",
    "doctype": "DOCTYPE and entity declarations are not allowed",
}


def refusal(content: bytes) -> tuple[str, int] | None:
    """Why CONTENT must not be parsed (a code of REFUSALS and the line concerned), or None when it may be."""
    if len(content) > MAX_FILE_BYTES:
        return "too_large", 1
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8", 1
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        return "doctype", content[:content.find(b"<!")].count(b"\n") + 1
    return None


def parse_xml(name: str, content: bytes) -> etree._Element:
    """Parse an uploaded file safely: UTF-8, a size limit, no DTD, no entities, nothing fetched from the network."""
    refused = refusal(content)
    if refused is not None:
        raise DefinitionInvalid(f"{name}: {REFUSALS[refused[0]]}", [])
    try:
        return etree.fromstring(content, _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(f"{name}: not well-formed XML: {exc}", []) from exc


_validators: dict[str, BpmnValidator] = {}


def validator(namespace: str) -> BpmnValidator:
    """The XSD validator of a BPMN or DMN namespace, built once (reading the schemas takes a while)."""
    if namespace not in _validators:
        bpmn = namespace == BPMN_MODEL_NS
        _validators[namespace] = BpmnValidator() if bpmn else BpmnValidator(_DMN_SCHEMAS[namespace])
    return _validators[namespace]


def schema_errors(root: etree._Element) -> list[tuple[int | None, str]] | None:
    """Every XSD error of a BPMN or DMN document as (line, message); None when its namespace is neither."""
    namespace = etree.QName(root).namespace
    if namespace != BPMN_MODEL_NS and namespace not in _DMN_SCHEMAS:
        return None
    schema = validator(namespace)
    document = copy.deepcopy(root)  # Spiff's preprocessing renames elements in place; deepcopy keeps line numbers
    schema.preprocess(document)
    if schema.validator.validate(document):
        return []
    return [(error.line or None, error.message) for error in schema.validator.error_log]

