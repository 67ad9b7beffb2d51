"""An agency's history page: every year's report, ICT rank, outcome and decision side by side, its rank trend, and
whether it was in the bottom 15% of its block two years running, as the decision tables read it (Điều 17.1b)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import permissions, rules
from workflows.calendar import end_of_day
from workflows.errors import NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import Cycle, DefinitionVersion, Evaluation, Report, Unit, User
from workflows.results import previous_ranks, rank_ties
from workflows.settings import settings_of_year
from workflows.unit_changes import prior_ranks_for
from workflows.units import unit_name
from workflows.vocabulary import (
    RANK_CLASS_LABELS,
    RATING_LABELS,
    REPORT_TIMELINESS_LABELS,
    REWARD_LABELS,
    SANCTION_LABELS,
)


@dataclass(frozen=True)
class BottomStatus:
    """Bottom 15% two years running, for one year: the classes the rules give this year's and last year's rank."""

    year: int
    this_class: str  # top20 | middle | bot15 | not_ranked (the decision table's output)
    prev_class: str
    two_years: bool  # both bot15: the condition of Điều 17.1b
    uncertain: bool  # this year's rank is tied across a class boundary (RANK_TIE): a human decides

    @property
    def sentence(self) -> Text:
        if self.uncertain:
            return Text("Năm {year}: đồng hạng tại ranh giới nhóm; việc thuộc nhóm 15% thấp nhất do người có thẩm "
                        "quyền xem xét.", year=self.year)
        if self.two_years:
            return Text("Năm {year} và năm {previous}: thuộc nhóm 15% thấp nhất của khối hai năm liền "
                        "(điều kiện của Điều 17.1b).", year=self.year, previous=self.year - 1)
        return Text("Năm {year} và năm {previous}: không thuộc nhóm 15% thấp nhất hai năm liền.", year=self.year,
                    previous=self.year - 1)


@dataclass(frozen=True)
class YearRow:
    year: int
    timeliness: Text  # REPORT_TIMELINESS_LABELS
    submitted_at: datetime | None
    report_instance_id: int | None
    ict_rank: int | None
    ict_units: int | None
    rank_class: Text | None
    bottom: BottomStatus | None
    rating: Text | None
    sanction: Text | None
    reward: Text | None
    final: bool
    decision_number: str | None
    decision_date: object | None
    imported: bool  # only a prior year's rank, brought in from CSV


@dataclass(frozen=True)
class AgencyHistory:
    unit_code: str
    unit_name: str
    rows: tuple[YearRow, ...]  # oldest year first
    status: BottomStatus | None  # the latest ranked year's
    sees_proposals: bool  # False: the agency's own people see decided outcomes only

    @property
    def trend(self) -> list[tuple[int, int, int]]:
        """(year, rank, block size) of every ranked year, oldest first: the rank chart's points."""
        return [(r.year, r.ict_rank, r.ict_units) for r in self.rows if r.ict_rank is not None and r.ict_units]


def report_deadline(cycle: Cycle) -> datetime:
    """The end of the report's due day, local time, in UTC (how submission times are stored)."""
    return end_of_day(cycle.report_due).astimezone(UTC)


def timeliness(submitted_at: datetime | None, deadline: datetime | None, now: datetime) -> str:
    """on_time, late, missing or pending: a report compared with its year's deadline (Điều 19)."""
    if deadline is None:
        return "none"
    if submitted_at is None:
        return "missing" if now > deadline else "pending"
    submitted = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=UTC)
    return "late" if submitted > deadline else "on_time"


def agency_history(session: Session, unit_code: str, viewer: User, now: datetime) -> AgencyHistory:
    """UNIT_CODE's years for VIEWER; its own people see decided outcomes only, those who read results all."""
    if session.get(Unit, unit_code) is None:
        raise NotFound(Text("Không tìm thấy cơ quan {code}.", code=unit_code))
    if not permissions.may_see_agency_history(viewer, unit_code):
        raise NotAllowed(Text("Bạn không có quyền xem lịch sử đánh giá của cơ quan này."))
    sees_proposals = permissions.may_see_results(viewer)
    evaluations = {e.year: e for e in session.scalars(select(Evaluation).where(Evaluation.unit_code == unit_code))}
    reports = {r.year: r for r in session.scalars(select(Report).where(Report.unit_code == unit_code))}
    cycles = {c.year: c for c in session.scalars(select(Cycle).where(Cycle.year.in_(set(evaluations) | set(reports))))}
    rows = []
    ranks: dict[tuple[str, int], dict[str, tuple[int | None, int | None]]] = {}  # read once a year
    for year in sorted(set(evaluations) | set(reports)):
        evaluation, report, cycle = evaluations.get(year), reports.get(year), cycles.get(year)
        shown = evaluation is not None and not evaluation.imported and (evaluation.final or sees_proposals)
        bottom = bottom_status(session, evaluation, cycle, ranks) if evaluation and evaluation.ict_rank else None
        state = timeliness(report.submitted_at, report_deadline(cycle) if cycle else None, now) if report else "none"
        rows.append(YearRow(
            year, REPORT_TIMELINESS_LABELS[state], report.submitted_at if report else None,
            report.instance_id if report else None,
            evaluation.ict_rank if evaluation else None, evaluation.ict_units if evaluation else None,
            RANK_CLASS_LABELS.get(bottom.this_class) if bottom else None, bottom,
            _label(RATING_LABELS, evaluation.rating) if shown else None,
            _label(SANCTION_LABELS, evaluation.sanction) if shown else None,
            _label(REWARD_LABELS, evaluation.reward) if shown else None,
            bool(evaluation and evaluation.final), evaluation.decision_number if shown else None,
            evaluation.decision_date if shown else None, bool(evaluation and evaluation.imported)))
    latest = next((r.bottom for r in reversed(rows) if r.bottom is not None), None)
    return AgencyHistory(unit_code, unit_name(session, unit_code, rows[-1].year if rows else now.year),
                         tuple(rows), latest, sees_proposals)


def _label(labels: dict[str, Text], value: str | None) -> Text | None:
    return labels.get(value, value) if value else None  # type: ignore[return-value]


def bottom_status(session: Session, evaluation: Evaluation, cycle: Cycle | None,
                  ranks: dict[tuple[str, int], dict[str, tuple[int | None, int | None]]] | None = None,
                  ) -> BottomStatus:
    """EVALUATION's year through the rules' own code: the rank classes from the decision tables (of the version the
    year's cycle pinned, else the latest), last year's rank from `results.previous_ranks`, ties from `rank_ties`.

    The shares are the year's settings and last year's ranks follow the unit's history as the cycle's proposal
    reads them (`unit_changes.prior_ranks_for`). RANKS caches them per year across the calls of one page.
    """
    year = evaluation.year
    ranks = {} if ranks is None else ranks
    if ("this", year) not in ranks:
        ranks["this", year] = previous_ranks(session, year)
        ranks["last", year] = prior_ranks_for(session, year)  # last year's, as this year's proposal reads them
    prev_rank, prev_units = ranks["last", year].get(evaluation.unit_code, (None, None))
    this_year = ranks["this", year]
    settings = settings_of_year(session, year)
    case = {"block": evaluation.block.value, "sections_violated": [], "ict_rank": evaluation.ict_rank,
            "ict_units": evaluation.ict_units, "prev_ict_rank": prev_rank, "prev_ict_units": prev_units,
            "slow_conclusions": False, "superior_requires_review": False, "lacks_responsibility": False,
            "special_achievement": False}
    version = session.get(DefinitionVersion, cycle.evaluation_version_id) if cycle else None
    outcome = rules.evaluate(session, case, version, settings.top_share, settings.bottom_share)
    tied = evaluation.unit_code in rank_ties(this_year, settings.top_share, settings.bottom_share)
    return BottomStatus(year, outcome["ict_class"], outcome["prev_ict_class"],
                        outcome["ict_class"] == "bot15" and outcome["prev_ict_class"] == "bot15", tied)
