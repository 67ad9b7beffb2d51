"""Purpose-built task pages, keyed by camunda:formKey: what each page needs to show, and how its form is read.

The form keys themselves are registered once, in workflows/steps.py (HANDLERS, which the upload validation reads too);
a page is found through its step's handler. It is a template `tasks/forms/<name>.html` (name = the form key after
"app:") plus, here, a context function (extra values for the template) and a parse function (request form and files →
the step's structured payload, which the step handler validates). A form key without a step handler falls back to
the generic camunda:formData form.

Each context gives the template `page_model(draft, errors)`: everything the page shows, ready to display, built from
the draft (what was typed: a saved draft or a refused submission) or else from the stored data. Parse functions never
refuse anything themselves: the step handler validates, so a refused submission comes back with every value kept.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, flash, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.routing import BuildError

from webapp import format_datetime
from webapp.i18n import localize
from webapp.terms import unit_name
from workflows import evidence as evidence_files
from workflows import steps, subjects
from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, SECTION_TITLES, STATUSES, violated_sections
from workflows.errors import InvalidInput
from workflows.models import Block, Evaluation, HumanTask, InstanceStatus, ProcessInstance, Report, User
from workflows.results import OVERRIDABLE, evaluations_of_year, parse_rank_csv
from workflows.units import DIC_CODE, units_of_year
from workflows.vocabulary import BLOCK_LABELS, OUTCOME_FIELDS, REASON_LABELS


@dataclass(frozen=True)
class Page:
    template: str
    context: Callable[[Any, HumanTask, User], dict[str, Any]]
    parse: Callable[[Any, HumanTask, User, MultiDict, Mapping[str, FileStorage]], dict[str, Any]]


# step handler -> (context, parse); filled at the end of this module and by province.py.
PAGE_FUNCTIONS: dict[Callable[..., Any], tuple[Callable[..., Any], Callable[..., Any]]] = {}


def page_for(form_key: str | None) -> Page | None:
    """The purpose-built page of FORM_KEY, or None for a key without a step handler (the generic form)."""
    functions = PAGE_FUNCTIONS.get(steps.HANDLERS.get(form_key or ""))  # type: ignore[arg-type]
    if functions is None or form_key is None:
        return None
    return Page(f"tasks/forms/{form_key.removeprefix(steps.FORM_KEY_PREFIX)}.html", *functions)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _files(files: Mapping[str, FileStorage], name: str) -> list[FileStorage]:
    found = files.getlist(name) if isinstance(files, MultiDict) else [files[name]] if name in files else []
    return [f for f in found if f and f.filename]


# --- the officer's report ------------------------------------------------------------------------------------------

@dataclass
class FileLink:
    id: int
    filename: str
    size: str
    url: str


@dataclass
class CriterionRow:
    id: str
    article: str
    title: str
    status: str
    note: str
    evidence_text: str
    files: list[FileLink]
    error: str | None
    refused: list[str]


@dataclass
class SectionBlock:
    number: int
    title: str
    fail_count: int
    criteria: list[CriterionRow]


@dataclass
class ReportForm:
    sections: list[SectionBlock]
    budget: list[tuple[str, str, str, str | None]]  # (category, label, value as typed, error)
    budget_error: str | None
    criteria_error: str | None
    from_previous: bool
    statuses: list[tuple[str, str]] = field(default_factory=lambda: list(STATUSES.items()))
    allowed: str = evidence_files.ALLOWED_TEXT
    accept: str = ",".join(f".{e}" for e in evidence_files.CONTENT_TYPES)
    max_mb: int = evidence_files.MAX_BYTES // (1024 * 1024)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",") if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _vnd_text(value: Any) -> str:
    """An amount as Vietnamese write it (1.000.000); anything else exactly as typed."""
    return f"{value:,}".replace(",", ".") if isinstance(value, int) and not isinstance(value, bool) else _text(value)


_VND = re.compile(r"^\d{1,3}([.,\s\u00a0]\d{3})+$|^\d+$")


def _vnd_value(raw: str) -> int | str:
    text = raw.strip().removesuffix("đ").removesuffix("VND").strip()
    return int(re.sub(r"[.,\s\u00a0]", "", text)) if _VND.match(text) else raw


def _evidence_url(evidence_id: int) -> str:
    try:
        return url_for("tasks.evidence", evidence_id=evidence_id)
    except BuildError:  # the download route is added in views.py; until then, the same path by hand
        return f"{url_for('tasks.inbox')}evidence/{evidence_id}"


def _report_context(session: Any, task: HumanTask, user: User) -> dict[str, Any]:
    report = evidence_files.report_of_task(session, task)
    files = evidence_files.files_of_report(session, report.id) if report else {}

    def page_model(draft: Any, errors: Mapping[str, str]) -> ReportForm:
        source, from_previous = _mapping(draft), False
        if "criteria" not in source and report is not None and report.criteria:
            source, from_previous = {"criteria": report.criteria, "budget": report.budget}, True
        entries, refused = _mapping(source.get("criteria")), _mapping(source.get("evidence_rejected"))
        sections = []
        for number, title in SECTION_TITLES.items():
            rows = []
            for c in (c for c in CRITERIA if c.section == number):
                entry = _mapping(entries.get(c.id))
                evidence = entry.get("evidence") if isinstance(entry.get("evidence"), list) else []
                rows.append(CriterionRow(
                    c.id, c.article, c.title_vi, _text(entry.get("status")), _text(entry.get("note")),
                    "\n".join(str(e) for e in evidence),
                    [FileLink(f.id, f.filename, _size(f.size), _evidence_url(f.id)) for f in files.get(c.id, [])],
                    errors.get(f"criteria.{c.id}"), list(refused.get(c.id) or [])))
            sections.append(SectionBlock(number, title, sum(r.status == "fail" for r in rows), rows))
        budget_in = _mapping(source.get("budget"))
        budget = [(key, label, _vnd_text(budget_in.get(key)), errors.get(f"budget.{key}"))
                  for key, label in BUDGET_CATEGORIES.items()]
        return ReportForm(sections, budget, errors.get("budget"), errors.get("criteria"), from_previous)

    return {"page_model": page_model}


def _parse_report(session: Any, task: HumanTask, user: User, form: MultiDict,
                  files: Mapping[str, FileStorage]) -> dict[str, Any]:
    criteria = {
        c.id: {
            "status": form.get(f"status-{c.id}") or None,
            "note": form.get(f"note-{c.id}", ""),
            "evidence": [line.strip() for line in form.get(f"evidence-{c.id}", "").splitlines() if line.strip()],
        }
        for c in CRITERIA
    }
    budget = {key: _vnd_value(form.get(f"budget-{key}", "")) for key in BUDGET_CATEGORIES
              if form.get(f"budget-{key}", "").strip()}
    payload: dict[str, Any] = {"criteria": criteria, "budget": budget}
    uploads = [
        evidence_files.Upload(c.id, f.filename or "", f.mimetype or "application/octet-stream",
                              f.read(evidence_files.MAX_BYTES + 1))  # no more than one byte past the limit
        for c in CRITERIA for f in _files(files, f"files-{c.id}")
    ]
    if uploads:
        stored, refused = evidence_files.attach(session, task.id, user, uploads, current_app.config["UPLOAD_DIR"])
        if stored:
            flash(ngettext("Đã lưu %(num)s tệp minh chứng.", "Đã lưu %(num)s tệp minh chứng.", len(stored)))
        if refused:
            # Not a field of the step: the step refuses the submission, and the page shows why next to each file.
            payload["evidence_rejected"] = refused
    return payload


# --- DIC's consolidation -------------------------------------------------------------------------------------------

def _block_label(block: Block) -> str:
    return localize(BLOCK_LABELS[block.value])


SLOW_VALUES = {"yes": True, "no": False, "": None}
FLAGS = ("superior_requires_review", "lacks_responsibility", "special_achievement")


@dataclass
class AppraisalCell:
    id: str
    title: str
    value: str
    self_value: str
    self_label: str
    error: str | None


@dataclass
class ConsolidationRow:
    code: str
    name: str
    report_status: str
    late: bool
    self_sections: str
    rank: str
    units: str
    slow: str
    flags: dict[str, bool]
    appraisal: list[AppraisalCell]
    appraisal_sections: str
    changed: int
    errors: dict[str, str]

    @property
    def appraisal_open(self) -> bool:
        return self.changed > 0 or any(key.startswith("appraisal") for key in self.errors)


def _sections_text(sections: list[int]) -> str:
    return _("Mục %(list)s", list=", ".join(str(s) for s in sections)) if sections else _("Không vi phạm")


def _self_assessments(session: Any, year: int) -> dict[str, tuple[Report, InstanceStatus]]:
    rows = session.execute(select(Report, ProcessInstance.status)
                           .join(ProcessInstance, Report.instance_id == ProcessInstance.id).where(Report.year == year))
    return {report.unit_code: (report, status) for report, status in rows}


def _statuses_of(report: Report | None) -> dict[str, str]:
    return {cid: str(v.get("status")) for cid, v in (report.criteria if report else {}).items()
            if isinstance(v, Mapping) and v.get("status") in STATUSES}


def _report_status(report: Report | None, status: InstanceStatus | None) -> str:
    if report is None:
        return _("Không có báo cáo")
    if status == InstanceStatus.COMPLETED:
        when = _(" (gửi lúc %(at)s)", at=format_datetime(report.submitted_at)) if report.submitted_at else ""
        return _("Đã tiếp nhận") + when
    if status == InstanceStatus.CANCELLED:
        return _("Đã hủy")
    return _("Chưa được tiếp nhận")


def _consolidation_row(e: Evaluation, names: Mapping[str, str], reports: Mapping[str, Any],
                       units_in: Mapping[str, Any], errors: Mapping[str, str]) -> ConsolidationRow:
    code = e.unit_code
    report, status = reports.get(code, (None, None))
    self_statuses = _statuses_of(report)
    if code in units_in:
        entry = _mapping(units_in[code])
        appraisal = {**self_statuses, **_mapping(entry.get("appraisal"))}
    else:
        entry = {"ict_rank": e.ict_rank, "ict_units": e.ict_units, "slow_conclusions": e.slow_conclusions,
                 **{flag: getattr(e, flag) for flag in FLAGS}}
        appraisal = dict(e.appraisal or self_statuses)
    cells = [AppraisalCell(c.id, f"{c.id} – {c.title_vi}", _text(appraisal.get(c.id)), self_statuses.get(c.id, ""),
                           STATUSES.get(self_statuses.get(c.id, ""), _("chưa tự đánh giá")),
                           errors.get(f"units.{code}.appraisal.{c.id}")) for c in CRITERIA]
    slow = "yes" if entry.get("slow_conclusions") is True else "no" if entry.get("slow_conclusions") is False else ""
    prefix = f"units.{code}."
    row_errors = {key[len(prefix):]: message for key, message in errors.items() if key.startswith(prefix)}
    if f"units.{code}" in errors:
        row_errors["unit"] = errors[f"units.{code}"]
    return ConsolidationRow(
        code, names.get(code, code), _report_status(report, status), e.late_report,
        _sections_text(violated_sections(self_statuses)) if report and report.criteria else _("Không có số liệu"),
        _text(entry.get("ict_rank")), _text(entry.get("ict_units")), slow,
        {flag: entry.get(flag) is True for flag in FLAGS}, cells,
        _appraisal_text(cells),
        sum(1 for c in cells if c.value != c.self_value), row_errors)


def _appraisal_text(cells: list[AppraisalCell]) -> str:
    text = _sections_text(violated_sections({c.id: c.value for c in cells}))
    missing = sum(1 for c in cells if not c.value)
    return text + (ngettext(" · %(num)s tiêu chí chưa thẩm định",
                                     " · %(num)s tiêu chí chưa thẩm định", missing) if missing else "")


def _whole(raw: str) -> int | str | None:
    text = raw.strip()
    if not text:
        return None
    return int(text) if re.fullmatch(r"-?\d+", text) else text  # a non-number goes on for the step to name


_CSV_MESSAGES = [
    (re.compile(r"^expected code,rank"), lambda m: _("cần dạng mã đơn vị,thứ hạng[,số đơn vị] bằng số nguyên")),
    (re.compile(r"^rank (\d+) is outside 1\.\.(.+)$"),
     lambda m: _("thứ hạng %(rank)s nằm ngoài khoảng 1–%(units)s", rank=m[1], units=m[2])),
    (re.compile(r"^unit (\S+) appears twice$"), lambda m: _("đơn vị %(code)s xuất hiện hai lần", code=m[1])),
]


def _csv_error(key: str, message: str) -> tuple[str, str]:
    line = _("Dòng %(n)s", n=key.split()[-1]) if key.startswith("line ") else key
    for pattern, vietnamese in _CSV_MESSAGES:
        found = pattern.match(message)
        if found:
            return line, vietnamese(found)
    return line, message


def _csv_text(form: MultiDict, files: Mapping[str, FileStorage]) -> tuple[str, str | None]:
    for upload in _files(files, "ranks_file"):
        try:
            return upload.read(1024 * 1024).decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", _("Tệp CSV phải được lưu với bảng mã UTF-8.")
    return form.get("ranks_csv", ""), None


def _parse_consolidation(session: Any, task: HumanTask, user: User, form: MultiDict,
                         files: Mapping[str, FileStorage]) -> dict[str, Any]:
    evaluations = evaluations_of_year(session, task.year)
    reports = _self_assessments(session, task.year)
    units: dict[str, dict[str, Any]] = {}
    for code in sorted(evaluations):
        self_statuses = _statuses_of(reports.get(code, (None, None))[0])
        # Only DIC's differences from the self-assessment: the step merges them over it, and the audit shows them.
        appraisal = {c.id: form.get(f"ap-{code}-{c.id}") for c in CRITERIA
                     if form.get(f"ap-{code}-{c.id}") and form.get(f"ap-{code}-{c.id}") != self_statuses.get(c.id)}
        units[code] = {
            "ict_rank": _whole(form.get(f"rank-{code}", "")),
            "ict_units": _whole(form.get(f"units-{code}", "")),
            "slow_conclusions": SLOW_VALUES.get(form.get(f"slow-{code}", ""), form.get(f"slow-{code}")),
            **{flag: form.get(f"{flag}-{code}") in ("1", "on", "true") for flag in FLAGS},
            "appraisal": appraisal,
        }
    payload: dict[str, Any] = {"units": units}
    text, problem = _csv_text(form, files)
    csv_errors: dict[str, str] = {_("Tệp"): problem} if problem else {}
    if text.strip() and not problem:
        try:
            ranks = parse_rank_csv(text)
        except InvalidInput as error:
            csv_errors = dict(_csv_error(key, message) for key, message in error.fields.items())
        else:
            csv_errors = {_("Mã %(code)s", code=code): _("không thuộc kỳ đánh giá năm %(year)s", year=task.year)
                          for code in sorted(set(ranks) - set(units))}
            if not csv_errors:
                for code, (rank, size) in ranks.items():
                    units[code].update(ict_rank=rank, ict_units=size)
                flash(ngettext("Đã nhập thứ hạng ICT Index của %(num)s đơn vị từ CSV.",
                               "Đã nhập thứ hạng ICT Index của %(num)s đơn vị từ CSV.", len(ranks)))
    if csv_errors:
        # Not a field of the step: the step refuses the submission and the page shows the text with each bad line.
        payload["ranks_csv"] = {"text": text, "errors": csv_errors}
    return payload


# --- outcomes: DIC's evaluation, the four-eyes review, Home Affairs' proposal, the Committee's decision -------------


def _field_label(name: str) -> str:
    return localize(OUTCOME_FIELDS[name][0]) if name in OUTCOME_FIELDS else name


def _stage_label(stage: str) -> str:
    return {"evaluate": _("Sở TT&TT đánh giá"), "dic_self_review": _("Thẩm định kết quả của Sở TT&TT"),
            "home_affairs": _("Sở Nội vụ đề xuất"), "committee": _("UBND tỉnh quyết định")}.get(stage, stage)


@dataclass
class Choice:
    field: str
    label: str
    current: str
    proposed: str
    options: list[tuple[str, str]]
    chosen: str
    required: bool
    error: str | None


@dataclass
class OutcomeRow:
    code: str
    name: str
    block: str
    rank: str
    sections: str
    late: bool
    reasons: list[tuple[str, str]]
    articles: list[str]
    rule: str | None
    history: list[str]
    needs_review: bool
    choices: list[Choice]
    reason: str
    reason_error: str | None
    unit_error: str | None

    @property
    def open(self) -> bool:
        return self.needs_review or bool(self.reason or self.reason_error or self.unit_error
                                         or any(c.chosen or c.error for c in self.choices))


@dataclass
class OutcomeForm:
    rows: list[OutcomeRow]
    review_count: int
    changing: bool
    dic_code: str = DIC_CODE


def _reward_pending(e: Evaluation) -> bool:
    return (e.rating == "excellent" and "RATING_PENDING_REVIEW" in (e.reasons or []) and e.reward == "none"
            and not any(o.field == "reward" for o in e.overrides))


def _label(field_name: str, value: str | None) -> str:
    return OUTCOME_FIELDS[field_name][1].get(value or "", value or "—")


def _outcome_row(e: Evaluation, name: str, typed: list[tuple[int, Mapping[str, Any]]],
                 errors: Mapping[str, str]) -> OutcomeRow:
    proposed = e.proposed or {}
    chosen: dict[str, str] = {}
    choice_errors: dict[str, str] = {}
    reason, reason_error, unit_error = "", None, errors.get(f"units.{e.unit_code}")
    for index, item in typed:
        reason = _text(item.get("reason"))
        item_field = _text(item.get("field"))
        chosen[item_field] = _text(item.get("value"))
        reason_error = reason_error or errors.get(f"overrides[{index}].reason")
        unit_error = unit_error or errors.get(f"overrides[{index}].unit_code")
        problem = errors.get(f"overrides[{index}].value") or errors.get(f"overrides[{index}].field")
        if problem:
            choice_errors[item_field] = (_("Chọn giá trị mới.") if not chosen[item_field] else problem)
    if errors.get(f"units.{e.unit_code}.reward"):
        choice_errors["reward"] = errors[f"units.{e.unit_code}.reward"]
    choices = [
        Choice(f, _field_label(f), _label(f, getattr(e, f)), _label(f, proposed.get(f)),
               [(v, OUTCOME_FIELDS[f][1][v]) for v in values if v != "manual_review"], chosen.get(f, ""),
               getattr(e, f) == "manual_review" or (f == "reward" and _reward_pending(e)), choice_errors.get(f))
        for f, values in OVERRIDABLE.items()
    ]
    history = [
        _("%(stage)s: %(field)s %(old)s → %(new)s. Lý do: %(reason)s (%(by)s, %(at)s)",
          stage=_stage_label(o.stage), field=_field_label(o.field), old=_label(o.field, o.old_value),
          new=_label(o.field, o.new_value), reason=o.reason, by=o.by.full_name if o.by else "",
          at=format_datetime(o.at))
        for o in e.overrides
    ]
    reasons = list(e.reasons or proposed.get("reasons") or [])
    return OutcomeRow(
        e.unit_code, name, _block_label(e.block),
        f"{e.ict_rank}/{e.ict_units}" if e.ict_rank else _("Không xếp hạng"),
        _sections_text(list(e.sections_violated or [])), e.late_report,
        [(code, REASON_LABELS.get(code, code)) for code in reasons], list(e.articles or proposed.get("articles") or []),
        proposed.get("sanction_rule"), history,
        "manual_review" in (e.rating, e.sanction) or _reward_pending(e), choices, reason, reason_error, unit_error)


def _outcomes_context(only: set[str] | None = None) -> Callable[[Any, HumanTask, User], dict[str, Any]]:
    def context(session: Any, task: HumanTask, user: User) -> dict[str, Any]:
        evaluations = evaluations_of_year(session, task.year)
        names = {u.code: unit_name(u.name_vi) for u in units_of_year(session, task.year)}  # in the page's language

        def page_model(draft: Any, errors: Mapping[str, str]) -> OutcomeForm:
            overrides = _mapping(draft).get("overrides")
            typed: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
            for index, item in enumerate(overrides if isinstance(overrides, list) else []):
                if isinstance(item, Mapping):
                    typed.setdefault(_text(item.get("unit_code")).upper(), []).append((index, item))
            rows = [_outcome_row(e, names.get(code, code), typed.get(code, []), errors)
                    for code, e in evaluations.items() if only is None or code in only]
            rows.sort(key=lambda r: (not r.needs_review, r.block, r.code))
            return OutcomeForm(rows, sum(r.needs_review for r in rows), bool(typed))

        return {"page_model": page_model}

    return context


def _typed_overrides(form: MultiDict, codes: list[str]) -> list[dict[str, Any]]:
    """One override per value chosen; a unit whose selects are all left on 'keep' contributes nothing."""
    return [
        {"unit_code": code, "field": f, "value": form.get(f"ov-{code}-{f}"),
         "reason": form.get(f"ov-{code}-reason", "")}
        for code in codes for f in OVERRIDABLE if form.get(f"ov-{code}-{f}")
    ]


def _parse_outcomes(session: Any, task: HumanTask, user: User, form: MultiDict,
                    files: Mapping[str, FileStorage]) -> dict[str, Any]:
    return {"overrides": _typed_overrides(form, sorted(evaluations_of_year(session, task.year)))}


def _parse_dic_self_review(session: Any, task: HumanTask, user: User, form: MultiDict,
                           files: Mapping[str, FileStorage]) -> dict[str, Any]:
    overrides = _typed_overrides(form, [DIC_CODE])
    if overrides or form.get("dic_review") != "change":
        return {"overrides": overrides}  # a value chosen is a change (never silently dropped), whatever the radio says
    # 'Change' with nothing chosen must not pass as a confirmation: an empty value makes the step ask for one.
    return {"overrides": [{"unit_code": DIC_CODE, "field": "rating", "value": "",
                           "reason": form.get(f"ov-{DIC_CODE}-reason", "")}]}


def _home_affairs_context() -> Callable[[Any, HumanTask, User], dict[str, Any]]:
    outcomes = _outcomes_context()

    def context(session: Any, task: HumanTask, user: User) -> dict[str, Any]:
        # The units where more than one person could be evaluated (A14, A15): Home Affairs chooses, with a reason.
        names = {u.code: u.name_vi for u in units_of_year(session, task.year)}
        persons = subjects.persons_evaluated(session, task.year)
        units = sorted(evaluations_of_year(session, task.year))
        rows = [(code, names.get(code, code), persons[code]) for code in units
                if code in persons and len(persons[code]["subjects"]) > 1]
        return {**outcomes(session, task, user), "subject_rows": rows}

    return context


def _parse_home_affairs(session: Any, task: HumanTask, user: User, form: MultiDict,
                        files: Mapping[str, FileStorage]) -> dict[str, Any]:
    payload = _parse_outcomes(session, task, user, form, files)
    codes = sorted(evaluations_of_year(session, task.year))
    choices = [{"unit_code": code, "subjects": form.getlist(f"sc-{code}"), "reason": form.get(f"sc-{code}-reason", "")}
               for code in codes if form.getlist(f"sc-{code}") or form.get(f"sc-{code}-reason", "").strip()]
    return {**payload, "subject_choices": choices} if choices else payload


# DIC's consolidation and evaluation pages are in province.py (a table of units, a draft per unit); it registers them.
PAGE_FUNCTIONS.update({
    steps.agency_report: (_report_context, _parse_report),
    steps.dic_self_review: (_outcomes_context({DIC_CODE}), _parse_dic_self_review),
    steps.home_affairs_proposal: (_home_affairs_context(), _parse_home_affairs),
    steps.committee_decision: (_outcomes_context(), _parse_outcomes),
})
