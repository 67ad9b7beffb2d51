"""What the cycle pages show: the years, one year's progress per agency (all of them, or the viewer's own) and, for
those who may see them, its results with every override."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import cycles, permissions, subjects
from workflows.errors import NotAllowed
from workflows.messages import Text
from workflows.models import Cycle, Report, User
from workflows.readable import utc
from workflows.vocabulary import (
    CYCLE_STATUS_LABELS,
    OUTCOME_FIELDS,
    OVERRIDE_STAGE_LABELS,
    REASON_LABELS,
    REPORT_STAGE_LABELS,
    role_label,
)


@dataclass(frozen=True)
class CycleRow:
    year: int
    status: str
    report_due: date
    units: int
    decision_number: str | None
    decision_date: date | None


@dataclass(frozen=True)
class ProgressRow:
    unit_code: str
    unit_name: str
    status: str
    step: str | None
    since: datetime
    holder: str | None
    revisions: int
    instance_id: int


@dataclass(frozen=True)
class OverrideRow:
    stage: str
    field: str
    change: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ResultRow:
    unit_code: str
    unit_name: str
    rating: str
    sanction: str
    reward: str
    reasons: tuple[str, ...]
    articles: tuple[str, ...]
    final: bool
    overrides: tuple[OverrideRow, ...]
    report_status: str | None = None  # accepted, late, missing (A24)
    subjects: tuple[str, ...] = ()  # the persons evaluated, "name (role, term)" (workflows/subjects.person_label)
    subject_notes: tuple[str, ...] = ()  # a choice still due, its reason, or "no dates of office"


@dataclass(frozen=True)
class CyclePage:
    cycle: Cycle
    status: str
    sees_all: bool
    rows: tuple[ProgressRow, ...]
    counts: tuple[tuple[str, int], ...]  # (status in Vietnamese, how many), in REPORT_STAGE_LABELS order
    results: tuple[ResultRow, ...] | None  # None: VIEWER may not see results, or there are none yet


def cycle_list(session: Session) -> list[CycleRow]:
    """Every opened year, newest first, with how many agencies report in it."""
    units = dict(session.execute(select(Report.year, func.count(Report.id)).group_by(Report.year)).all())
    return [CycleRow(c.year, CYCLE_STATUS_LABELS.get(c.status.value, c.status.value), c.report_due,
                     units.get(c.year, 0), c.decision_number, c.decision_date)
            for c in session.scalars(select(Cycle).order_by(Cycle.year.desc()))]


def cycle_page(session: Session, year: int, viewer: User) -> CyclePage:
    """YEAR's progress for VIEWER: central roles see every agency, an agency only its own row; results to some."""
    cycle = cycles.get_cycle(session, year)
    sees_all = permissions.sees_every_agency(viewer)
    if not permissions.may_follow_cycle(viewer):
        raise NotAllowed(Text("Bạn không có quyền xem tiến độ kỳ đánh giá."))
    rows = [
        ProgressRow(r["unit_code"], r["unit_name"], REPORT_STAGE_LABELS.get(r["status"], r["status"]), r["step"],
                    utc(r["since"]), role_label(r["holder"]) if r["holder"] else None, r["revisions"],
                    r["instance_id"])
        for r in cycles.progress(session, year) if sees_all or r["unit_code"] == viewer.unit_code
    ]
    tally = Counter(r.status for r in rows)
    counts = tuple((label, tally[label]) for label in dict.fromkeys(REPORT_STAGE_LABELS.values()) if tally[label])
    results = None
    if permissions.may_see_results(viewer):
        raw = [r for r in cycles.results(session, year) if r["rating"]]
        results = tuple(_result_row(session, r) for r in raw) or None
    return CyclePage(cycle, CYCLE_STATUS_LABELS.get(cycle.status.value, cycle.status.value), sees_all, tuple(rows),
                     counts, results)


def _result_row(session: Session, r: Mapping[str, Any]) -> ResultRow:
    by_names = dict(session.execute(select(User.username, User.full_name).where(
        User.username.in_({o["by"] for o in r["overrides"]}))).all()) if r["overrides"] else {}
    overrides = []
    for o in r["overrides"]:
        field, values = OUTCOME_FIELDS.get(o["field"], (o["field"], {}))
        change = f"{values.get(o['from'] or '', o['from'] or '—')} → {values.get(o['to'], o['to'])}"
        overrides.append(OverrideRow(OVERRIDE_STAGE_LABELS.get(o["stage"], o["stage"]), field, change, o["reason"],
                                     by_names.get(o["by"], o["by"]), utc(datetime.fromisoformat(o["at"]))))
    return ResultRow(r["unit_code"], r["unit_name"], r["rating_vi"], r["sanction_vi"], r["reward_vi"],
                     tuple(REASON_LABELS.get(code, code) for code in r["reasons"]), tuple(r["articles"]), r["final"],
                     tuple(overrides), r.get("report_status"), tuple(subjects.persons_shown(r)),
                     tuple(subjects.person_notes(r)))


