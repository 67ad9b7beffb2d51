"""Annual cycles: open a year, its status and report progress, its results."""
from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from flask import url_for

from webapp.api.base import caller, make_blueprint, require
from webapp.api.schemas import (
    CycleDetailSchema,
    CycleSchema,
    OpenCycleSchema,
    PriorRanksResultSchema,
    PriorRanksSchema,
    ResultSchema,
)
from webapp.extensions import db
from workflows import cycles, permissions, results
from workflows.models import Cycle

bp = make_blueprint("cycles", "/cycles", "Annual evaluation cycles")


def _default_due(year: int) -> date | None:
    # 15/12 of the year; an unrepresentable year is left for open_cycle to refuse, naming the field.
    return date(year, 12, 15) if MINYEAR <= year <= MAXYEAR else None


@bp.post("")
@bp.arguments(OpenCycleSchema)
@bp.response(201, CycleSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(409, response="CONFLICT")
def open_cycle(body: dict[str, Any]) -> tuple[Cycle, int, dict[str, str]]:
    """DIC opens a year: the cycle starts and every unit (or the chosen ones) gets its report to draft."""
    year = body["year"]
    cycle = cycles.open_cycle(db.session, year, body.get("report_due") or _default_due(year), caller(),
                              unit_codes=body.get("unit_codes"), confirm_late=body.get("confirm_late", False))
    return cycle, 201, {"Location": url_for("api_cycles.get_cycle", year=year)}


@bp.get("/<int:year>")
@bp.response(200, CycleDetailSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def get_cycle(year: int) -> dict[str, Any]:
    """The cycle's status, pinned versions and where each agency's report stands."""
    # Every agency's row: the same rule as the year's page (an agency's own row is the page's alone).
    require(permissions.sees_every_agency, caller(), "Bạn không có quyền xem tiến độ kỳ đánh giá.")
    return {"cycle": cycles.get_cycle(db.session, year), "progress": cycles.progress(db.session, year)}


@bp.get("/<int:year>/results")
@bp.response(200, ResultSchema(many=True))
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def get_results(year: int) -> list[dict[str, Any]]:
    """Each unit's proposed or decided outcome, with reasons, articles and every override."""
    require(permissions.may_see_results, caller(), "Bạn không có quyền xem kết quả đánh giá.")
    cycles.get_cycle(db.session, year)  # 404 for a year never opened, rather than an empty list
    return cycles.results(db.session, year)


@bp.post("/<int:year>/prior-ranks")
@bp.arguments(PriorRanksSchema)
@bp.response(200, PriorRanksResultSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
def import_prior_ranks(body: dict[str, Any], year: int) -> dict[str, Any]:
    """Import YEAR's ICT ranks (CSV unit_code,rank,units): all rows or none; each bad row named by its line (422)."""
    require(permissions.may_open_cycle, caller(), "Chỉ Sở Thông tin và Truyền thông nhập xếp hạng các năm trước.")
    count = results.import_prior_ranks(db.session, year, body["csv"])
    db.session.commit()
    return {"year": year, "imported": count}
