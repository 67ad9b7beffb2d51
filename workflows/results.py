"""The results store: per year and unit, the inputs, the decision-table proposal, overrides and the final outcome."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.util import identity_key

from workflows.errors import EngineError, InvalidInput
from workflows.messages import Text
from workflows.models import Block, Evaluation, Override, User
from workflows.outcome_articles import ALLOWED_ARTICLES, settle
from workflows.rules import RATINGS, REWARDS, SANCTIONS
from workflows.subjects import flag_subjects
from workflows.units import units_of_year

OVERRIDABLE = {"rating": RATINGS, "sanction": SANCTIONS, "reward": REWARDS}


def evaluations_of_year(session: Session, year: int) -> dict[str, Evaluation]:
    """The year's evaluation rows by unit, each with its overrides (every step that settles an outcome reads them)."""
    rows = session.scalars(select(Evaluation).where(Evaluation.year == year, Evaluation.imported.is_(False))
                           .options(selectinload(Evaluation.overrides)))
    return {e.unit_code: e for e in rows}


def evaluations_named(session: Session, year: int, overrides: Any) -> dict[str, Evaluation]:
    """The year's evaluation rows of just the units OVERRIDES names: all that apply_overrides reads of the year.

    A step that only records overrides (the reviews, Home Affairs, the Committee) then costs the same for 28 or
    2,800 units; a unit named that has no row of this year is missing here, so apply_overrides refuses it as before.
    """
    items = overrides if isinstance(overrides, list) else []
    codes = {str(item.get("unit_code", "")).upper() for item in items if isinstance(item, Mapping)}
    if not codes:
        return {}
    rows = session.scalars(select(Evaluation).where(Evaluation.year == year, Evaluation.imported.is_(False),
                                                    Evaluation.unit_code.in_(codes))
                           .options(selectinload(Evaluation.overrides)))
    return {e.unit_code: e for e in rows}


def make_final(session: Session, year: int, number: str | None, decided_on: date | None,
               subjects: Mapping[str, list[dict[str, Any]]]) -> int:
    """The Committee has decided: every unit's outcome of YEAR becomes final; returns the number of units.

    Each outcome's articles and subject flags are brought up to date first (settle, flag_subjects), reading of its
    proposal only what they use (its articles and sanction rule, not the whole decision trace); only the rows that
    change are written, then one UPDATE makes the year final. Refused, with nothing written, while an outcome is
    still 'manual_review'.
    """
    session.flush()
    proposed = Evaluation.proposed
    rows = session.execute(select(
        Evaluation.id, Evaluation.unit_code, Evaluation.block, Evaluation.rating, Evaluation.sanction,
        Evaluation.reward, Evaluation.reasons, Evaluation.articles, proposed["articles"], proposed["sanction_rule"],
    ).where(Evaluation.year == year, Evaluation.imported.is_(False)).order_by(Evaluation.unit_code)).all()
    pending = [row.unit_code for row in rows if "manual_review" in (row.rating, row.sanction)]
    if pending:
        raise EngineError(f"{pending[0]}: an outcome is still 'manual_review'; nothing is final")
    overrides: dict[int, list[Override]] = defaultdict(list)
    for override in session.scalars(select(Override).join(Evaluation, Evaluation.id == Override.evaluation_id)
                                    .where(Evaluation.year == year).order_by(Override.at, Override.id)):
        overrides[override.evaluation_id].append(override)
    changed = []
    for row in rows:
        loaded = session.identity_map.get(identity_key(Evaluation, row.id))
        if loaded is not None:  # changed in this unit of work: settle the object itself, the flush writes it
            settle(loaded)
            flag_subjects(loaded, list(subjects.get(row.unit_code, [])))
            continue
        outcome = SimpleNamespace(
            block=row.block, rating=row.rating, sanction=row.sanction, reward=row.reward, reasons=row.reasons,
            articles=row.articles, overrides=overrides.get(row.id, []),
            proposed={"articles": row[8], "sanction_rule": row[9]})
        settle(outcome)  # type: ignore[arg-type]
        flag_subjects(outcome, list(subjects.get(row.unit_code, [])))  # type: ignore[arg-type]
        if (outcome.articles, outcome.reasons) != (row.articles, row.reasons):
            changed.append({"_id": row.id, "articles": outcome.articles, "reasons": outcome.reasons})
    table = Evaluation.__table__
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("_id"))
                        .values(articles=bindparam("articles"), reasons=bindparam("reasons")), changed)
    session.execute(update(Evaluation).where(Evaluation.year == year, Evaluation.imported.is_(False))
                    .values(final=True, decision_number=number, decision_date=decided_on))
    return len(rows)


def previous_ranks(session: Session, year: int) -> dict[str, tuple[int | None, int | None]]:
    """Each unit's ICT rank and block size in YEAR, from a recorded cycle or an import."""
    rows = session.execute(select(Evaluation.unit_code, Evaluation.ict_rank, Evaluation.ict_units)
                           .where(Evaluation.year == year))
    return {code: (rank, units) for code, rank, units in rows}


def parse_rank_csv(text: str, known: set[str] | None = None) -> dict[str, tuple[int, int | None]]:
    """Read `unit_code,rank[,units]` lines (a header row is allowed); raise InvalidInput naming each bad line.

    With KNOWN (the units of the year), a code outside it is a bad line too: the import is all or nothing.
    """
    ranks: dict[str, tuple[int, int | None]] = {}
    errors: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text.strip())), start=1):
        if not row or not row[0].strip():
            continue
        if number == 1 and (len(row) < 2 or not row[1].strip().isdigit()):
            continue  # a header row
        code = row[0].strip().upper()
        try:
            rank = int(row[1])
            units = int(row[2]) if len(row) > 2 and row[2].strip() else None
        except (IndexError, ValueError):
            errors[f"line {number}"] = "expected code,rank[,units] with whole numbers"
            continue
        if rank < 1 or (units is not None and rank > units):
            errors[f"line {number}"] = f"rank {rank} is outside 1..{units or '∞'}"
        elif code in ranks:
            errors[f"line {number}"] = f"unit {code} appears twice"
        elif known is not None and code not in known:
            errors[f"line {number}"] = f"unit {code} did not exist that year"
        else:
            ranks[code] = (rank, units)
    if errors:
        raise InvalidInput(Text("Tệp xếp hạng có dòng không hợp lệ."), errors)
    return ranks


def import_prior_ranks(session: Session, year: int, csv_text: str) -> int:
    """Store a past year's ICT ranks (for the 'two consecutive years' rule); block sizes default to the block count."""
    if not 2000 <= year <= 2100:  # the ICT Index began in the 2000s; anything else is a typing mistake
        raise InvalidInput(Text("Năm của thứ hạng phải từ 2000 đến 2100."),
                           {"year": Text("Năm của thứ hạng phải từ 2000 đến 2100.")})
    units = {u.code: u for u in units_of_year(session, year)}
    ranks = parse_rank_csv(csv_text, set(units))
    block_sizes = _block_sizes(units[c].block for c in ranks)
    existing = {e.unit_code: e for e in session.scalars(select(Evaluation).where(Evaluation.year == year))}
    for code, (rank, size) in ranks.items():
        row = existing.get(code)
        if row is not None and not row.imported:
            raise InvalidInput(Text("Năm này đã có kết quả đánh giá; không nhập đè."), {code: "already evaluated"})
        if row is None:
            row = Evaluation(year=year, unit_code=code, block=units[code].block, imported=True)
            session.add(row)
        row.ict_rank, row.ict_units = rank, size or block_sizes[units[code].block]
    session.flush()
    return len(ranks)


def _block_sizes(blocks: Iterable[Block]) -> dict[Block, int]:
    sizes: dict[Block, int] = defaultdict(int)
    for block in blocks:
        sizes[block] += 1
    return sizes


def rank_ties(ranks: Mapping[str, tuple[int | None, int | None]], top_share: float, bottom_share: float) -> set[str]:
    """Units whose tied rank straddles the top-20% or bottom-15% boundary of their block (RANK_TIE)."""
    by_rank: dict[tuple[int, int], list[str]] = defaultdict(list)
    for code, (rank, units) in ranks.items():
        if rank is not None and units is not None:
            by_rank[(units, rank)].append(code)
    tied: set[str] = set()
    for (units, rank), codes in by_rank.items():
        if len(codes) < 2:
            continue
        last = rank + len(codes) - 1  # tied units occupy positions rank..last
        # Decimal: 0.29 * 100 in binary floating point is 28.999…, one unit short of the boundary.
        top = max(1, int(Decimal(str(top_share)) * units))
        bottom_start = units - max(1, int(Decimal(str(bottom_share)) * units))
        if rank <= top < last or rank <= bottom_start < last:
            tied.update(codes)
    return tied


def apply_overrides(
    session: Session,
    evaluations: Mapping[str, Evaluation],
    overrides: Any,
    stage: str,
    actor: User,
    allowed_units: set[str] | None = None,
) -> list[Override]:
    """Change proposed outcomes; every change needs a written reason and is recorded with who and why."""
    if overrides in (None, ""):
        return []
    if not isinstance(overrides, list):
        raise InvalidInput(Text("Danh sách điều chỉnh không hợp lệ."), {"overrides": "expected a list"})
    errors: dict[str, str] = {}
    changes = []
    for index, item in enumerate(overrides):
        key = f"overrides[{index}]"
        if not isinstance(item, Mapping):
            errors[key] = "expected an object"
            continue
        code, field, value = str(item.get("unit_code", "")).upper(), item.get("field"), item.get("value")
        reason = str(item.get("reason") or "").strip()
        article = str(item.get("article") or "").strip() or None
        if code not in evaluations or (allowed_units is not None and code not in allowed_units):
            errors[f"{key}.unit_code"] = Text("Đơn vị không thuộc phạm vi điều chỉnh ở bước này.")
        elif field not in OVERRIDABLE:
            errors[f"{key}.field"] = Text("Chỉ điều chỉnh được xếp loại, hình thức xử lý hoặc khen thưởng.")
        elif value not in OVERRIDABLE[field] or value == "manual_review":
            errors[f"{key}.value"] = Text("Giá trị không hợp lệ.")
        elif not reason:
            errors[f"{key}.reason"] = Text("Phải ghi rõ lý do điều chỉnh.")
        elif article is not None and article not in ALLOWED_ARTICLES[field]:
            errors[f"{key}.article"] = Text("Điều khoản không khớp với nội dung điều chỉnh: {allowed}.",
                                            allowed=", ".join(sorted(ALLOWED_ARTICLES[field])))
        else:
            changes.append((evaluations[code], field, value, reason, article))
    if errors:
        raise InvalidInput(Text("Điều chỉnh chưa hợp lệ."), errors)
    recorded = []
    for evaluation, field, value, reason, article in changes:
        old = getattr(evaluation, field)
        if old == value:
            continue
        setattr(evaluation, field, value)
        override = Override(stage=stage, field=field, old_value=old, new_value=value, reason=reason,
                            article=article, by_id=actor.id)
        evaluation.overrides.append(override)
        recorded.append(override)
        settle(evaluation)
    session.flush()
    return recorded
