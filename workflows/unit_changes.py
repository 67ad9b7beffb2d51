"""Changes of the unit list as data with their legal basis (A26, docs/RULES.md §8); what they mean for last year's rank.

Every change closes or opens effective-dated rows of unit_history (so `units_of_year` and `dic_of_year` read the year
as it was) and is recorded in unit_change with its date and document. The changes docs/RULES.md lists are in
KNOWN_CHANGES_2025 and are loaded by `load_known_changes` (idempotent); what it does not know, above all the merged
province's list of units from 01/07/2025, is for the administrator to enter with these same functions.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.models import Block, Unit, UnitChange, UnitHistory, User
from workflows.results import previous_ranks

KINDS = ("rename", "merge", "split", "dissolve", "establish")
CODE_PATTERN = re.compile(r"^[A-Z0-9_]{2,20}$")
# Bắc Ninh merged departments around 03/2025 (docs/RULES.md §8, source S24); the exact day is not known, so the
# first of March stands in and the document says so. The district level ended on 01/07/2025 (S23).
_S24 = "Bắc Ninh hợp nhất các sở, ~03/2025 (docs/RULES.md, nguồn S24; ngày chính xác cần xác nhận)"
_S23 = "Bỏ cấp huyện từ 01/07/2025 (docs/RULES.md, nguồn S23)"
MERGER_DAY, DISTRICTS_END = date(2025, 3, 1), date(2025, 7, 1)
DISTRICTS = ("BNI", "TSO", "YPH", "QVO", "TDU", "TTH", "GBI", "LTA")
KNOWN_CHANGES_2025: list[dict] = [
    {"kind": "merge", "from": ["SKHDT", "STC"], "to": "STC", "on": MERGER_DAY, "document": _S24},
    {"kind": "merge", "from": ["SNNPTNT", "STNMT"], "to": "SNNMT", "on": MERGER_DAY, "document": _S24,
     "name_vi": "Sở Nông nghiệp và Môi trường", "name_en": "Department of Agriculture and Environment"},
    {"kind": "merge", "from": ["SGTVT", "SXD"], "to": "SXD", "on": MERGER_DAY, "document": _S24},
    {"kind": "merge", "from": ["STTTT", "SKHCN"], "to": "SKHCN", "on": MERGER_DAY, "document": _S24},
    {"kind": "dissolve", "code": "SLDTBXH", "on": MERGER_DAY, "document": _S24},
    *({"kind": "dissolve", "code": code, "on": DISTRICTS_END, "document": _S23} for code in DISTRICTS),
]


def _open_row(session: Session, code: str, on: date) -> UnitHistory | None:
    return session.scalar(select(UnitHistory).where(
        UnitHistory.code == code, UnitHistory.valid_from < on,
        (UnitHistory.valid_to.is_(None)) | (UnitHistory.valid_to >= on)).order_by(UnitHistory.valid_from.desc()))


def _check(document: str, on: object, codes: list[str]) -> dict[str, Text]:
    errors: dict[str, Text] = {}
    if not str(document or "").strip():
        errors["document"] = Text("Ghi số, ngày văn bản làm căn cứ thay đổi.")
    if not isinstance(on, date):
        errors["effective_on"] = Text("Ngày hiệu lực phải là ngày (yyyy-mm-dd).")
    return errors


def _record(session: Session, kind: str, on: date, document: str, from_codes: list[str], to_codes: list[str],
            actor: User | None, note: str | None = None) -> UnitChange:
    change = UnitChange(kind=kind, effective_on=on, document=document.strip(), from_codes=from_codes,
                        to_codes=to_codes, note=note, recorded_by_id=actor.id if actor else None)
    session.add(change)
    session.flush()
    return change


def _close(session: Session, code: str, on: date, successor: str | None) -> UnitHistory:
    row = _open_row(session, code, on)
    if row is None:
        raise InvalidInput(Text("Đơn vị {code} không tồn tại trước ngày hiệu lực.", code=code),
                           {"code": Text("Đơn vị {code} không tồn tại trước ngày hiệu lực.", code=code)})
    row.valid_to, row.successor_code = on - timedelta(days=1), successor
    return row


def rename(session: Session, code: str, on: date, name_vi: str, name_en: str, document: str,
           actor: User | None = None) -> UnitChange:
    """CODE bears a new name from ON (the same unit: its rank history continues)."""
    errors = _check(document, on, [code])
    if not name_vi.strip():
        errors["name_vi"] = Text("Nhập tên mới của đơn vị.")
    if errors:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), errors)
    old = _close(session, code, on, code)
    session.add(UnitHistory(code=code, name_vi=name_vi.strip(), name_en=name_en.strip() or name_vi.strip(),
                            block=old.block, valid_from=on, valid_to=None, source=document.strip()))
    return _record(session, "rename", on, document, [code], [code], actor)


def merge(session: Session, from_codes: list[str], into: str, on: date, document: str, actor: User | None = None,
          name_vi: str | None = None, name_en: str | None = None, block: Block | None = None) -> UnitChange:
    """FROM_CODES become INTO from ON: INTO absorbs them (if it existed) or is a new unit named NAME_VI."""
    errors = _check(document, on, from_codes)
    if len(set(from_codes)) < 2 and into in from_codes or not from_codes:
        errors["from_codes"] = Text("Chọn các đơn vị được hợp nhất.")
    if errors:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), errors)
    survivor = _open_row(session, into, on)
    first = _open_row(session, from_codes[0], on)
    for code in from_codes:
        if code != into:
            _close(session, code, on, into)
    if survivor is None:
        if not name_vi:
            raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), {"name_vi": Text("Nhập tên đơn vị mới.")})
        if session.get(Unit, into) is None:
            session.add(Unit(code=into))
            session.flush()
        session.add(UnitHistory(code=into, name_vi=name_vi, name_en=name_en or name_vi,
                                block=block or (first.block if first else Block.DEPARTMENT), valid_from=on,
                                valid_to=None, source=document.strip()))
    return _record(session, "merge", on, document, list(from_codes), [into], actor)


def _new_unit(session: Session, code: str, name_vi: str, name_en: str, block: Block, on: date, document: str) -> None:
    if session.get(Unit, code) is None:
        session.add(Unit(code=code))
        session.flush()
    session.add(UnitHistory(code=code, name_vi=name_vi, name_en=name_en or name_vi, block=block, valid_from=on,
                            valid_to=None, source=document.strip()))


def _code_problem(session: Session, code: str, on: date | None) -> Text | None:
    if not CODE_PATTERN.match(code):
        return Text("Mã đơn vị gồm 2–20 chữ in hoa hoặc số.")
    if isinstance(on, date) and _open_row(session, code, on + timedelta(days=1)) is not None:
        return Text("Mã {code} đang được dùng cho một đơn vị khác.", code=code)
    return None


def establish(session: Session, code: str, name_vi: str, name_en: str, block: Block | None, on: date, document: str,
              actor: User | None = None) -> UnitChange:
    """A new unit CODE exists from ON (no history of its own: no last-year rank)."""
    code = code.strip().upper()
    errors = _check(document, on, [code])
    if problem := _code_problem(session, code, on):
        errors["code"] = problem
    if not name_vi.strip():
        errors["name_vi"] = Text("Nhập tên đơn vị mới.")
    if block is None:
        errors["block"] = Text("Chọn khối.")
    if errors:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), errors)
    assert block is not None
    _new_unit(session, code, name_vi.strip(), name_en.strip(), block, on, document)
    return _record(session, "establish", on, document, [], [code], actor)


def split(session: Session, code: str, successors: list[dict[str, str]], on: date, document: str,
          continuation: str | None = None, actor: User | None = None) -> UnitChange:
    """CODE ends the day before ON and is followed by SUCCESSORS ({code, name_vi, name_en}), new units from ON.

    Two consecutive years (A9): no successor inherits CODE's rank unless CONTINUATION names the one that carries on
    its history; the others, and all of them without a continuation, have no last-year rank (MISSING_INPUT).
    """
    code = code.strip().upper()
    errors = _check(document, on, [code])
    if isinstance(on, date) and _open_row(session, code, on) is None:
        errors["code"] = Text("Đơn vị {code} không tồn tại trước ngày hiệu lực.", code=code)
    codes = [str(s.get("code") or "").strip().upper() for s in successors]
    if len([c for c in codes if c]) < 2:
        errors["successors"] = Text("Một đơn vị được chia thành ít nhất hai đơn vị kế tiếp.")
    elif len(set(codes)) != len(codes):
        errors["successors"] = Text("Mỗi đơn vị kế tiếp có một mã riêng.")
    for index, (successor, new_code) in enumerate(zip(successors, codes, strict=True)):
        if problem := _code_problem(session, new_code, on) if new_code != code else None:
            errors[f"successors[{index}].code"] = problem
        if not str(successor.get("name_vi") or "").strip():
            errors[f"successors[{index}].name_vi"] = Text("Nhập tên đơn vị mới.")
    continuation = (continuation or "").strip().upper() or None
    if continuation is not None and continuation not in codes:
        errors["continuation"] = Text("Đơn vị kế tục phải là một trong các đơn vị kế tiếp.")
    if errors:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), errors)
    old = _close(session, code, on, continuation)
    for successor, new_code in zip(successors, codes, strict=True):
        _new_unit(session, new_code, str(successor["name_vi"]).strip(), str(successor.get("name_en") or "").strip(),
                  old.block, on, document)
    note = f"continuation: {continuation}" if continuation else None
    return _record(session, "split", on, document, [code], codes, actor, note)


def dissolve(session: Session, code: str, on: date, document: str, actor: User | None = None) -> UnitChange:
    """CODE ceases to exist from ON, with no successor."""
    errors = _check(document, on, [code])
    if errors:
        raise InvalidInput(Text("Chưa ghi được thay đổi đơn vị."), errors)
    _close(session, code, on, None)
    return _record(session, "dissolve", on, document, [code], [], actor)


def load_known_changes(session: Session) -> int:
    """Apply the changes docs/RULES.md lists that are not recorded yet; returns how many were applied."""
    done = {(c.kind, c.effective_on, tuple(c.from_codes), tuple(c.to_codes))
            for c in session.scalars(select(UnitChange))}
    applied = 0
    for change in KNOWN_CHANGES_2025:
        if change["kind"] == "merge":
            key = ("merge", change["on"], tuple(change["from"]), (change["to"],))
            if key in done:
                continue
            merge(session, change["from"], change["to"], change["on"], change["document"],
                  name_vi=change.get("name_vi"), name_en=change.get("name_en"))
        else:
            key = ("dissolve", change["on"], (change["code"],), ())
            if key in done:
                continue
            dissolve(session, change["code"], change["on"], change["document"])
        applied += 1
    session.flush()
    return applied


def prior_ranks_for(session: Session, year: int) -> dict[str, tuple[int | None, int | None]]:
    """Last year's rank for each unit of YEAR, following a unit only where its history is its own (A9).

    A unit that existed under its code last year keeps its rank (a rename keeps the code), unless it took part in a
    merger or split that took effect in YEAR: then "two consecutive years" has no single history and the rank is
    missing (MISSING_INPUT:prev_ict_rank goes to a person). A unit new in YEAR has no last-year rank.
    """
    ranks = previous_ranks(session, year - 1)
    first, last = date(year, 1, 1), date(year, 12, 31)
    reshaped: set[str] = set()
    continued: dict[str, str] = {}  # a split's named continuation -> the unit it carries on
    for change in session.scalars(select(UnitChange).where(UnitChange.effective_on >= first,
                                                           UnitChange.effective_on <= last,
                                                           UnitChange.kind.in_(("merge", "split")))):
        reshaped.update(change.to_codes)
        reshaped.update(change.from_codes)
        if change.kind == "split" and (change.note or "").startswith("continuation: "):
            continued[change.note.removeprefix("continuation: ")] = change.from_codes[0]
    kept = {code: value for code, value in ranks.items() if code not in reshaped}
    kept.update({successor: ranks[origin] for successor, origin in continued.items() if origin in ranks})
    return kept
