"""The supervisors' boards: open tasks past their deadline, and a year's agencies × steps board with its figures."""
from __future__ import annotations

from datetime import MAXYEAR, MINYEAR
from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.base import caller, make_blueprint
from webapp.api.schemas import MAX_PAGE, UtcDateTime
from webapp.extensions import db
from workflows import boards, year_board
from workflows.calendar import local_today

bp = make_blueprint("boards", "", "Supervisors' boards: overdue tasks and the cycle board (supervisor, DIC leader, "
                                  "Committee, administrator)")

STATES = ", ".join(state.value for state in year_board.CellState)


class OverdueArgsSchema(Schema):
    year = fields.Integer(validate=validate.Range(min=MINYEAR, max=MAXYEAR))
    step = fields.String(metadata={"description": "Step id, e.g. approve_report"})
    unit = fields.String(metadata={"description": "Unit code, e.g. STC"})
    role = fields.String(metadata={"description": "The role the task waits for (candidate group), e.g. agency_head"})
    min_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=boards.MAX_DAYS_LATE),
                              metadata={"description": "Only tasks at least this many working days late"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=boards.MAX_PER_PAGE))


class OverdueRowSchema(Schema):
    task_id = fields.Integer()
    instance_id = fields.Integer()
    year = fields.Integer()
    step_id = fields.String()
    step_name = fields.String()
    unit_code = fields.String(allow_none=True, metadata={"description": "Null for the province's own steps"})
    unit_name = fields.String()
    role = fields.String(attribute="candidate_group")
    role_label = fields.String()
    assignee = fields.String(allow_none=True, metadata={"description": "Who claimed it; null while with the group"})
    holder = fields.String(metadata={"description": "The assignee, else the role's Vietnamese label"})
    created_at = UtcDateTime(metadata={"description": "Waiting since"})
    due_on = fields.Date()
    days_late = fields.Integer(metadata={"description": "Working days after the deadline up to today; 0 when only "
                                                        "days off have passed"})


class OverduePageSchema(Schema):
    items = fields.List(fields.Nested(OverdueRowSchema), attribute="rows")
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    per_page = fields.Integer(attribute="query.per_page")
    today = fields.Date()


class CellSchema(Schema):
    step_id = fields.String()
    state = fields.String(metadata={"description": STATES})
    rounds = fields.Integer(metadata={"description": "Rows of the step; more than one after a return"})
    task_id = fields.Integer(allow_none=True, metadata={"description": "The latest round's task"})
    instance_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    finished_on = fields.Date(allow_none=True, metadata={"description": "Local date completed or stopped"})
    days_late = fields.Integer(metadata={"description": "Working days: to completion, or to today while open"})
    late = fields.Boolean()


class ColumnSchema(Schema):
    step_id = fields.String()
    step_name = fields.String()
    role_label = fields.String()
    level = fields.String(metadata={"description": "agency (a cell per agency) or cycle (once for the province)"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Cells per state"})
    on_time = fields.Integer()
    decided = fields.Integer(metadata={"description": "Cells done, or open past their deadline"})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "on_time / decided"})


class AgencyRowSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    instance_id = fields.Integer()
    status = fields.String(metadata={"description": "The report instance: running, completed, cancelled"})
    accepted_on = fields.Date(allow_none=True)
    days_late = fields.Integer()
    cells = fields.List(fields.Nested(CellSchema))


class LateAgencySchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    instance_id = fields.Integer()
    days_late = fields.Integer()


class WeekSchema(Schema):
    week_start = fields.Date()
    accepted = fields.Integer()
    cumulative = fields.Integer()


class YearRateSchema(Schema):
    year = fields.Integer()
    on_time = fields.Integer()
    decided = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)


class BoardSchema(Schema):
    year = fields.Integer()
    today = fields.Date()
    status = fields.String()
    report_due = fields.Date()
    cycle_instance_id = fields.Integer(allow_none=True)
    accepted = fields.Integer(metadata={"description": "Agency reports accepted"})
    open_late = fields.Integer(metadata={"description": "Cells open past their deadline"})
    columns = fields.List(fields.Nested(ColumnSchema), metadata={
        "description": "The agency report's steps in order, then the cycle's (level=cycle)"})
    rows = fields.List(fields.Nested(AgencyRowSchema), metadata={"description": "Agencies in Vietnamese order"})
    cycle_cells = fields.List(fields.Nested(CellSchema), metadata={"description": "The cycle's steps, once"})
    late_by_agency = fields.List(fields.Nested(LateAgencySchema), metadata={
        "description": f"The {year_board.TOP_LATE_AGENCIES} agencies with the most working days late"})
    progress = fields.List(fields.Nested(WeekSchema), metadata={"description": "Reports accepted per week"})
    years = fields.List(fields.Nested(YearRateSchema), metadata={"description": "On-time rate per opened year"})


@bp.get("/overdue")
@bp.arguments(OverdueArgsSchema, location="query")
@bp.response(200, OverduePageSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
def overdue(args: dict[str, Any]) -> boards.OverduePage:
    """Open tasks past their deadline across all agencies, most working days late first, a page at a time."""
    query = boards.OverdueQuery(year=args.get("year"), step=args.get("step"), unit_code=args.get("unit"),
                                role=args.get("role"), min_days_late=args["min_days"], page=args["page"],
                                per_page=args["per_page"])
    return boards.overdue_page(db.session, caller(), query, local_today())


@bp.get("/cycles/<int:year>/board")
@bp.response(200, BoardSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def cycle_board(year: int) -> year_board.CycleBoard:
    """The year's agencies × steps matrix (each step by its latest round), counts per step, and the chart figures."""
    return year_board.cycle_board(db.session, caller(), year, local_today())
