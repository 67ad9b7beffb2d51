"""Who is evaluated for a unit and year (docs/RULES.md, Who is evaluated; A14, A15, A17): the person, not only the unit.

The subjects are the unit's head(s) and any deputy assigned in writing to answer for IT (Điều 2.3) during the year.
Holding the agency_head role is what the application knows of a head; it keeps no dates of office, so a head who left
during the year shows only while their login stays active (A15's six-month rule needs those dates: docs/RULES.md).
When a sanction is proposed and more than one person could bear it, Home Affairs picks the target(s):
SUBJECT_AMBIGUOUS. A district chair is an elected cán bộ, not a công chức: Khiển trách or Cảnh cáo for a district
needs the legal check of CANBO_NOT_CONGCHUC (A17).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Block, DeputyAssignment, Evaluation, Role, User, UserRole

FORMAL_SANCTIONS = {"reprimand", "warning"}  # the ND 34/2011 (now ND 112/2020, 172/2025) forms (A16)


def subjects_of_year(session: Session, year: int) -> dict[str, list[dict[str, Any]]]:
    """Per unit code: the persons evaluated in YEAR, heads first, each with name, username and role."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    found: dict[str, list[dict[str, Any]]] = {}
    heads = session.execute(
        select(User.unit_code, User.full_name, User.username).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.AGENCY_HEAD, User.is_active.is_(True), User.unit_code.is_not(None))
        .order_by(User.unit_code, User.full_name))
    for code, name, username in heads:
        found.setdefault(code, []).append({"name": name, "username": username, "role": "head"})
    deputies = session.execute(
        select(DeputyAssignment.unit_code, User.full_name, User.username, DeputyAssignment.document_number)
        .join(User, User.id == DeputyAssignment.deputy_id)
        .where(DeputyAssignment.valid_from <= last, DeputyAssignment.valid_to >= first)
        .order_by(DeputyAssignment.unit_code, User.full_name))
    for code, name, username, document in deputies:
        found.setdefault(code, []).append({"name": name, "username": username, "role": "deputy",
                                           "assignment": document})
    return found


def flag_subjects(evaluation: Evaluation, subjects: list[dict[str, Any]]) -> None:
    """Add SUBJECT_AMBIGUOUS and CANBO_NOT_CONGCHUC where they apply to EVALUATION's current sanction."""
    reasons = [r for r in evaluation.reasons or [] if r not in ("SUBJECT_AMBIGUOUS", "CANBO_NOT_CONGCHUC")]
    sanctioned = evaluation.sanction not in (None, "none")
    if sanctioned and len(subjects) > 1:
        reasons.append("SUBJECT_AMBIGUOUS")
    formal = evaluation.sanction in FORMAL_SANCTIONS or (
        evaluation.sanction == "manual_review" and (evaluation.proposed or {}).get("sanction_rule") in ("R5", "R7"))
    if evaluation.block == Block.DISTRICT and formal:
        reasons.append("CANBO_NOT_CONGCHUC")
    evaluation.reasons = reasons
