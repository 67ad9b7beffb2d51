"""The JSON Schema (draft 2020-12) of the `data` a task's completion accepts, for API clients.

A generic step's schema is read from its camunda:formData, with the types and bounds workflows/forms.py enforces; a
purpose-built step (camunda:formKey="app:…") adds the part its handler in workflows/steps.py validates, built from the
same tables the handler checks against (the checklist, the statuses, the budget categories, the overridable outcomes),
so a client that fills the schema sends what the step accepts. Conditions the schema cannot say (a reason required
when a value is chosen, a manual review to settle) come back as 422 with the field named, as for the pages.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, STATUSES
from workflows.engine import FormFieldSpec
from workflows.models import Evaluation
from workflows.results import OVERRIDABLE
from workflows.units import DIC_CODE

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def task_schema(fields: Iterable[FormFieldSpec], form_key: str | None,
                evaluations: Mapping[str, Evaluation] | None = None) -> Schema:
    """The schema of a completion's `data` for a step with FIELDS and FORM_KEY (EVALUATIONS: the year's results)."""
    properties: dict[str, Schema] = {}
    required: list[str] = []
    conditions: list[Schema] = []
    for spec in fields:
        if "readonly" in spec.constraints:
            continue
        properties[spec.id] = field_schema(spec)
        if "required" in spec.constraints:
            required.append(spec.id)
        condition = _required_when(spec.properties.get("requiredWhen"))
        if condition is not None:
            name, value = condition
            conditions.append({"if": {"properties": {name: {"const": value}}, "required": [name]},
                               "then": {"required": [spec.id]}})
    part = STEP_SCHEMAS.get(form_key or "")
    if part is not None:
        extra_properties, extra_required = part(evaluations or {})
        properties.update(extra_properties)
        required += extra_required
    schema: Schema = {"$schema": DIALECT, "type": "object", "properties": properties, "required": required,
                      "additionalProperties": False}
    if conditions:
        schema["allOf"] = conditions
    return schema


_EQUALS = re.compile(r"^\$\{\s*(\w+)\s*==\s*'([^']*)'\s*\}$")


def _required_when(expression: str | None) -> tuple[str, str] | None:
    # The drawn form of requiredWhen, "${field == 'value'}", as an if/then; any other expression stays a description.
    match = _EQUALS.match(expression or "")
    return (match[1], match[2]) if match else None


def field_schema(spec: FormFieldSpec) -> Schema:
    """One camunda:formField as forms.validate reads it."""
    c = spec.constraints
    schema: Schema = {"title": spec.label}
    if spec.type == "long":
        schema["type"] = "integer"
        if c.get("min") is not None:
            schema["minimum"] = int(str(c["min"]))
        if c.get("max") is not None:
            schema["maximum"] = int(str(c["max"]))
    elif spec.type == "boolean":
        schema["type"] = "boolean"
    elif spec.type == "date":
        schema.update(type="string", format="date")
    elif spec.type == "enum":
        schema.update(type="string", enum=[option for option, _ in spec.options],
                      oneOf=[{"const": option, "title": label} for option, label in spec.options])
    else:
        schema["type"] = "string"
        if c.get("minlength") is not None:
            schema["minLength"] = int(str(c["minlength"]))
        if c.get("maxlength") is not None:
            schema["maxLength"] = int(str(c["maxlength"]))
    if spec.properties.get("requiredWhen"):
        schema["description"] = f"Bắt buộc khi: {spec.properties['requiredWhen']}"
    return schema


def _status() -> Schema:
    return {"type": "string", "enum": list(STATUSES), "oneOf": [{"const": k, "title": v} for k, v in STATUSES.items()]}


def _agency_report(_evaluations: Mapping[str, Evaluation]) -> tuple[dict[str, Schema], list[str]]:
    # steps.agency_report: every criterion with a status; "na" needs a note; notes ≤ 2000; budget ≥ 0 per category.
    criterion = {"type": "object", "required": ["status"], "additionalProperties": False, "properties": {
        "status": _status(), "note": {"type": "string", "maxLength": 2000},
        "evidence": {"type": "array", "items": {"type": "string"}}},
        "if": {"properties": {"status": {"const": "na"}}},
        "then": {"required": ["status", "note"], "properties": {"note": {"minLength": 1}}}}
    criteria = {"type": "object", "title": "Tự đánh giá theo tiêu chí", "additionalProperties": False,
                "required": [c.id for c in CRITERIA],
                "properties": {c.id: {**criterion, "title": f"{c.id} {c.title_vi}"} for c in CRITERIA}}
    budget = {"type": "object", "title": "Kinh phí ứng dụng CNTT", "additionalProperties": False,
              "properties": {k: {"type": "integer", "minimum": 0, "title": v} for k, v in BUDGET_CATEGORIES.items()}}
    return {"criteria": criteria, "budget": budget}, ["criteria"]


def _consolidation(evaluations: Mapping[str, Evaluation]) -> tuple[dict[str, Schema], list[str]]:
    # workflows/consolidation.py: every unit has a rank with its block size, unless DIC states (not_ranked, with a
    # reason) that its block or the unit is not ranked this year; a unit without an accepted report has no
    # self-assessment to start from, so DIC appraises every criterion; the yes/no facts of Điều 15–17 are optional.
    def entry(code: str, e: Evaluation) -> Schema:
        without_report = e.report_status == "missing"
        appraisal: Schema = {"type": "object", "additionalProperties": False,
                             "properties": {c.id: _status() for c in CRITERIA}}
        if without_report:
            appraisal["required"] = [c.id for c in CRITERIA]
        return {"type": "object", "additionalProperties": False,
                "required": ["ict_rank", "ict_units", *(["appraisal"] if without_report else [])],
                "properties": {
                    "ict_rank": {"type": ["integer", "null"], "minimum": 1},
                    "ict_units": {"type": ["integer", "null"], "minimum": 1},
                    "appraisal": appraisal,
                    "slow_conclusions": {"type": ["boolean", "null"]},
                    "superior_requires_review": {"type": "boolean"},
                    "lacks_responsibility": {"type": "boolean"},
                    "special_achievement": {"type": "boolean"}},
                "dependentRequired": {"ict_units": ["ict_rank"]}}

    blocks = sorted({e.block.value for e in evaluations.values()})
    return {
        "units": {"type": "object", "title": "Số liệu từng cơ quan", "additionalProperties": False,
                  "required": sorted(evaluations),
                  "properties": {code: entry(code, e) for code, e in sorted(evaluations.items())}},
        "not_ranked": {"type": "object", "title": "Khối hoặc đơn vị không xếp hạng năm nay (kèm lý do)",
                       "description": "A block or unit named here needs no rank (its entry's ict_rank is null).",
                       "propertyNames": {"enum": [*blocks, *sorted(evaluations)]},
                       "additionalProperties": {"type": "string", "minLength": 1}},
        "confirmed": {"type": "boolean"},
    }, ["units"]


def _overrides(evaluations: Mapping[str, Evaluation], pending: list[tuple[str, str]] | None = None,
               units: list[str] | None = None) -> tuple[dict[str, Schema], list[str]]:
    # results.apply_overrides: a list of changes, each to an overridable field and value, with a written reason;
    # PENDING: the (unit, field) changes the step requires first (steps.evaluation), as prefixItems.
    units = units if units is not None else sorted(evaluations)
    variants = [{"properties": {"field": {"const": field},
                                "value": {"enum": [v for v in values if v != "manual_review"]}}}
                for field, values in OVERRIDABLE.items()]
    item = {"type": "object", "required": ["unit_code", "field", "value", "reason"], "additionalProperties": False,
            "properties": {"unit_code": {"type": "string", "enum": units}, "field": {"enum": list(OVERRIDABLE)},
                           "value": {"type": "string"}, "reason": {"type": "string", "minLength": 1}},
            "oneOf": variants}
    overrides: Schema = {"type": "array", "title": "Điều chỉnh kết quả", "items": item}
    if pending:
        overrides["prefixItems"] = [{**item, "oneOf": None, "properties": {
            **item["properties"], "unit_code": {"const": code}, "field": {"const": field},
            "value": {"enum": _settled_values(field)}}} for code, field in pending]
        for prefix in overrides["prefixItems"]:
            del prefix["oneOf"]
        overrides["minItems"] = len(pending)
    return {"overrides": overrides}, ["overrides"] if pending else []


def _settled_values(field: str) -> list[str]:
    # What a manual review may settle to; the plainest outcome first ('complete' before 'excellent', which would in
    # turn require a reward decision).
    values = [v for v in OVERRIDABLE[field] if v != "manual_review"]
    return sorted(values, key=lambda v: v == "excellent")


def _evaluation(evaluations: Mapping[str, Evaluation]) -> tuple[dict[str, Schema], list[str]]:
    # steps.evaluation: every 'manual_review' rating or sanction is settled, and a rating settled to 'excellent' by the
    # tables' review gets a reward decision.
    pending = [(code, field) for code, e in sorted(evaluations.items()) for field in ("rating", "sanction")
               if getattr(e, field) == "manual_review"]
    pending += [(code, "reward") for code, e in sorted(evaluations.items())
                if e.rating == "excellent" and "RATING_PENDING_REVIEW" in (e.reasons or []) and e.reward == "none"
                and not any(o.field == "reward" for o in e.overrides)]
    return _overrides(evaluations, pending)


def _dic_self_review(evaluations: Mapping[str, Evaluation]) -> tuple[dict[str, Schema], list[str]]:
    return _overrides(evaluations, units=[code for code in sorted(evaluations) if code == DIC_CODE])


def _home_affairs(evaluations: Mapping[str, Evaluation]) -> tuple[dict[str, Schema], list[str]]:
    # steps.home_affairs_proposal: the overrides, and the choice of the person(s) evaluated (subjects.choose_subjects).
    schema, required = _overrides(evaluations)
    schema["subject_choices"] = {
        "type": "array", "title": "Chọn người được đánh giá (A14, A15)",
        "description": "Required with ha_decision=propose for every unit with more than one head in the year.",
        "items": {"type": "object", "required": ["unit_code", "subjects", "reason"], "additionalProperties": False,
                  "properties": {"unit_code": {"type": "string", "enum": sorted(evaluations)},
                                 "subjects": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                 "reason": {"type": "string", "minLength": 1}}}}
    return schema, required


STEP_SCHEMAS: dict[str, Callable[[Mapping[str, Evaluation]], tuple[dict[str, Schema], list[str]]]] = {
    "app:agency_report": _agency_report,
    "app:consolidation": _consolidation,
    "app:evaluation": _evaluation,
    "app:dic_self_review": _dic_self_review,
    "app:home_affairs_proposal": _home_affairs,
    "app:committee_decision": _overrides,
}
