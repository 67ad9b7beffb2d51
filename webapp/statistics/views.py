"""An agency's history over the years, and the statistics for DIC, Home Affairs and the Committee.

Charts are drawn on the server (webapp/supervise/charts.py measures them, the templates draw SVG), each beside the
table of its numbers.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.security import requires
from webapp.supervise import charts
from workflows import agency_history, permissions, statistics
from workflows.models import utcnow
from workflows.rules import RATINGS
from workflows.vocabulary import RATING_LABELS, REPORT_TIMELINESS_LABELS

bp = Blueprint("statistics", __name__, static_folder="static", static_url_path="/statistics/static")
PER_PAGE = 50


@bp.get("/agencies/<code>/history")
@login_required
def agency(code: str):
    """One agency's years side by side, its rank trend, and the 'bottom 15% two years running' status."""
    history = agency_history.agency_history(db.session, code.upper(), current_user, utcnow())
    trend = history.trend
    chart = None
    if trend:
        chart = charts.line_chart([rank for _, rank, _ in trend], [str(year) for year, _, _ in trend],
                                  max(units for _, _, units in trend), floor=1, inverted=True)
    return render_template("statistics/agency.html", history=history, chart=chart)


@bp.get("/statistics/")
@requires(permissions.may_see_statistics)
def index():
    """Ratings per year, rank movement per unit, sections violated, late and missing reports."""
    year = request.args.get("year", type=int)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stats = statistics.statistics(db.session, current_user, utcnow(), year)
    start = (page - 1) * PER_PAGE
    return render_template("statistics/index.html", stats=stats, charts=_charts(stats), page=page,
                           movement_labels=_movement_labels(),
                           movements=stats.movements[start:start + PER_PAGE],
                           pages=max(1, -(-len(stats.movements) // PER_PAGE)))


def _movement_labels() -> dict[str, str]:
    return {"up": _("Tăng hạng"), "same": _("Giữ nguyên hạng"), "down": _("Giảm hạng"),
            "no_comparison": _("Không đủ hai năm xếp hạng")}


def _charts(stats: statistics.Statistics) -> dict[str, Any]:
    ratings = [(y, charts.stacked_bar([(r, RATING_LABELS[r], y.counts[r]) for r in RATINGS]
                                      + [("none", _("Chưa có kết quả"), y.counts["none"])]))
               for y in stats.ratings]
    reports = [(r, charts.stacked_bar([(k, REPORT_TIMELINESS_LABELS[k], getattr(r, k))
                                       for k in ("on_time", "late", "missing", "pending")]))
               for r in stats.reports]
    totals = stats.section_totals
    most = max(totals.values(), default=0)
    sections = [charts.bar(_("Mục %(n)s", n=s), totals[s], str(totals[s]), most, "late") for s in statistics.SECTIONS]
    counts = stats.movement_counts
    widest = max(counts.values(), default=0)
    labels = _movement_labels()
    movement = [charts.bar(labels[k], counts[k], str(counts[k]), widest, "brand")
                for k in statistics.MOVEMENTS]
    return {"ratings": ratings, "reports": reports, "sections": sections, "movement": movement}
