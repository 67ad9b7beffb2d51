"""Units of Bắc Ninh as effective-dated data (A26): which units exist in a given year, under which name and block."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflows.cache import DatabaseCache
from workflows.models import Block, Unit, UnitHistory

AGENCIES_CSV = Path(__file__).resolve().parent / "data" / "agencies.csv"
DIC_CODE = "STTTT"  # Sở Thông tin và Truyền thông: the evaluator, evaluated too (A23)
REGULATION_EFFECTIVE = date(2013, 10, 10)  # ten days after signing on 30/09/2013 (Decision Điều 2)

# Renames and upgrades known from docs/RULES.md, Units and their changes, as (code, from, name_vi, name_en, source).
KNOWN_CHANGES = [
    ("TSO", date(2021, 11, 1), "Thành phố Từ Sơn", "Từ Sơn City", "NQ 387/NQ-UBTVQH15"),
    ("QVO", date(2023, 4, 10), "Thị xã Quế Võ", "Quế Võ Town", "docs/RULES.md, S21"),
    ("TTH", date(2023, 4, 10), "Thị xã Thuận Thành", "Thuận Thành Town", "docs/RULES.md, S21"),
]


@dataclass(frozen=True)
class UnitOfYear:
    code: str
    name_vi: str
    name_en: str
    block: Block


def load_units(session: Session, csv_text: str | None = None) -> int:
    """Create the units of agencies.csv (and their known renames); existing codes are left as they are."""
    text = csv_text if csv_text is not None else AGENCIES_CSV.read_text(encoding="utf-8")
    existing = set(session.scalars(select(Unit.code)))
    created = 0
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"].strip().upper()
        if code in existing:
            continue
        unit = Unit(code=code)
        changes = sorted((c for c in KNOWN_CHANGES if c[0] == code), key=lambda c: c[1])
        block = Block(row["kind"].strip())
        start, source = REGULATION_EFFECTIVE, "agencies.csv"
        name_vi, name_en = row["name_vi"].strip(), row["name_en"].strip()
        for _, changed_on, new_vi, new_en, change_source in changes:
            unit.history.append(UnitHistory(name_vi=name_vi, name_en=name_en, block=block, valid_from=start,
                                            valid_to=changed_on - timedelta(days=1), source=source))
            start, name_vi, name_en, source = changed_on, new_vi, new_en, change_source
        unit.history.append(UnitHistory(name_vi=name_vi, name_en=name_en, block=block, valid_from=start,
                                        valid_to=None, source=source))
        session.add(unit)
        created += 1
    session.flush()
    return created


def units_of_year(session: Session, year: int) -> list[UnitOfYear]:
    """Units in existence on 31/12 of YEAR, with the name they bore then, in code order."""
    on = date(year, 12, 31)
    # Plain columns, not mapped objects: opening a year of 2,800 units reads them twice (8 ms each, 30 as objects).
    rows = session.execute(
        select(UnitHistory.code, UnitHistory.name_vi, UnitHistory.name_en, UnitHistory.block)
        .where(UnitHistory.valid_from <= on, or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on))
        .order_by(UnitHistory.code)
    )
    return [UnitOfYear(*row) for row in rows]


def dic_of_year(session: Session, year: int) -> str:
    """The unit that was the DIC on 31/12 of YEAR: Sở TT&TT, or the unit it merged into (A26: Sở KH&CN from 2025)."""
    on = date(year, 12, 31)
    code = DIC_CODE
    for _ in range(10):  # a chain of successors is short; the bound only guards against a loop in bad data
        rows = list(session.scalars(select(UnitHistory).where(UnitHistory.code == code)
                                    .order_by(UnitHistory.valid_from)))
        if not rows or any(r.valid_from <= on and (r.valid_to is None or r.valid_to >= on) for r in rows):
            return code
        last = rows[-1]
        if last.valid_to is None or last.valid_to >= on or not last.successor_code:
            return code
        code = last.successor_code
    return code


def unit_name(session: Session, code: str, year: int) -> str:
    on = date(year, 12, 31)
    name = session.scalar(
        select(UnitHistory.name_vi).where(
            and_(UnitHistory.code == code, UnitHistory.valid_from <= on,
                 or_(UnitHistory.valid_to.is_(None), UnitHistory.valid_to >= on))
        )
    )
    return name or code


_NAMES: DatabaseCache[dict[str, str]] = DatabaseCache("unit names", max_entries=4, max_age_seconds=60.0)


def all_unit_names(session: Session) -> dict[str, str]:
    """Each unit's current name, re-read at most once a minute (inbox pages ask on every request)."""
    def load() -> dict[str, str]:
        rows = session.execute(select(UnitHistory.code, UnitHistory.name_vi).order_by(UnitHistory.valid_from))
        return dict(rows.all())  # later periods overwrite earlier ones
    return _NAMES.get(session, "vi", load)


def english_unit_names(session: Session) -> dict[str, str]:
    """Every Vietnamese name a unit has borne, to its English name of the same period (agencies.csv's name_en).

    Keyed by the Vietnamese name rather than the code, so a page that shows the name of a given year (a town before
    it became a city) gets the English name of that same year. Pages show unit names as workflows/ gives them, in
    Vietnamese; the web layer's `unit_name` filter turns them into English in English mode.
    """
    def load() -> dict[str, str]:
        rows = session.execute(select(UnitHistory.name_vi, UnitHistory.name_en).order_by(UnitHistory.valid_from))
        return {vi: en for vi, en in rows.all() if en}
    return _NAMES.get(session, "en", load)
