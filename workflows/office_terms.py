"""Heads' dates of office (A15): entered by the administrator or imported from CSV, read for the persons evaluated.

A term is a unit, a person (a login if they have one, else a name), from, to (open while in office) and the act of
appointment. For YEAR the head subjects are the head in office on 31/12 plus any head with at least N whole months in
office during the year (N is the per-year setting `head_min_months`, 6 by default; docs/RULES.md A15). Nothing here
invents a date: a unit with no term during the year keeps the heads on record (workflows/subjects.py) and says so.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import permissions, runtime
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import OfficeTerm, Unit, User

CSV_COLUMNS = ("unit_code", "person_name", "username", "valid_from", "valid_to", "document")
_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def read_date(text: str | None) -> date | None:
    """dd/mm/yyyy or yyyy-mm-dd; None for anything else (the caller names the field)."""
    text = (text or "").strip()
    match = _DMY.match(text) or _ISO.match(text)
    if match is None:
        return None
    a, b, c = (int(g) for g in match.groups())
    try:
        return date(c, b, a) if match.re is _DMY else date(a, b, c)
    except ValueError:
        return None


def add_months(day: date, months: int) -> date:
    """The same day MONTHS later (the last day of a shorter month when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


def served_months(start: date, end: date, months: int) -> bool:
    """Whether START..END (both days in office) covers at least MONTHS whole months: 01/01..30/06 is six."""
    return end + timedelta(days=1) >= add_months(start, months)


def heads_of_year(session: Session, year: int, min_months: int) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Per unit code, the head subjects of YEAR from the terms; and the set of units with a term during YEAR."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    with_terms: set[str] = set()
    rows = session.execute(
        select(OfficeTerm, User.username).outerjoin(User, User.id == OfficeTerm.user_id)
        .where(OfficeTerm.role == "head", OfficeTerm.valid_from <= last,
               (OfficeTerm.valid_to.is_(None)) | (OfficeTerm.valid_to >= first))
        .order_by(OfficeTerm.unit_code, OfficeTerm.valid_from))
    found: dict[str, list[dict[str, Any]]] = {}
    for term, username in rows:
        with_terms.add(term.unit_code)
        start, end = max(term.valid_from, first), min(term.valid_to or last, last)
        at_year_end = end == last
        if not at_year_end and not served_months(start, end, min_months):
            continue
        found.setdefault(term.unit_code, []).append({
            "name": term.person_name, "username": username, "role": "head", "basis": "office_term",
            "from": term.valid_from.isoformat(), "to": term.valid_to.isoformat() if term.valid_to else None,
            "why": "in_office_31_12" if at_year_end else f"served_{min_months}_months", "document": term.document})
    for heads in found.values():  # the head on 31/12 first, then the others by start
        heads.sort(key=lambda h: h["why"] != "in_office_31_12")
    return found, with_terms


def terms_of(session: Session, unit_code: str) -> list[OfficeTerm]:
    return list(session.scalars(select(OfficeTerm).where(OfficeTerm.unit_code == unit_code)
                                .order_by(OfficeTerm.valid_from)))


def _problems(session: Session, unit_code: str, person_name: str, user: User | None, valid_from: date | None,
              valid_to: date | None, document: str, pending: list[OfficeTerm]) -> dict[str, Text]:
    errors: dict[str, Text] = {}
    if session.get(Unit, unit_code) is None:
        errors["unit_code"] = Text("Cơ quan không tồn tại.")
    if not person_name and user is None:
        errors["person_name"] = Text("Nhập họ tên thủ trưởng hoặc chọn tài khoản.")
    if user is not None and user.unit_code not in (None, unit_code):
        errors["username"] = Text("Tài khoản này thuộc cơ quan khác.")
    if valid_from is None:
        errors["valid_from"] = Text("Nhập ngày dạng dd/mm/yyyy.")
    elif valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = Text("Ngày kết thúc phải sau ngày bắt đầu.")
    if not document:
        errors["document"] = Text("Ghi số, ngày quyết định bổ nhiệm.")
    if valid_from is not None and "valid_to" not in errors:
        end = valid_to or date.max
        for other in [*terms_of(session, unit_code), *pending]:
            if other.unit_code == unit_code and other.valid_from <= end and (other.valid_to or date.max) >= valid_from:
                errors["valid_from"] = Text("Trùng thời gian với nhiệm kỳ của {name} từ {day}.",
                                            name=other.person_name, day=other.valid_from.strftime("%d/%m/%Y"))
                break
    return errors


def _term(unit_code: str, person_name: str, user: User | None, valid_from: date, valid_to: date | None,
          document: str, actor: User | None) -> OfficeTerm:
    return OfficeTerm(unit_code=unit_code, user_id=user.id if user else None,
                      person_name=person_name or (user.full_name if user else ""), role="head",
                      valid_from=valid_from, valid_to=valid_to, document=document,
                      recorded_by_id=actor.id if actor else None)


def _audit(session: Session, actor: User | None, kind: str, message: Text, data: dict[str, Any]) -> None:
    """Record the change (no instance) and commit it with the change: one use case, one transaction."""
    ctx = runtime.Context.create(session, actor)
    runtime.audit(ctx, kind, message, data=data)
    runtime.commit(ctx)


def _ensure_admin(actor: User | None) -> None:
    if actor is not None and not permissions.may_manage_users(actor):
        raise NotAllowed(Text("Chỉ quản trị hệ thống được ghi nhiệm kỳ thủ trưởng."))


@runtime.atomic
def add_term(session: Session, actor: User | None, unit_code: str, person_name: str, username: str,
             valid_from: date | None, valid_to: date | None, document: str) -> OfficeTerm:
    """Record one head's term; every problem at once, by field; audited and committed."""
    _ensure_admin(actor)
    unit_code, person_name, document = unit_code.strip().upper(), person_name.strip(), document.strip()
    user = session.scalar(select(User).where(User.username == username.strip())) if username.strip() else None
    errors = _problems(session, unit_code, person_name, user, valid_from, valid_to, document, [])
    if username.strip() and user is None:
        errors["username"] = Text("Không có tài khoản này.")
    if errors:
        raise InvalidInput(Text("Chưa ghi được nhiệm kỳ."), errors)
    assert valid_from is not None
    term = _term(unit_code, person_name, user, valid_from, valid_to, document, actor)
    session.add(term)
    session.flush()
    _audit(session, actor, "office_term_added", Text("Ghi nhiệm kỳ thủ trưởng {name} ({unit})",
                                                     name=term.person_name, unit=unit_code),
           {"unit_code": unit_code, "person_name": term.person_name, "username": username.strip() or None,
            "valid_from": valid_from, "valid_to": valid_to, "document": document})
    return term


@runtime.atomic
def remove_term(session: Session, actor: User | None, term_id: int) -> OfficeTerm:
    """Delete a term entered by mistake (audited with what it said)."""
    _ensure_admin(actor)
    term = session.get(OfficeTerm, term_id)
    if term is None:
        raise NotFound(Text("Không có nhiệm kỳ này."))
    session.delete(term)
    session.flush()
    _audit(session, actor, "office_term_removed", Text("Xóa nhiệm kỳ thủ trưởng {name} ({unit})",
                                                       name=term.person_name, unit=term.unit_code),
           {"unit_code": term.unit_code, "person_name": term.person_name, "valid_from": term.valid_from,
            "valid_to": term.valid_to, "document": term.document})
    return term


@runtime.atomic
def import_terms(session: Session, actor: User | None, text: str) -> int:
    """Import `unit_code,person_name,username,valid_from,valid_to,document` rows: all or nothing, bad lines named."""
    _ensure_admin(actor)
    users = {u.username: u for u in session.scalars(select(User))}
    pending: list[OfficeTerm] = []
    errors: dict[str, str] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for number, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "unit_code":
            continue  # the header
        if len(row) != len(CSV_COLUMNS):
            errors[f"line {number}"] = f"expected {len(CSV_COLUMNS)} columns: {','.join(CSV_COLUMNS)}"
            continue
        code, name, username, start, end, document = (cell.strip() for cell in row)
        user = users.get(username) if username else None
        valid_from, valid_to = read_date(start), read_date(end) if end else None
        problems = _problems(session, code.upper(), name, user, valid_from, valid_to, document, pending)
        if username and user is None:
            problems["username"] = Text("Không có tài khoản này.")
        if end and valid_to is None:
            problems["valid_to"] = Text("Nhập ngày dạng dd/mm/yyyy.")
        if problems:
            errors[f"line {number}"] = "; ".join(f"{k}: {v}" for k, v in problems.items())
            continue
        assert valid_from is not None
        pending.append(_term(code.upper(), name, user, valid_from, valid_to, document, actor))
    if errors:
        raise InvalidInput(Text("Tệp nhiệm kỳ có dòng không hợp lệ; chưa nhập dòng nào."), errors)
    session.add_all(pending)
    session.flush()
    _audit(session, actor, "office_terms_imported", Text("Nhập {count} nhiệm kỳ thủ trưởng từ tệp", count=len(pending)),
           {"count": len(pending), "units": sorted({t.unit_code for t in pending})})
    return len(pending)
