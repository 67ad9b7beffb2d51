"""Statistics over the years for DIC, Home Affairs and the Committee: ratings per year, rank movement per unit, the
sections most often violated, late and missing reports.

Each figure is one grouped query (or one join), never a query per unit: at 2,800 units × several years the page
reads a few hundred grouped rows (bench figures in docs/STATISTICS.md).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from workflows import permissions
from workflows.agency_history import report_deadline
from workflows.errors import NotAllowed
from workflows.messages import Text
from workflows.models import Cycle, Evaluation, Report, UnitHistory, User
from workflows.rules import RATINGS

SECTIONS = (1, 2, 3, 4)
MOVEMENTS = ("up", "same", "down", "no_comparison")


def ensure_may_see_statistics(viewer: User) -> None:
    if not permissions.may_see_statistics(viewer):
        raise NotAllowed(Text("Bạn không có quyền xem thống kê."))


@dataclass(frozen=True)
class YearRatings:
    year: int
    counts: dict[str, int]  # rating → units; "none" for units without an outcome yet
    final: bool  # every outcome of the year is decided

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class YearSections:
    year: int
    evaluated: int
    counts: dict[int, int]  # section → units that violated it


@dataclass(frozen=True)
class YearReports:
    year: int
    reports: int
    on_time: int
    late: int
    missing: int
    pending: int
    flagged: int  # flagged LATE_REPORT at consolidation: not accepted by then (Điều 19)


@dataclass(frozen=True)
class Movement:
    unit_code: str
    unit_name: str
    rank: int | None
    units: int | None
    prev_rank: int | None
    prev_units: int | None

    @property
    def change(self) -> int | None:
        """Places gained (positive) or lost since last year; None without both ranks."""
        return None if self.rank is None or self.prev_rank is None else self.prev_rank - self.rank

    @property
    def kind(self) -> str:
        change = self.change
        if change is None:
            return "no_comparison"
        return "up" if change > 0 else "down" if change < 0 else "same"


@dataclass(frozen=True)
class Statistics:
    ratings: tuple[YearRatings, ...]  # oldest first
    sections: tuple[YearSections, ...]
    reports: tuple[YearReports, ...]
    movement_year: int | None  # the year compared with the one before
    movements: tuple[Movement, ...]  # most places gained first; no comparison last
    comparable_years: tuple[int, ...]  # years with a year before them: the choices of MOVEMENT_YEAR

    @property
    def section_totals(self) -> dict[int, int]:
        return {s: sum(y.counts[s] for y in self.sections) for s in SECTIONS}

    @property
    def movement_counts(self) -> dict[str, int]:
        tally = Counter(m.kind for m in self.movements)
        return {kind: tally[kind] for kind in MOVEMENTS}


def statistics(session: Session, viewer: User, now: datetime, movement_year: int | None = None) -> Statistics:
    """Every figure of the statistics page; MOVEMENT_YEAR defaults to the latest year with a year before it."""
    ensure_may_see_statistics(viewer)
    years = sorted(session.scalars(select(Evaluation.year).distinct()))
    comparable = tuple(y for y in years if y - 1 in years)
    if movement_year not in comparable:
        movement_year = comparable[-1] if comparable else None
    return Statistics(tuple(ratings_per_year(session)), tuple(sections_per_year(session)),
                      tuple(reports_per_year(session, now)), movement_year,
                      tuple(rank_movements(session, movement_year)) if movement_year else (), comparable)


def ratings_per_year(session: Session) -> list[YearRatings]:
    """How many units got each rating, per evaluated year (imported prior ranks are not evaluations)."""
    rows = session.execute(
        select(Evaluation.year, Evaluation.rating, func.count(), func.min(case((Evaluation.final, 1), else_=0)))
        .where(Evaluation.imported.is_(False)).group_by(Evaluation.year, Evaluation.rating))
    counts: dict[int, dict[str, int]] = {}
    final: dict[int, bool] = {}
    for year, rating, count, all_final in rows:
        counts.setdefault(year, dict.fromkeys((*RATINGS, "none"), 0))[rating or "none"] += count
        final[year] = final.get(year, True) and bool(all_final)
    return [YearRatings(year, counts[year], final[year]) for year in sorted(counts)]


def sections_per_year(session: Session) -> list[YearSections]:
    """How many units violated each section (Mục 1–4), per evaluated year.

    Grouped by the stored list as text, so the database returns one row per distinct combination (at most 16 a
    year), not one per unit; the lists are read back as JSON whatever spacing the database wrote them with.
    """
    combination = cast(Evaluation.sections_violated, String)
    rows = session.execute(select(Evaluation.year, combination, func.count())
                           .where(Evaluation.imported.is_(False)).group_by(Evaluation.year, combination))
    evaluated: Counter[int] = Counter()
    counts: dict[int, dict[int, int]] = {}
    for year, stored, count in rows:
        evaluated[year] += count
        per_section = counts.setdefault(year, dict.fromkeys(SECTIONS, 0))
        for section in set(json.loads(stored) if stored else []):
            if section in per_section:
                per_section[section] += count
    return [YearSections(year, evaluated[year], counts[year]) for year in sorted(counts)]


def reports_per_year(session: Session, now: datetime) -> list[YearReports]:
    """Per opened year: reports on time, late, missing (deadline passed, never sent) and not yet due (Điều 19)."""
    deadlines = {c.year: report_deadline(c) for c in session.scalars(select(Cycle))}
    if not deadlines:
        return []
    deadline = case(deadlines, value=Report.year)
    submitted = Report.submitted_at.is_not(None)
    rows = session.execute(select(
        Report.year, func.count(),
        func.sum(case((and_(submitted, Report.submitted_at <= deadline), 1), else_=0)),
        func.sum(case((and_(submitted, Report.submitted_at > deadline), 1), else_=0)),
        func.sum(case((submitted, 0), else_=1)),
    ).group_by(Report.year))
    flagged = dict(session.execute(
        select(Evaluation.year, func.count()).where(Evaluation.late_report.is_(True), Evaluation.imported.is_(False))
        .group_by(Evaluation.year)).all())
    result = []
    for year, reports, on_time, late, unsent in rows:
        if year not in deadlines:
            continue
        overdue = now > deadlines[year]
        result.append(YearReports(year, reports, int(on_time or 0), int(late or 0),
                                  int(unsent or 0) if overdue else 0, 0 if overdue else int(unsent or 0),
                                  flagged.get(year, 0)))
    return sorted(result, key=lambda r: r.year)


def rank_movements(session: Session, year: int) -> list[Movement]:
    """Each unit's ICT rank in YEAR beside YEAR − 1's (one join), most places gained first."""
    current, previous = aliased(Evaluation), aliased(Evaluation)
    on = date(year, 12, 31)  # the name the unit bore that year (units.units_of_year's rule)
    rows = session.execute(
        select(current.unit_code, UnitHistory.name_vi, current.ict_rank, current.ict_units, previous.ict_rank,
               previous.ict_units)
        .outerjoin(previous, and_(previous.unit_code == current.unit_code, previous.year == year - 1))
        .outerjoin(UnitHistory, and_(UnitHistory.code == current.unit_code, UnitHistory.valid_from <= on,
                                     or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on)))
        .where(current.year == year))
    movements = [Movement(code, name or code, rank, units, prev_rank, prev_units)
                 for code, name, rank, units, prev_rank, prev_units in rows]
    return sorted(movements, key=lambda m: (m.change is None, -(m.change or 0), m.rank or 0, m.unit_code))
