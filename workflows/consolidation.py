"""DIC's consolidation step (app:consolidation): ICT Index ranks per block and the appraisal per criterion.

What is typed per unit lives in that unit's draft (workflows/unit_drafts.py) until DIC submits; a submission may also
carry the units itself (the API, a CSV import). Each unit's entry comes from, in order: the submission, the unit's
draft, what a previous pass of consolidation stored (after a return, the year starts from where it was).

Submitting is refused while a unit has no rank or an incomplete appraisal, naming them: closing consolidation empty
sends every unit to NOT_RANKED with no way to enter ranks later. A block that is not ranked this year (no ICT Index
published) is stated by DIC, with a reason, in `not_ranked` (block → reason); its units then need no rank. The
same statement names a single unit that is not in the published index (unit code → reason).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from workflows.criteria import CRITERIA, STATUSES, violated_sections
from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.models import Block, Evaluation, Report
from workflows.results import evaluations_of_year
from workflows.step_context import StepContext
from workflows.unit_drafts import drafts_of

FLAGS = ("superior_requires_review", "lacks_responsibility", "special_achievement")
ENTRY_FIELDS = {"ict_rank", "ict_units", "appraisal", "slow_conclusions", *FLAGS}
CRITERIA_IDS = frozenset(c.id for c in CRITERIA)


def stored_entry(evaluation: Evaluation) -> dict[str, Any]:
    """What a previous pass of consolidation recorded for a unit, as an entry (the starting point after a return)."""
    return {"ict_rank": evaluation.ict_rank, "ict_units": evaluation.ict_units,
            "slow_conclusions": evaluation.slow_conclusions, "appraisal": dict(evaluation.appraisal or {}),
            **{flag: getattr(evaluation, flag) for flag in FLAGS}}


def self_assessments(session: Any, year: int) -> dict[str, dict[str, str]]:
    """Each unit's self-assessed status per criterion (what DIC's appraisal starts from)."""
    return {code: {cid: str(v.get("status")) for cid, v in (criteria or {}).items()
                   if isinstance(v, Mapping) and v.get("status") in STATUSES}
            for code, criteria in session.execute(select(Report.unit_code, Report.criteria).where(Report.year == year))}


def entries_of(session: Any, task_id: int, evaluations: Mapping[str, Evaluation],
               submitted: Mapping[str, Any]) -> dict[str, Any]:
    """Each unit's entry: the submission's, else its draft, else what is stored."""
    drafts = drafts_of(session, task_id)
    return {code: submitted[code] if code in submitted else drafts[code] if code in drafts else stored_entry(e)
            for code, e in evaluations.items()}


def missing(entries: Mapping[str, Mapping[str, Any]], evaluations: Mapping[str, Evaluation],
            self_assessed: Mapping[str, Mapping[str, str]], not_ranked: Mapping[str, Any]) -> tuple[list, list]:
    """The units still without a rank (in a block that is ranked) and those whose appraisal is incomplete."""
    no_rank, no_appraisal = [], []
    for code in sorted(entries):
        entry = entries[code] if isinstance(entries[code], Mapping) else {}
        if entry.get("ict_rank") in (None, "") and not {code, evaluations[code].block.value} & set(not_ranked):
            no_rank.append(code)
        appraisal = entry.get("appraisal") if isinstance(entry.get("appraisal"), Mapping) else {}
        merged = {**self_assessed.get(code, {}), **{k: v for k, v in appraisal.items() if v}}
        if not CRITERIA_IDS <= {cid for cid, status in merged.items() if status in STATUSES}:
            no_appraisal.append(code)
    return no_rank, no_appraisal


def _statement(payload: Mapping[str, Any], known: set[str], errors: dict[str, Any]) -> dict[str, str]:
    """DIC's statement that a block (or one unit, e.g. one not in the published index) is not ranked this year:
    block or unit code → reason, each reason required."""
    raw = payload.get("not_ranked") or {}
    if not isinstance(raw, Mapping):
        errors["not_ranked"] = Text("Khai báo khối không xếp hạng phải theo từng khối, kèm lý do.")
        return {}
    stated: dict[str, str] = {}
    for block, reason in raw.items():
        if block not in known:
            errors[f"not_ranked.{block}"] = Text("Không có khối hoặc đơn vị này trong kỳ đánh giá.")
        elif not isinstance(reason, str) or not reason.strip():
            errors[f"not_ranked.{block}"] = Text("Ghi rõ lý do khối này không được xếp hạng năm nay.")
        else:
            stated[block] = reason.strip()
    return stated


def consolidation(step: StepContext, payload: Mapping[str, Any]) -> dict[str, Any]:
    """DIC's ICT Index ranks per block and appraisal per criterion (authoritative over the self-assessment)."""
    session, year = step.ctx.session, step.instance.year
    evaluations = evaluations_of_year(session, year)
    self_assessed = self_assessments(session, year)
    units_in = payload.get("units", {})
    errors: dict[str, Any] = {}
    if not isinstance(units_in, Mapping):
        raise InvalidInput(Text("Chưa có số liệu tổng hợp."), {"units": Text("Cần số liệu cho từng đơn vị.")})
    for name in sorted(set(payload) - {"units", "not_ranked", "confirmed"}):
        errors[name] = Text("Trường này không có trong biểu mẫu của bước.")
    errors.update({f"units.{code}": Text("Đơn vị không thuộc kỳ đánh giá này.")
                   for code in units_in if code not in evaluations})
    entries = entries_of(session, step.task.id, evaluations, {k: v for k, v in units_in.items() if k in evaluations})
    for code, entry in entries.items():
        if not isinstance(entry, Mapping):
            errors[f"units.{code}"] = Text("Dữ liệu không hợp lệ.")
        else:
            errors.update(check_entry(code, entry))
    not_ranked = _statement(payload, {b.value for b in Block} | set(evaluations), errors)
    if payload.get("confirmed") is False:
        errors["confirmed"] = Text("Đánh dấu xác nhận trước khi gửi.")
    if errors:
        raise InvalidInput(Text("Số liệu tổng hợp chưa hợp lệ."), errors)
    for code, entry in entries.items():
        if {code, evaluations[code].block.value} & set(not_ranked) and entry.get("ict_rank") is not None:
            errors[f"units.{code}.ict_rank"] = Text("Đơn vị (hoặc khối của đơn vị) đã được khai báo không xếp hạng "
                                                      "năm nay.")
    no_rank, no_appraisal = missing(entries, evaluations, self_assessed, not_ranked)
    errors.update({f"units.{code}.ict_rank": Text("Chưa có thứ hạng ICT Index.") for code in no_rank})
    errors.update({f"units.{code}.appraisal": Text("Chưa thẩm định đủ các tiêu chí.") for code in no_appraisal})
    if no_rank or no_appraisal:
        raise InvalidInput(Text(
            "Chưa thể gửi tổng hợp. Chưa có thứ hạng: {ranks}. Chưa thẩm định đủ: {appraisals}. Nếu một khối không "
            "được xếp hạng năm nay, hãy khai báo kèm lý do.",
            ranks=", ".join(no_rank) or "—", appraisals=", ".join(no_appraisal) or "—"), errors)
    if errors:
        raise InvalidInput(Text("Số liệu tổng hợp chưa hợp lệ."), errors)
    _record(entries, evaluations, self_assessed, errors)
    if errors:
        raise InvalidInput(Text("Số liệu tổng hợp chưa hợp lệ."), errors)
    return {"units_consolidated": len(entries), "blocks_not_ranked": not_ranked}


def _record(entries: Mapping[str, Mapping[str, Any]], evaluations: Mapping[str, Evaluation],
            self_assessed: Mapping[str, Mapping[str, str]], errors: dict[str, Any]) -> None:
    block_sizes: dict[str, int] = {}
    for code, entry in entries.items():
        if entry.get("ict_rank") is not None:
            block = evaluations[code].block.value
            block_sizes[block] = block_sizes.get(block, 0) + 1
    for code, entry in entries.items():
        evaluation = evaluations[code]
        rank = entry.get("ict_rank")
        evaluation.ict_rank = rank
        evaluation.ict_units = entry.get("ict_units") or (block_sizes.get(evaluation.block.value) if rank else None)
        if rank is not None and evaluation.ict_units is not None and rank > evaluation.ict_units:
            errors[f"units.{code}.ict_rank"] = Text("Thứ hạng vượt quá số đơn vị của khối ({units}).",
                                                      units=evaluation.ict_units)
        appraisal = {**self_assessed.get(code, {}), **{k: v for k, v in (entry.get("appraisal") or {}).items() if v}}
        evaluation.appraisal = appraisal
        evaluation.sections_violated = violated_sections(appraisal)
        evaluation.slow_conclusions = entry.get("slow_conclusions")
        for flag in FLAGS:
            setattr(evaluation, flag, bool(entry.get(flag, False)))


def check_entry(code: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The problems of one unit's entry, keyed `units.<code>.<field>` (empty when it is well-formed)."""
    errors: dict[str, Any] = {}
    for name in sorted(set(entry) - ENTRY_FIELDS):
        errors[f"units.{code}.{name}"] = Text("Trường này không có trong biểu mẫu của bước.")
    for name in ("ict_rank", "ict_units"):
        value = entry.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            errors[f"units.{code}.{name}"] = Text("Phải là số nguyên dương.")
    rank, units = entry.get("ict_rank"), entry.get("ict_units")
    if units is not None and rank is None:
        errors[f"units.{code}.ict_rank"] = Text("Có số đơn vị của khối thì phải có thứ hạng.")
    elif isinstance(rank, int) and isinstance(units, int) and rank > units and f"units.{code}.ict_rank" not in errors:
        errors[f"units.{code}.ict_rank"] = Text("Thứ hạng vượt quá số đơn vị của khối ({units}).", units=units)
    appraisal = entry.get("appraisal") or {}
    if not isinstance(appraisal, Mapping):
        errors[f"units.{code}.appraisal"] = Text("Thẩm định phải theo từng tiêu chí.")
    else:
        for cid, status in appraisal.items():
            if cid not in CRITERIA_IDS or (status and status not in STATUSES):
                errors[f"units.{code}.appraisal.{cid}"] = Text("Tiêu chí hoặc kết quả thẩm định không hợp lệ.")
    if entry.get("slow_conclusions") not in (None, True, False):
        errors[f"units.{code}.slow_conclusions"] = Text("Chọn Có, Không hoặc Chưa rõ.")
    for name in FLAGS:
        if entry.get(name) not in (None, True, False):
            errors[f"units.{code}.{name}"] = Text("Chọn Có hoặc Không.")
    return errors
