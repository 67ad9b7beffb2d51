"""The documents a year produces, as DOCX from templates an office can edit in Word (docxtpl).

- `dic_report`: DIC's consolidated report to the People's Committee (Điều 18.2, 19), ICT ranks per block;
- `ha_proposal`: Home Affairs' proposal (tờ trình) of rewards and sanctions (Điều 18.3);
- `decision`: the Committee's decision as a draft for signature, with its list of rewards and sanctions;
- `unit_notice`: one page per unit, its result and explanation.

Each becomes available once its stage is done (`available`); who may read it is `permissions.may_read_document`,
which the web pages and the API both ask. An administrator may replace a template (`replace_template`): the
upload must be a DOCX that renders with real data before it is stored.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import explanations, permissions
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import Cycle, CycleStatus, DocumentTemplate, Evaluation, HumanTask, TaskState, User
from workflows.subjects import person_notes, persons_evaluated, persons_shown
from workflows.units import units_of_year
from workflows.vocabulary import BLOCK_LABELS, DOCUMENT_TITLES, NO, RATING_LABELS, REWARD_LABELS, SANCTION_LABELS

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("dic_report", "ha_proposal", "decision", "unit_notice")
FILE_STEM = {"dic_report": "bao-cao-tong-hop", "ha_proposal": "to-trinh", "decision": "du-thao-quyet-dinh",
             "unit_notice": "thong-bao"}
MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
# The central steps of the year in order: a stage is done when its step was completed and neither it nor an earlier
# one is open again (Home Affairs returning to DIC reopens 'evaluate', so DIC's report is withdrawn until redone).
_STEPS = ("consolidate", "evaluate", "review_dic_self_evaluation", "home_affairs_proposal", "committee_decision")
_STAGE_STEP = {"dic_report": "evaluate", "ha_proposal": "home_affairs_proposal"}


@dataclass(frozen=True)
class DocumentRef:
    kind: str
    title: Text
    unit_code: str | None
    filename: str


def _stage_done(session: Session, year: int, kind: str) -> bool:
    if kind in ("decision", "unit_notice"):
        cycle = session.scalar(select(Cycle).where(Cycle.year == year))
        return cycle is not None and cycle.status == CycleStatus.DECIDED
    step = _STAGE_STEP[kind]
    states = session.execute(select(HumanTask.step_id, HumanTask.state).where(
        HumanTask.year == year, HumanTask.unit_code.is_(None), HumanTask.step_id.in_(_STEPS))).all()
    done = any(s == step and state == TaskState.COMPLETED for s, state in states)
    reopened = any(state == TaskState.OPEN and _STEPS.index(s) <= _STEPS.index(step) for s, state in states)
    return done and not reopened


def result_visible(session: Session, year: int, viewer: User, unit_code: str) -> bool:
    """Central roles see a unit's result as it is proposed; the unit's own people once the Committee decided."""
    if permissions.may_see_results(viewer):
        return True
    return permissions.may_read_document(viewer, "unit_notice", unit_code) and _stage_done(session, year, "unit_notice")


def available(session: Session, year: int, viewer: User) -> list[DocumentRef]:
    """The documents of YEAR whose stage is done and that VIEWER may read, in the order the year produces them."""
    _cycle(session, year)
    refs = []
    for kind in KINDS:
        if not _stage_done(session, year, kind):
            continue
        if kind != "unit_notice":
            if permissions.may_read_document(viewer, kind):
                refs.append(DocumentRef(kind, DOCUMENT_TITLES[kind], None, f"{FILE_STEM[kind]}-{year}.docx"))
            continue
        codes = session.scalars(select(Evaluation.unit_code).where(
            Evaluation.year == year, Evaluation.imported.is_(False)).order_by(Evaluation.unit_code))
        names = {unit.code: unit.name_vi for unit in units_of_year(session, year)}  # one query, not one a unit
        refs += [DocumentRef(kind, Text("Thông báo kết quả cho {unit}", unit=names.get(code, code)), code,
                             f"{FILE_STEM[kind]}-{year}-{code}.docx")
                 for code in codes if permissions.may_read_document(viewer, kind, code)]
    return refs


def _cycle(session: Session, year: int) -> Cycle:
    cycle = session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        raise NotFound(Text("Chưa mở kỳ đánh giá năm {year}.", year=year))
    return cycle


def build(session: Session, year: int, kind: str, viewer: User, unit_code: str | None = None) -> tuple[str, bytes]:
    """(file name, DOCX bytes) of one document, after checking VIEWER may read it and its stage is done."""
    if kind not in KINDS or (kind == "unit_notice") != (unit_code is not None):
        raise NotFound(Text("Không có văn bản này."))
    _cycle(session, year)
    if not permissions.may_read_document(viewer, kind, unit_code):
        raise NotAllowed(Text("Bạn không có quyền tải văn bản này."))
    if not _stage_done(session, year, kind):
        raise NotFound(Text("Văn bản chưa có: bước xử lý tương ứng chưa hoàn thành."))
    context = document_context(session, year)
    if unit_code is not None:
        unit = next((r for r in context["rows"] if r["unit_code"] == unit_code), None)
        if unit is None:
            raise NotFound(Text("Đơn vị không có kết quả đánh giá năm này."))
        context["unit"] = unit
    suffix = f"-{unit_code}" if unit_code else ""
    return f"{FILE_STEM[kind]}-{year}{suffix}.docx", render(template_bytes(session, kind), context)


def render(template: bytes, context: dict[str, Any]) -> bytes:
    document = DocxTemplate(io.BytesIO(template))
    # Sandboxed: a template is uploaded data, so its tags may read the context but never reach Python internals.
    document.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def template_bytes(session: Session, kind: str) -> bytes:
    """The administrator's replacement if there is one, else the template shipped with the code."""
    stored = session.get(DocumentTemplate, kind)
    return stored.content if stored is not None else (TEMPLATES / f"{kind}.docx").read_bytes()


def _vn_date(day: date) -> str:
    # Nghị định 30/2020: days below 10 and months below 3 take a leading zero.
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"Bắc Ninh, ngày {day.day:02d} tháng {month} năm {day.year}"


def document_context(session: Session, year: int, today: date | None = None) -> dict[str, Any]:
    """Everything the templates may use: the year's rows (outcome, explanation), per block, rewards, sanctions."""
    cycle = _cycle(session, year)
    # Set-based: the names and the sentences of every unit in a few queries, not one query (or three) per unit.
    units = units_of_year(session, year)
    names = {unit.code: unit.name_vi for unit in units}
    evaluations = explanations.year_rows(session, year)
    sentences = explanations.of_rows(evaluations, units)
    persons = persons_evaluated(session, year)
    rows = [{**_row(e, names.get(e.unit_code, e.unit_code), sentences[e.unit_code].vi),
             "persons": _persons(persons.get(e.unit_code))} for e in evaluations]
    rows.sort(key=lambda r: (r["block_code"], r["rank_sort"], r["unit_name"]))
    blocks = []
    for code in ("department", "district"):
        members = [r for r in rows if r["block_code"] == code]
        if members:
            blocks.append({"name": BLOCK_LABELS[code], "rows": _numbered(members)})
    rewards = _numbered(r for r in rows if r["reward_code"] in ("eligible", "ad_hoc_eligible"))
    sanctions = _numbered(r for r in rows if r["sanction_code"] not in ("none", None))
    day = cycle.decision_date or today or date.today()
    number = cycle.decision_number or "        /QĐ-UBND"
    tally = {label: sum(1 for r in rows if r["rating"] == label) for label in dict.fromkeys(r["rating"] for r in rows)}
    return {
        "year": year, "place_date": _vn_date(day), "decision_number": number,
        "decision_ref": (f"Quyết định số {cycle.decision_number} ngày {cycle.decision_date:%d/%m/%Y} của UBND tỉnh"
                         if cycle.decision_number and cycle.decision_date else "quyết định của UBND tỉnh"),
        "unit_count": len(rows), "rows": _numbered(rows), "blocks": blocks,
        "rewards": rewards, "sanctions": sanctions, "reward_count": len(rewards), "sanction_count": len(sanctions),
        "summary": "; ".join(f"{label}: {n}" for label, n in tally.items()) + ".",
    }


def _numbered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "no": n} for n, r in enumerate(rows, start=1)]


def _persons(found: dict[str, Any] | None) -> str:
    """The persons evaluated as a notice names them (A15), with the choice's or the fallback's note."""
    if not found:
        return "—"
    return "; ".join([*persons_shown(found), *person_notes(found)])


def _row(e: Evaluation, name: str, explanation: str) -> dict[str, Any]:
    outcome = []
    if e.reward in ("eligible", "ad_hoc_eligible"):
        outcome.append(REWARD_LABELS[e.reward])
    if e.sanction and e.sanction != "none":
        outcome.append(SANCTION_LABELS[e.sanction])
    return {
        "unit_code": e.unit_code, "unit_name": name,
        "block_code": e.block.value, "block": BLOCK_LABELS[e.block.value],
        "rank": f"{e.ict_rank}/{e.ict_units}" if e.ict_rank else "—", "rank_sort": e.ict_rank or 10**6,
        "sections": ", ".join(f"Mục {s}" for s in e.sections_violated) or "Không",
        "rating": RATING_LABELS.get(e.rating or "", "—"), "sanction": SANCTION_LABELS.get(e.sanction or "", "—"),
        "reward": REWARD_LABELS.get(e.reward or "", "—"), "outcome": "; ".join(outcome) or NO,
        "sanction_code": e.sanction, "reward_code": e.reward,
        "explanation": explanation,
    }


def replace_template(session: Session, kind: str, filename: str, content: bytes, actor: User, year: int) -> None:
    """Store an administrator's template for KIND once it is a real DOCX that renders with YEAR's data."""
    if not permissions.may_replace_document_templates(actor):
        raise NotAllowed(Text("Chỉ quản trị hệ thống được thay mẫu văn bản."))
    if kind not in KINDS:
        raise NotFound(Text("Không có văn bản này."))
    problem = _template_problem(content)
    if problem is None:
        context = document_context(session, year)
        if context["rows"]:
            context["unit"] = context["rows"][0]
        try:
            render(content, context)
        except (TemplateError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            problem = Text("Mẫu không dựng được với dữ liệu năm {year}: {error}", year=year, error=str(error)[:200])
    if problem is not None:
        raise InvalidInput(problem, {"template": problem})
    stored = session.get(DocumentTemplate, kind)
    if stored is None:
        session.add(DocumentTemplate(kind=kind, content=content, filename=filename[:200], uploaded_by_id=actor.id))
    else:
        stored.content, stored.filename, stored.uploaded_by_id = content, filename[:200], actor.id
    session.flush()


def _template_problem(content: bytes) -> Text | None:
    if not content:
        return Text("Chưa chọn tệp mẫu.")
    if len(content) > MAX_TEMPLATE_BYTES:
        return Text("Tệp mẫu quá lớn (tối đa 2 MB).")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                return Text("Tệp không phải văn bản Word (.docx).")
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_TEMPLATE_BYTES:
                return Text("Tệp mẫu quá lớn (tối đa 2 MB).")
    except zipfile.BadZipFile:
        return Text("Tệp không phải văn bản Word (.docx).")
    return None


def reset_template(session: Session, kind: str, actor: User) -> None:
    if not permissions.may_replace_document_templates(actor):
        raise NotAllowed(Text("Chỉ quản trị hệ thống được thay mẫu văn bản."))
    stored = session.get(DocumentTemplate, kind)
    if stored is not None:
        session.delete(stored)
        session.flush()
