"""Who is evaluated for a unit and year (docs/RULES.md, Who is evaluated; A14, A15, A17): the person, not only the unit.

The subjects are the unit's head(s) and any deputy assigned in writing to answer for IT (Điều 2.3) during the year.
Heads come from their dates of office (workflows/office_terms.py, A15): the head in office on 31/12 plus any head with
at least `head_min_months` months in office during the year. A unit with no term during the year falls back to the
heads on record (active logins with the agency_head role) and says so (`basis: "no_office_terms"`): no date is invented.
More than one head subject: the unit is not settled automatically (SUBJECT_AMBIGUOUS) and Home Affairs chooses the
person(s) evaluated, with a reason, in its proposal. A sanction with a head and an assigned deputy is SUBJECT_AMBIGUOUS
too (A14, Home Affairs picks the sanction target; choosing is optional there). A district chair is an elected cán bộ,
not a công chức: Khiển trách or Cảnh cáo for a district needs the legal check of CANBO_NOT_CONGCHUC (A17).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.models import Block, DeputyAssignment, Evaluation, Role, SubjectChoice, User, UserRole, utcnow
from workflows.office_terms import heads_of_year
from workflows.settings import settings_of_year

FORMAL_SANCTIONS = {"reprimand", "warning"}  # the ND 34/2011 (now ND 112/2020, 172/2025) forms (A16)


def subjects_of_year(session: Session, year: int) -> dict[str, list[dict[str, Any]]]:
    """Per unit code: the persons who could be evaluated in YEAR, heads first (name, username, role, basis)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    found, with_terms = heads_of_year(session, year, settings_of_year(session, year).head_min_months)
    heads = session.execute(
        select(User.unit_code, User.full_name, User.username).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.AGENCY_HEAD, User.is_active.is_(True), User.unit_code.is_not(None))
        .order_by(User.unit_code, User.full_name))
    for code, name, username in heads:
        if code not in with_terms:
            found.setdefault(code, []).append({"name": name, "username": username, "role": "head",
                                               "basis": "no_office_terms"})
    deputies = session.execute(
        select(DeputyAssignment.unit_code, User.full_name, User.username, DeputyAssignment.document_number)
        .join(User, User.id == DeputyAssignment.deputy_id)
        .where(DeputyAssignment.valid_from <= last, DeputyAssignment.valid_to >= first)
        .order_by(DeputyAssignment.unit_code, User.full_name))
    for code, name, username, document in deputies:
        found.setdefault(code, []).append({"name": name, "username": username, "role": "deputy",
                                           "assignment": document, "basis": "deputy_assignment"})
    return found


def needs_choice(subjects: list[dict[str, Any]]) -> bool:
    """More than one head subject (A15): a person must choose who is evaluated."""
    return sum(s["role"] == "head" for s in subjects) > 1


def choices_of_year(session: Session, year: int) -> dict[str, SubjectChoice]:
    return {c.unit_code: c for c in session.scalars(select(SubjectChoice).where(SubjectChoice.year == year))}


def persons_evaluated(session: Session, year: int) -> dict[str, dict[str, Any]]:
    """Per unit: the candidates, who is evaluated (the choice, or the candidates when no choice is needed) and why."""
    subjects, choices = subjects_of_year(session, year), choices_of_year(session, year)
    named = dict(session.execute(select(User.id, User.username).where(
        User.id.in_({c.by_id for c in choices.values()}))).all()) if choices else {}
    found: dict[str, dict[str, Any]] = {}
    for code in set(subjects) | set(choices):
        candidates, choice = subjects.get(code, []), choices.get(code)
        evaluated = ([s for s in candidates if s["name"] in choice.subjects] if choice
                     else [] if needs_choice(candidates) else candidates)
        found[code] = {
            "subjects": candidates, "persons_evaluated": [s["name"] for s in evaluated],
            "subject_choice": {"subjects": list(choice.subjects), "reason": choice.reason,
                               "by": named.get(choice.by_id), "at": choice.at.isoformat()} if choice else None,
            "no_office_terms": any(s.get("basis") == "no_office_terms" for s in candidates),
            "needs_subject_choice": needs_choice(candidates) and choice is None,
        }
    return found


def flag_subjects(evaluation: Evaluation, subjects: list[dict[str, Any]]) -> None:
    """Add SUBJECT_AMBIGUOUS and CANBO_NOT_CONGCHUC where they apply to EVALUATION's current sanction."""
    reasons = [r for r in evaluation.reasons or [] if r not in ("SUBJECT_AMBIGUOUS", "CANBO_NOT_CONGCHUC")]
    sanctioned = evaluation.sanction not in (None, "none")
    if needs_choice(subjects) or (sanctioned and len(subjects) > 1):
        reasons.append("SUBJECT_AMBIGUOUS")
    formal = evaluation.sanction in FORMAL_SANCTIONS or (
        evaluation.sanction == "manual_review" and (evaluation.proposed or {}).get("sanction_rule") in ("R5", "R7"))
    if evaluation.block == Block.DISTRICT and formal:
        reasons.append("CANBO_NOT_CONGCHUC")
    evaluation.reasons = reasons


def choose_subjects(session: Session, year: int, items: Any, actor: User, units: set[str]) -> list[SubjectChoice]:
    """Record Home Affairs' choice of the person(s) evaluated per unit, each with a reason; bad items named by index.

    ITEMS: [{"unit_code", "subjects": [names among the candidates], "reason"}]. A unit chosen again is replaced.
    """
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        raise InvalidInput(Text("Danh sách chọn người được đánh giá không hợp lệ."),
                           {"subject_choices": Text("Phải là một danh sách.")})
    subjects = subjects_of_year(session, year)
    errors: dict[str, Text] = {}
    chosen: list[tuple[str, list[str], str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors[f"subject_choices[{index}]"] = Text("Phải là một đối tượng.")
            continue
        code = str(item.get("unit_code") or "").upper()
        names = item.get("subjects")
        reason = str(item.get("reason") or "").strip()
        candidates = [s["name"] for s in subjects.get(code, [])]
        key = f"subject_choices.{code}"  # named by unit: the page shows each unit's problem next to it
        if code not in units:
            errors[f"subject_choices[{index}].unit_code"] = Text("Đơn vị không có kết quả đánh giá năm này.")
        elif not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            errors[f"{key}.subjects"] = Text("Chọn ít nhất một người.")
        elif not set(names) <= set(candidates):
            errors[f"{key}.subjects"] = Text("Chỉ chọn trong số: {names}.", names=", ".join(candidates))
        elif not reason:
            errors[f"{key}.reason"] = Text("Phải ghi rõ lý do chọn người được đánh giá.")
        else:
            chosen.append((code, sorted(set(names), key=candidates.index), reason))
    if errors:
        raise InvalidInput(Text("Chưa ghi được người được đánh giá."), errors)
    recorded = []
    for code, names, reason in chosen:
        row = session.get(SubjectChoice, (year, code))
        if row is None:
            row = SubjectChoice(year=year, unit_code=code)
            session.add(row)
        row.subjects, row.reason, row.by_id, row.at = names, reason, actor.id, utcnow()
        recorded.append(row)
    session.flush()
    return recorded


def unchosen(session: Session, year: int, units: set[str]) -> list[str]:
    """The units of UNITS whose person(s) evaluated must be chosen before the year goes on: more than one head
    subject and no choice recorded, or a choice naming someone who is no longer a subject (the dates of office were
    corrected after it)."""
    subjects, choices = subjects_of_year(session, year), choices_of_year(session, year)
    missing = []
    for code in units:
        candidates, choice = subjects.get(code, []), choices.get(code)
        if (choice is None and needs_choice(candidates)) or (
                choice is not None and not set(choice.subjects) <= {s["name"] for s in candidates}):
            missing.append(code)
    return sorted(missing)


def _day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def person_label(subject: Mapping[str, Any]) -> Text:
    """One person evaluated as people read it: name, role and, from the dates of office, the term."""
    if subject["role"] == "deputy":
        return Text("{name} (cấp phó được phân công, {document})", name=subject["name"],
                    document=subject.get("assignment") or "")
    if subject.get("from"):
        if subject.get("to"):
            return Text("{name} (thủ trưởng, {start} – {end})", name=subject["name"], start=_day(subject["from"]),
                        end=_day(subject["to"]))
        return Text("{name} (thủ trưởng, từ {start})", name=subject["name"], start=_day(subject["from"]))
    return Text("{name} (thủ trưởng)", name=subject["name"])


def person_notes(row: Mapping[str, Any]) -> list[Text]:
    """What a reader must know about who is evaluated: a choice still due, the choice's reason, no dates of office."""
    notes = []
    if row.get("needs_subject_choice"):
        notes.append(Text("Có hơn một thủ trưởng trong năm: Sở Nội vụ chưa chọn người được đánh giá (A15)."))
    if row.get("subject_choice"):
        choice = row["subject_choice"]
        notes.append(Text("Sở Nội vụ chọn: {names}. Lý do: {reason}", names=", ".join(choice["subjects"]),
                          reason=choice["reason"]))
    if row.get("no_office_terms"):
        notes.append(Text("Chưa có ngày giữ chức vụ: người được đánh giá là thủ trưởng đang có tài khoản."))
    return notes


def persons_shown(row: Mapping[str, Any]) -> list[Text]:
    """The persons evaluated (the candidates while a choice is still due), as person_label reads them."""
    names = set(row.get("persons_evaluated") or [])
    shown = [s for s in row.get("subjects") or [] if s["name"] in names] or list(row.get("subjects") or [])
    return [person_label(s) for s in shown]
