"""Marshmallow schemas of the JSON API: what each endpoint reads and writes, and what the OpenAPI document shows."""
from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, UTC, datetime
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from webapp.extensions import db
from workflows import instance_items
from workflows.inbox import ACTIONABLE, SORTS, TABS

MAX_PAGE = 100_000  # far beyond any inbox; keeps OFFSET inside what every database accepts


class UtcDateTime(fields.DateTime):
    """Timestamps always carry their zone: SQLite hands back naive datetimes that were stored as UTC."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


# --- errors -----------------------------------------------------------------------------------------------------


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code: unauthenticated, "
                                                  "forbidden, not_found, conflict, invalid, bad_request, …"})
    message = fields.String(required=True, metadata={"description": "Human-readable message (Vietnamese)"})
    fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "Problem per field, dotted paths for nested data (e.g. "
                                                  "`criteria.M2.7.1`); empty when the error is not about input"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


# --- auth -------------------------------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(max=200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))
    name = fields.String(validate=validate.Length(max=100),
                         metadata={"description": "A label to recognise the token by in GET /api/v1/tokens"})
    days = fields.Integer(strict=True, validate=validate.Range(min=1, max=90),
                          metadata={"description": "Lifetime in days (default: 12 hours)"})


class TokenInfoSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = UtcDateTime()
    expires_at = UtcDateTime()
    last_used_at = UtcDateTime(allow_none=True)
    active = fields.Boolean(metadata={"description": "False once expired"})


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer <token>`"})
    token_type = fields.String(dump_default="Bearer")


# --- tasks ------------------------------------------------------------------------------------------------------


class InboxArgsSchema(Schema):
    tab = fields.String(load_default="mine", validate=validate.OneOf((*TABS, ACTIONABLE)), metadata={
        "description": "mine (claimed by me; the default, empty until you claim or save a draft), group (my groups' "
                       "unclaimed), actionable (mine plus my groups' unclaimed: everything you may act on), done"})
    step = fields.String(metadata={"description": "Step id, e.g. draft_report"})
    unit = fields.String(metadata={"description": "Unit code, e.g. STC"})
    year = fields.Integer(validate=validate.Range(min=MINYEAR, max=MAXYEAR))
    overdue = fields.Boolean(load_default=False)
    q = fields.String(metadata={"description": "Unit name or code, case and diacritics ignored"})
    sort = fields.String(load_default="due", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class InstanceItemSchema(Schema):
    variable = fields.String(metadata={"description": "The loop's element variable (camunda:elementVariable)"})
    value = fields.Raw(allow_none=True, metadata={"description": "This instance's item, as the process holds it"})
    text = fields.String(metadata={"description": "The item as people read it: a unit's name, else the value"})
    is_unit = fields.Boolean(metadata={"description": "Whether the value is a unit's code (text is then its name)"})

    @pre_dump
    def _readable(self, item: Any, **_: Any) -> Any:
        # A task row holds {"variable", "value"}; inbox rows and task pages already carry the readable form.
        return instance_items.instance_item(db.session, item) if isinstance(item, dict) else item


INSTANCE_ITEM = {"description": "For one instance of a multi-instance task: which item of the loop it works on"}


class InboxRowSchema(Schema):
    id = fields.Integer()
    step_id = fields.String()
    step_name = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String()
    year = fields.Integer()
    created_at = UtcDateTime()
    due_on = fields.Date(allow_none=True)
    days_left = fields.Integer(allow_none=True, metadata={"description": "Working days left; negative when late"})
    state = fields.String()
    assignee = fields.String(allow_none=True)
    priority = fields.Integer(allow_none=True, metadata={"description": "camunda:priority of the step, if set"})
    follow_up_on = fields.Date(allow_none=True, metadata={"description": "camunda:followUpDate of the step, if set"})
    process_key = fields.String()
    instance_id = fields.Integer()
    instance_item = fields.Nested(InstanceItemSchema, allow_none=True, metadata=INSTANCE_ITEM)


class StepOptionSchema(Schema):
    id = fields.String()
    name = fields.String()

    @pre_dump
    def _from_pair(self, pair: tuple[str, str], **_: Any) -> dict[str, str]:
        return {"id": pair[0], "name": pair[1]}


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxRowSchema), attribute="rows")
    total = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Tasks in each tab with the same filters"})
    page = fields.Integer()
    pages = fields.Integer()
    per_page = fields.Integer(attribute="query.per_page")
    tab = fields.String(attribute="query.tab")
    steps = fields.List(fields.Nested(StepOptionSchema),
                        metadata={"description": "Steps the caller has tasks at (the step filter's choices)"})


class OptionSchema(Schema):
    id = fields.String()
    label = fields.String()


class FormFieldSchema(Schema):
    id = fields.String()
    label = fields.String()
    type = fields.String(metadata={"description": "string, long, boolean, date or enum (camunda:formData)"})
    constraints = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                              metadata={"description": "required, readonly, min, max, minlength, maxlength"})
    properties = fields.Dict(keys=fields.String(), values=fields.String(),
                             metadata={"description": "e.g. requiredWhen"})
    options = fields.List(fields.Nested(OptionSchema))
    value = fields.Raw(allow_none=True, metadata={"description": "Current value: saved draft, else the data so far, "
                                                                 "else the default"})


class TaskSchema(Schema):
    id = fields.Integer()
    step_id = fields.String()
    step_name = fields.String()
    process_key = fields.String()
    instance_id = fields.Integer()
    unit_code = fields.String(allow_none=True)
    year = fields.Integer()
    lane = fields.String(allow_none=True)
    candidate_group = fields.String()
    form_key = fields.String(allow_none=True, metadata={
        "description": "`app:…` for purpose-built steps, whose structured payloads (criteria, budget, units, "
                       "overrides) go in `data` beside the form fields"})
    state = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    due = fields.Date(attribute="due_on", allow_none=True)
    due_source = fields.String(allow_none=True)
    priority = fields.Integer(allow_none=True, metadata={"description": "camunda:priority of the step, if set"})
    follow_up_on = fields.Date(allow_none=True, metadata={"description": "camunda:followUpDate of the step, if set"})
    completed_at = UtcDateTime(allow_none=True)
    completed_by_id = fields.Integer(allow_none=True)
    return_reason = fields.String(allow_none=True)
    instance_item = fields.Nested(InstanceItemSchema, allow_none=True, metadata=INSTANCE_ITEM)


class TaskDetailSchema(TaskSchema):
    why = fields.String(metadata={"description": "Why the task is in the caller's inbox (lane, role, agency, rule)"})
    may_act = fields.Boolean()
    may_reassign = fields.Boolean(metadata={"description": "Whether the caller leads the task's role and may reassign"})
    acting_for = fields.String(allow_none=True, metadata={"description": "The head a deputy acts for"})
    draft = fields.Dict(allow_none=True)
    schema = fields.Dict(allow_none=True, metadata={
        "description": "JSON Schema (draft 2020-12) of the `data` that complete accepts: the drawn form fields and, "
                       "for a purpose-built step, its structured part (criteria, budget, units, overrides)"})
    fields = fields.List(fields.Nested(FormFieldSchema))

    @pre_dump
    def _from_page(self, page: Any, **_: Any) -> dict[str, Any]:
        # A TaskPage (workflows.tasks.task_page): the task's columns, the form as drawn, and the viewer's standing.
        task = page.task
        data = {name: getattr(task, name) for name in TaskSchema._declared_fields if name != "due"}
        data["due_on"] = task.due_on
        data.update(
            why=page.why, may_act=page.may_act, may_reassign=page.may_reassign, draft=task.draft, schema=page.schema,
            acting_for=page.acting_for.username if page.acting_for else None,
            fields=[{"id": f.id, "label": f.label, "type": f.type, "constraints": f.constraints,
                     "properties": f.properties, "options": [{"id": i, "label": label} for i, label in f.options],
                     "value": page.values.get(f.id)} for f in page.fields],
        )
        return data


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ReassignSchema(Schema):
    assignee = fields.String(required=True, metadata={"description": "Username of the new holder; see /candidates"})
    reason = fields.String(required=True, metadata={"description": "Why, for the audit log and the new holder"})


class ReassignCandidateSchema(Schema):
    username = fields.String()
    full_name = fields.String()
    rule = fields.String(metadata={"description": "The rule that lets this person act on the task"})


class CompleteSchema(Schema):
    data = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "Form field values by id, plus a purpose-built step's payload (criteria, budget, units, "
                       "overrides); see GET /tasks/{task_id} for the fields"})


# --- cycles and instances ---------------------------------------------------------------------------------------


class OpenCycleSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=MINYEAR, max=MAXYEAR))
    report_due = fields.Date(metadata={"description": "Report deadline; default 15/12 of the year"})
    unit_codes = fields.List(fields.String(), metadata={
        "description": "Only these units (a pilot); default every unit in existence that year"})
    confirm_late = fields.Boolean(load_default=False, metadata={
        "description": "Open although report_due has passed; reporting then runs until DIC closes it"})


class PriorRanksSchema(Schema):
    csv = fields.String(required=True, metadata={"description": "CSV with columns unit_code,rank,units"})


class PriorRanksResultSchema(Schema):
    year = fields.Integer()
    imported = fields.Integer()


class ProgressRowSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    status = fields.String(metadata={"description": "drafting, awaiting_head, awaiting_dic, accepted, cancelled"})
    step = fields.String(allow_none=True)
    since = UtcDateTime(allow_none=True)
    holder = fields.String(allow_none=True, metadata={"description": "The group the report waits for"})
    instance_id = fields.Integer()
    revisions = fields.Integer()


class PinnedVersionSchema(Schema):
    id = fields.Integer(metadata={"description": "Definition version id"})
    version = fields.Integer(metadata={"description": "The version number shown on the process's page (v1, v2, …)"})


class PinnedVersionsSchema(Schema):
    agency_report = fields.Nested(PinnedVersionSchema)
    unit_evaluation = fields.Nested(PinnedVersionSchema)


class CycleSchema(Schema):
    year = fields.Integer()
    status = fields.String(metadata={"description": "reporting, evaluating, decided"})
    report_due = fields.Date()
    instance_id = fields.Integer(allow_none=True)
    opened_at = UtcDateTime()
    decision_number = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    versions = fields.Nested(PinnedVersionsSchema, metadata={"description": "Versions pinned for the whole year"})

    @pre_dump
    def _from_cycle(self, obj: Any, **_: Any) -> dict[str, Any]:
        # A Cycle, or {"cycle": Cycle, "progress": rows of workflows.cycles.progress}
        cycle = obj["cycle"] if isinstance(obj, dict) else obj
        data = {name: getattr(cycle, name) for name in CycleSchema._declared_fields if name != "versions"}
        data["versions"] = {"agency_report": cycle.report_version, "unit_evaluation": cycle.evaluation_version}
        if isinstance(obj, dict):
            data["progress"] = obj["progress"]
        return data


class CycleDetailSchema(CycleSchema):
    progress = fields.List(fields.Nested(ProgressRowSchema), metadata={"description": "Each agency's report"})


class OverrideSchema(Schema):
    stage = fields.String()
    field = fields.String()
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    reason = fields.String()
    by = fields.String()
    at = fields.String()


class ResultSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    block = fields.String()
    ict_rank = fields.Integer(allow_none=True)
    ict_units = fields.Integer(allow_none=True)
    sections_violated = fields.List(fields.Integer())
    late_report = fields.Boolean()
    report_status = fields.String(allow_none=True, metadata={"description": "accepted, late or missing"})
    subjects = fields.List(fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)), metadata={
        "description": "Who could be evaluated (A14, A15): each head (name, username, role=head, basis=office_term "
                       "with from/to/why/document, or basis=no_office_terms when the unit has no dates of office) and "
                       "each assigned deputy (role=deputy, assignment)"})
    persons_evaluated = fields.List(fields.String(), metadata={
        "description": "The names of the persons evaluated: Home Affairs' choice, or every subject when no choice is "
                       "needed; empty while a choice is due"})
    subject_choice = fields.Dict(keys=fields.String(), allow_none=True, metadata={
        "description": "Home Affairs' choice (subjects, reason, by, at), or null"})
    no_office_terms = fields.Boolean(metadata={
        "description": "The unit has no dates of office: the heads on record stand in"})
    needs_subject_choice = fields.Boolean(metadata={
        "description": "More than one head in the year and no choice yet (SUBJECT_AMBIGUOUS, A15)"})
    proposed = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                           metadata={"description": "What the decision tables proposed: rating, sanction, reward, "
                                                    "sanction_rule"})
    rating = fields.String(allow_none=True)
    rating_vi = fields.String()
    sanction = fields.String(allow_none=True)
    sanction_vi = fields.String()
    reward = fields.String(allow_none=True)
    reward_vi = fields.String()
    reasons = fields.List(fields.String())
    articles = fields.List(fields.String())
    final = fields.Boolean()
    decision_number = fields.String(allow_none=True)
    overrides = fields.List(fields.Nested(OverrideSchema))
    explanation = fields.String(metadata={"description": "The outcome as a sentence citing its articles (Vietnamese)"})
    explanation_en = fields.String(metadata={"description": "The same sentence in English"})


class DocumentSchema(Schema):
    kind = fields.String(metadata={"description": "dic_report, ha_proposal, decision or unit_notice"})
    title = fields.String()
    unit_code = fields.String(allow_none=True)
    filename = fields.String()
    url = fields.String(metadata={"description": "Where the DOCX downloads (stable)"})


class CurrentStepSchema(Schema):
    task_id = fields.Integer()
    step_id = fields.String()
    step_name = fields.String()
    candidate_group = fields.String()
    unit_code = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    created_at = UtcDateTime()
    due_on = fields.Date(allow_none=True)
    return_reason = fields.String(allow_none=True)


class HistoryEntrySchema(Schema):
    at = UtcDateTime()
    kind = fields.String(metadata={"description": "instance_started, task_created, task_completed, task_claimed, …"})
    message = fields.String()
    step_id = fields.String(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    actor = fields.String(allow_none=True, metadata={"description": "Username; null for the system"})
    acting_for = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class InstanceSchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    business_key = fields.String()
    year = fields.Integer()
    unit_code = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "running, completed, cancelled"})
    version_id = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    current = fields.List(fields.Nested(CurrentStepSchema), metadata={"description": "Steps waiting now"})
    history = fields.List(fields.Nested(HistoryEntrySchema), metadata={"description": "The audit log, oldest first"})
