"""Drafts per unit on the province-wide tasks (consolidation, evaluation): what was typed for one unit, kept as typed.

A person works through 28 (or 280) units one at a time; each unit's entries are saved on their own row
(`unit_draft`), unvalidated, the moment they are made. Saving one unit writes that unit's row only: it neither
rewrites the other units' drafts nor touches the task row (no lock_version bump, no claim), so it never collides with
the task's completion or a claim. Submitting the task validates everything at once (workflows/consolidation.py,
steps.evaluation) from these drafts.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import dialects, permissions, runtime
from workflows.errors import InvalidInput, NotFound
from workflows.messages import Text
from workflows.models import HumanTask, UnitDraft
from workflows.results import evaluations_of_year

PROVINCE_WIDE_FORMS = {"app:consolidation", "app:evaluation"}


def drafts_of(session: Session, task_id: int) -> dict[str, dict[str, Any]]:
    """Every unit's draft of TASK_ID, by unit code."""
    rows = session.execute(select(UnitDraft.unit_code, UnitDraft.data).where(UnitDraft.task_id == task_id))
    return {code: dict(data or {}) for code, data in rows}


def _checked_task(ctx: runtime.Context, task_id: int) -> HumanTask:
    # A draft is the beginning of an action on the task: the checks of completing it (permissions.authority_to_work),
    # and the task must be a province-wide one.
    task = ctx.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(Text("Không tìm thấy công việc #{id}.", id=task_id))
    assert ctx.actor is not None
    permissions.authority_to_work(ctx.session, ctx.actor, task, ctx.today, drafting=True)
    if task.form_key not in PROVINCE_WIDE_FORMS:
        raise InvalidInput(Text("Bước này không lưu nháp theo từng đơn vị."), {})
    return task


@runtime.atomic
def save_unit_drafts(session: Session, task_id: int, actor: Any, entries: Mapping[str, Mapping[str, Any]],
                     merge: bool = False, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Keep ENTRIES (unit code → what was typed for it) as the drafts of those units only; MERGE adds to a draft.

    Unknown units are refused (the page only offers the year's units); values are not validated here: submitting
    the task does that, and the page shows each unit's problems from its draft.
    """
    ctx = runtime.Context.create(session, actor, now)
    task = _checked_task(ctx, task_id)
    known = evaluations_of_year(session, task.year)
    unknown = sorted(set(entries) - set(known))
    if unknown:
        raise InvalidInput(Text("Đơn vị không thuộc kỳ đánh giá này: {codes}.", codes=", ".join(unknown)),
                           {f"units.{code}": Text("Đơn vị không thuộc kỳ đánh giá này.") for code in unknown})
    existing = dict(session.execute(select(UnitDraft.unit_code, UnitDraft.data).where(
        UnitDraft.task_id == task_id, UnitDraft.unit_code.in_(list(entries)))).all())
    saved: dict[str, dict[str, Any]] = {}
    for code, entry in entries.items():
        data = {**(existing.get(code) or {} if merge else {}), **dict(entry)}
        # One statement per unit: two people saving the same unit at once both succeed, the later one's entry stays.
        statement = dialects.insert(session, UnitDraft).values(
            task_id=task_id, unit_code=code, data=data, saved_at=ctx.now, saved_by_id=actor.id)
        session.execute(statement.on_conflict_do_update(
            index_elements=["task_id", "unit_code"],
            set_={"data": statement.excluded.data, "saved_at": statement.excluded.saved_at,
                  "saved_by_id": statement.excluded.saved_by_id}))
        saved[code] = data
    runtime.commit(ctx)
    return saved
