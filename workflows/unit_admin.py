"""The administrator's units page as use cases: the units and their history, every change kind, the 2025 changes.

Each change is one transaction (`runtime.atomic`): checked as a whole (every problem at once, by field), written with
its audit event and committed; a problem rolls everything back. The web layer only parses the form and renders.
The changes docs/RULES.md §8 lists for 2025 are loaded only when the administrator asks (never by default: the merged
province's own list of units is not known, and the demonstration runs on the 28 units before the merger).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import permissions, runtime, unit_changes
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import Block, OfficeTerm, UnitChange, UnitHistory, User

KIND_LABELS = {"rename": Text("Đổi tên"), "merge": Text("Hợp nhất"), "split": Text("Chia tách"),
               "dissolve": Text("Giải thể"), "establish": Text("Thành lập mới")}


@dataclass(frozen=True)
class UnitLine:
    code: str
    name_vi: str
    block: Block
    valid_from: date
    valid_to: date | None
    successor: str | None
    terms: int


@dataclass(frozen=True)
class KnownChange:
    label: Text
    on: date
    document: str
    applied: bool


def ensure_admin(actor: User | None) -> None:
    if not permissions.may_manage_users(actor):
        raise NotAllowed(Text("Chỉ quản trị hệ thống được quản lý danh sách đơn vị."))


def unit_lines(session: Session) -> list[UnitLine]:
    """Every period of every unit, current ones first, with how many terms of office each unit has."""
    counts: dict[str, int] = {}
    for code in session.scalars(select(OfficeTerm.unit_code)):
        counts[code] = counts.get(code, 0) + 1
    rows = session.scalars(select(UnitHistory).order_by(UnitHistory.code, UnitHistory.valid_from))
    lines = [UnitLine(r.code, r.name_vi, r.block, r.valid_from, r.valid_to, r.successor_code, counts.get(r.code, 0))
             for r in rows]
    return sorted(lines, key=lambda u: (u.valid_to is not None, u.code, u.valid_from))


def unit_history(session: Session, code: str) -> list[UnitHistory]:
    rows = list(session.scalars(select(UnitHistory).where(UnitHistory.code == code).order_by(UnitHistory.valid_from)))
    if not rows:
        raise NotFound(Text("Không có đơn vị mã {code}.", code=code))
    return rows


def recorded_changes(session: Session) -> list[UnitChange]:
    return list(session.scalars(select(UnitChange).order_by(UnitChange.effective_on.desc(), UnitChange.id.desc())))


def _key(change: dict[str, Any]) -> tuple[Any, ...]:
    if change["kind"] == "merge":
        return ("merge", change["on"], tuple(change["from"]), (change["to"],))
    return ("dissolve", change["on"], (change["code"],), ())


def known_changes(session: Session) -> list[KnownChange]:
    """The 2025 changes docs/RULES.md §8 lists, each with its source and whether it is recorded here."""
    done = {(c.kind, c.effective_on, tuple(c.from_codes), tuple(c.to_codes))
            for c in session.scalars(select(UnitChange))}
    found = []
    for change in unit_changes.KNOWN_CHANGES_2025:
        if change["kind"] == "merge":
            label = Text("Hợp nhất {codes} thành {into}", codes=", ".join(change["from"]), into=change["to"])
        else:
            label = Text("Giải thể {code}", code=change["code"])
        found.append(KnownChange(label, change["on"], change["document"], _key(change) in done))
    return found


def _audit(session: Session, actor: User, kind: str, message: Text, data: dict[str, Any]) -> None:
    ctx = runtime.Context.create(session, actor)
    runtime.audit(ctx, kind, message, data=data)
    runtime.commit(ctx)


@runtime.atomic
def load_known(session: Session, actor: User) -> int:
    """Record the 2025 changes not recorded yet; returns how many (0 when all are there)."""
    ensure_admin(actor)
    count = unit_changes.load_known_changes(session)
    _audit(session, actor, "unit_changes_loaded", Text("Nạp {count} thay đổi đơn vị năm 2025", count=count),
           {"count": count})
    return count


def _successors(values: dict[str, Any]) -> list[dict[str, str]]:
    codes, names_vi, names_en = (values.get(k) or [] for k in ("successor_code", "successor_name_vi",
                                                                 "successor_name_en"))
    rows = [{"code": c, "name_vi": v, "name_en": e} for c, v, e in zip(codes, names_vi, names_en, strict=False)]
    return [r for r in rows if any(str(x).strip() for x in r.values())]


@runtime.atomic
def apply_change(session: Session, actor: User, kind: str, values: dict[str, Any], on: date | None) -> UnitChange:
    """One change of KIND from the units page; VALUES as the form gives them (lists for the successors' rows)."""
    ensure_admin(actor)
    if kind not in unit_changes.KINDS:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), {"kind": Text("Chọn loại thay đổi.")})
    document = str(values.get("document") or "")
    if on is None:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."),
                           {"effective_on": Text("Nhập ngày hiệu lực dạng dd/mm/yyyy.")})
    code = str(values.get("code") or "").strip().upper()
    if not unit_changes.CODE_PATTERN.match(code):
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."),
                           {"code": Text("Mã đơn vị gồm 2–20 chữ in hoa hoặc số.")})
    name_vi, name_en = str(values.get("name_vi") or "").strip(), str(values.get("name_en") or "").strip()
    block = Block(values["block"]) if values.get("block") in {b.value for b in Block} else None
    if kind == "rename":
        change = unit_changes.rename(session, code, on, name_vi, name_en, document, actor)
    elif kind == "merge":
        from_codes = [str(c).strip().upper() for c in values.get("from_codes") or [] if str(c).strip()]
        change = unit_changes.merge(session, from_codes, code, on, document, actor, name_vi or None, name_en or None,
                                    block)
    elif kind == "split":
        change = unit_changes.split(session, code, _successors(values), on, document,
                                    str(values.get("continuation") or "") or None, actor)
    elif kind == "dissolve":
        change = unit_changes.dissolve(session, code, on, document, actor)
    else:
        change = unit_changes.establish(session, code, name_vi, name_en, block, on, document, actor)
    _audit(session, actor, "unit_changed", Text("{kind}: {source} → {target} từ {day}", kind=KIND_LABELS[kind],
                                                 source=", ".join(change.from_codes) or "—",
                                                 target=", ".join(change.to_codes) or "—",
                                                 day=on.strftime("%d/%m/%Y")),
           {"kind": kind, "from": change.from_codes, "to": change.to_codes, "effective_on": on,
            "document": change.document, "note": change.note})
    return change
