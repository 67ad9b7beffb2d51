"""Supervisors' pages: the overdue board (with CSV and XLSX exports) and a year's cycle board with its charts."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.security import navigation, requires
from webapp.supervise import charts, exports
from workflows import boards, permissions, year_board
from workflows.calendar import local_today
from workflows.models import Cycle

bp = Blueprint("supervise", __name__, url_prefix="/supervise", static_folder="static")
PER_PAGE = 50
# A shape per state beside its words, so the matrix never speaks through colour alone (WCAG 1.4.1).
CELL_MARKS = {"done_on_time": "✓", "done_late": "✓", "open": "○", "open_late": "!", "not_reached": "–",
              "cancelled": "×"}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"percent": charts.percent, "cell_labels": _cell_labels(), "marks": CELL_MARKS}


def _cell_labels() -> dict[str, str]:
    """Each state of a board cell in words, in the order of year_board.CellState (legend and counts)."""
    labels = {"done_on_time": _("Hoàn thành đúng hạn"), "done_late": _("Hoàn thành trễ hạn"),
              "open": _("Đang xử lý, còn hạn"), "open_late": _("Đang xử lý, quá hạn"),
              "not_reached": _("Chưa đến bước"), "cancelled": _("Đã dừng")}
    return {state.value: labels[state.value] for state in year_board.CellState}


# base.html's menu, on every page: which sections to offer (the views check again on every request).
bp.app_context_processor(navigation)


def parse_overdue_query(args: Any) -> boards.OverdueQuery:
    """The board's filters from a query string; anything unreadable falls back to no filter."""

    def number(name: str) -> int | None:
        try:
            return int(args.get(name, ""))
        except ValueError:
            return None

    year = number("year")
    return boards.OverdueQuery(
        year=year if year is not None and 2013 <= year <= 2100 else None,
        step=args.get("step") or None,
        unit_code=args.get("unit") or None,
        role=args.get("role") or None,
        min_days_late=min(max(number("min_days") or 0, 0), boards.MAX_DAYS_LATE),
        page=max(number("page") or 1, 1),
        per_page=PER_PAGE,
    )


def _filters(query: boards.OverdueQuery) -> dict[str, Any]:
    """The query string that reproduces QUERY's filters (for the exports and the pager)."""
    values = {"year": query.year, "step": query.step, "unit": query.unit_code, "role": query.role,
              "min_days": query.min_days_late or None}
    return {k: v for k, v in values.items() if v is not None}


@bp.get("/")
@requires(permissions.may_see_boards)
def index():
    return redirect(url_for("supervise.overdue"))


@bp.get("/overdue")
@requires(permissions.may_see_boards)
def overdue():
    """Every open task past its deadline, most late first, with filters and exports."""
    query = parse_overdue_query(request.args)
    page = boards.overdue_page(db.session, current_user, query, local_today())
    return render_template("supervise/overdue.html", page=page, choices=boards.overdue_choices(db.session),
                           filters=_filters(page.query),
                           reassignable={r.task_id for r in page.rows
                                         if permissions.leads_group(current_user, r.candidate_group, r.unit_code)})


def _export_name(extension: str) -> str:
    return f"viec-qua-han-{local_today():%Y%m%d}.{extension}"


@bp.get("/overdue.csv")
@requires(permissions.may_see_boards)
def overdue_csv():
    """The whole filtered board (no paging) as CSV."""
    rows = boards.overdue_rows(db.session, current_user, parse_overdue_query(request.args), local_today())
    return Response(exports.overdue_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"'})


@bp.get("/overdue.xlsx")
@requires(permissions.may_see_boards)
def overdue_xlsx():
    """The whole filtered board (no paging) as an Excel workbook."""
    today = local_today()
    rows = boards.overdue_rows(db.session, current_user, parse_overdue_query(request.args), today)
    title = _("Việc quá hạn tính đến ngày %(day)s", day=today.strftime("%d/%m/%Y"))
    return Response(exports.overdue_xlsx(rows, title),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"'})


@bp.get("/cycles/")
@requires(permissions.may_see_boards)
def latest_cycle():
    """The board of the latest opened year."""
    year = db.session.scalar(select(Cycle.year).order_by(Cycle.year.desc()).limit(1))
    if year is None:
        return render_template("supervise/no_cycle.html")
    return redirect(url_for("supervise.cycle_board", year=year))


@bp.get("/cycles/<int:year>")
@requires(permissions.may_see_boards)
def cycle_board(year: int):
    """YEAR's agencies × steps matrix, counts per step, and the charts."""
    board = year_board.cycle_board(db.session, current_user, year, local_today())
    return render_template("supervise/cycle.html", board=board, charts=_charts(board),
                           years=[y.year for y in board.years])


def _charts(board: year_board.CycleBoard) -> dict[str, Any]:
    steps = [charts.bar(c.step_name, c.on_time_rate,
                        f"{charts.percent(c.on_time_rate)} ({c.on_time}/{c.decided})" if c.decided
                        else _("chưa có số liệu"), 1.0, "ok")
             for c in board.columns]
    longest = max((r.days_late for r in board.late_by_agency), default=0)
    agencies = [charts.bar(r.unit_name, r.days_late,
                           ngettext("%(num)s ngày làm việc", "%(num)s ngày làm việc", r.days_late), longest, "late",
                           url_for("cycles.instance", instance_id=r.instance_id))
                for r in board.late_by_agency]
    years = [charts.bar(_("Năm %(year)s", year=y.year), y.on_time_rate,
                        f"{charts.percent(y.on_time_rate)} ({y.on_time}/{y.decided})" if y.decided else "—", 1.0,
                        "brand", url_for("supervise.cycle_board", year=y.year))
             for y in board.years]
    weeks = board.progress
    progress = charts.line_chart([p.cumulative for p in weeks], [f"{p.week_start:%d/%m}" for p in weeks],
                                 len(board.rows))
    first, last = weeks[0].week_start.strftime("%d/%m/%Y"), weeks[-1].week_start.strftime("%d/%m/%Y")
    description = ngettext("Số báo cáo đã được Sở TT&TT tiếp nhận, cộng dồn theo tuần, từ tuần %(start)s đến tuần "
                           "%(end)s: %(n)s trên %(num)s cơ quan.",
                           "Số báo cáo đã được Sở TT&TT tiếp nhận, cộng dồn theo tuần, từ tuần %(start)s đến tuần "
                           "%(end)s: %(n)s trên %(num)s cơ quan.", len(board.rows), start=first, end=last,
                           n=weeks[-1].cumulative)
    return {"steps": steps, "agencies": agencies, "years": years, "progress": progress,
            "progress_description": description,
            "progress_rows": [(f"{p.week_start:%d/%m/%Y}", p.accepted, p.cumulative) for p in weeks]}
