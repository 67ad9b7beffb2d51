"""The province-wide task pages, DIC's consolidation and DIC's evaluation, built as a person works through them.

One dense table of the units (a row each: rank, violations, outcome, where my work on it stands), sorted and filtered
by the query string; a row opens in place (a `<details>`) onto that unit's own small form, which saves the unit's
draft (workflows/unit_drafts.py) and comes back to the table; progress counts on top; and a final section that lists
what is still missing and asks for confirmation before submitting. Only the opened unit's form is in the page, so the
page stays small at 280 units; with JavaScript (static/js/province-pages.js) a row's form is fetched in place and saved
without leaving the page. Every action works without it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage, MultiDict

from webapp.extensions import db
from webapp.i18n import localize
from webapp.tasks import pages
from webapp.tasks.views import _render_task, bp
from webapp.terms import term, unit_name
from workflows import consolidation, steps, tasks, unit_drafts
from workflows.calendar import local_today
from workflows.criteria import CRITERIA, STATUSES, violated_sections
from workflows.errors import InvalidInput
from workflows.models import Block, Evaluation, HumanTask, Override, User
from workflows.results import OVERRIDABLE, evaluations_of_year, parse_rank_csv
from workflows.units import units_of_year
from workflows.vocabulary import REASON_LABELS

FILTERS = ("all", "todo", "saved", "problems")
SORTS = ("code", "name", "rank", "status")


def _query() -> tuple[str, str, str]:
    """The table's filter, block and sort from the query string (anything unknown: the default)."""
    args = request.args
    chosen = args.get("f", "all")
    sort = args.get("sort", "code")
    block = args.get("block", "")
    return (chosen if chosen in FILTERS else "all", sort if sort in SORTS else "code",
            block if block in {b.value for b in Block} else "")


def _prefixes(task_id: int, query: tuple[str, str, str]) -> tuple[str, str]:
    """The URLs a row links to, but for the unit code at their end: built once, not once per row (280 rows)."""
    chosen, sort, block = query
    keep = {k: v for k, v, default in (("f", chosen, "all"), ("sort", sort, "code"), ("block", block, ""))
            if v != default}
    table = url_for("tasks.show", task_id=task_id, **keep)
    return (table + ("&" if keep else "?") + "open=",
            url_for("tasks.unit_form", task_id=task_id, code="X")[:-1])


@dataclass(frozen=True)
class RowWords:
    """The words every row of the table repeats, translated once per page rather than twice per row (280 rows);
    the templates fill in the unit with Jinja's `format`."""

    summary: str
    open_form: str
    extra: str = ""  # the consolidation's late-report reason, the evaluation's manual-review tag


def _open_code(chosen: str | None) -> str:
    """The unit whose row is open: the fragment route names it, the table has it in its query string."""
    return (chosen or request.args.get("open", "")).upper()


# --- consolidation -------------------------------------------------------------------------------------------------

@dataclass
class UnitLine:
    """One row of the consolidation table."""

    code: str
    name: str
    block: str
    block_label: str
    report_status: str
    late: bool
    rank: str
    rank_value: int | None
    violations: str
    saved: bool
    missing: list[str]
    problems: list[str]

    @property
    def status(self) -> str:
        if self.problems:
            return _("Có lỗi")
        if self.missing:
            return _("Còn thiếu: %(what)s", what=", ".join(self.missing))
        return _("Đã lưu nháp") if self.saved else _("Đủ (theo số liệu đã có)")

    @property
    def status_key(self) -> str:
        return "problems" if self.problems else "todo" if self.missing else "saved" if self.saved else "done"


@dataclass
class Progress:
    total: int
    ranked: int
    appraised: int
    saved: int


@dataclass
class ConsolidationPage:
    lines: list[UnitLine]
    shown: list[UnitLine]
    progress: Progress
    open_code: str
    detail: Any  # pages.ConsolidationRow of the opened unit, or None
    not_ranked: dict[str, str]
    not_ranked_errors: dict[str, str]
    blocks: list[tuple[str, str]]
    missing_ranks: list[UnitLine]
    missing_appraisals: list[UnitLine]
    confirmed: bool
    confirm_error: str | None
    query: tuple[str, str, str]
    csv_text: str
    csv_errors: list[str]
    statuses: list[tuple[str, str]] = field(default_factory=lambda: list(STATUSES.items()))
    filters: list[tuple[str, str]] = field(default_factory=list)
    open_prefix: str = ""
    fragment_prefix: str = ""
    words: RowWords | None = None

    def next_after(self, code: str) -> str | None:
        """The next unit of the table as shown, to go on to after saving CODE."""
        codes = [u.code for u in self.shown]
        return codes[codes.index(code) + 1] if code in codes and codes.index(code) + 1 < len(codes) else None


def _rank_text(entry: Mapping[str, Any]) -> tuple[str, int | None]:
    rank, units = entry.get("ict_rank"), entry.get("ict_units")
    if rank in (None, ""):
        return "—", None
    if not isinstance(rank, int):
        return str(rank), None
    return (f"{rank}/{units}" if units else str(rank)), rank


def _sort_lines(lines: list[UnitLine], sort: str) -> list[UnitLine]:
    keys = {
        "code": lambda u: u.code,
        "name": lambda u: u.name,
        "rank": lambda u: (u.block, u.rank_value is None, u.rank_value or 0, u.code),
        "status": lambda u: ({"problems": 0, "todo": 1, "saved": 2, "done": 3}[u.status_key], u.code),
    }
    return sorted(lines, key=keys[sort])


def _filter_lines(lines: list[UnitLine], chosen: str, block: str) -> list[UnitLine]:
    shown = [u for u in lines if not block or u.block == block]
    if chosen == "todo":
        return [u for u in shown if u.missing or u.problems]
    if chosen == "saved":
        return [u for u in shown if u.saved]
    if chosen == "problems":
        return [u for u in shown if u.problems]
    return shown


def _consolidation_context(session: Any, task: HumanTask, user: User) -> dict[str, Any]:
    evaluations = evaluations_of_year(session, task.year)
    names = {u.code: unit_name(u.name_vi) for u in units_of_year(session, task.year)}  # in the page's language
    reports = pages._self_assessments(session, task.year)
    self_assessed = {code: pages._statuses_of(report) for code, (report, _status) in reports.items()}
    drafts = unit_drafts.drafts_of(session, task.id)

    def page_model(draft: Any, errors: Mapping[str, Any], open_code: str | None = None) -> ConsolidationPage:
        submitted = pages._mapping(draft)
        typed_units = pages._mapping(submitted.get("units"))
        entries = consolidation.entries_of(session, task.id, evaluations, typed_units) if typed_units else {
            code: drafts[code] if code in drafts else consolidation.stored_entry(e) for code, e in evaluations.items()}
        not_ranked = {k: pages._text(v) for k, v in pages._mapping(submitted.get("not_ranked")).items()}
        stated = {k for k, v in not_ranked.items() if v.strip()}
        no_rank, no_appraisal = consolidation.missing(entries, evaluations, self_assessed, stated)
        by_unit: dict[str, dict[str, Any]] = {}  # a refused submission's errors, grouped once (not per row)
        for key, message in errors.items():
            if key.startswith("units."):
                by_unit.setdefault(key.split(".")[1], {})[key] = message
        lines = []
        for code, e in evaluations.items():
            entry = pages._mapping(entries[code])
            report, status = reports.get(code, (None, None))
            appraisal = {**self_assessed.get(code, {}),
                         **{k: v for k, v in pages._mapping(entry.get("appraisal")).items() if v}}
            rank, rank_value = _rank_text(entry)
            missing_keys = ({f"units.{code}.ict_rank"} if code in no_rank else set()) | (
                {f"units.{code}.appraisal"} if code in no_appraisal else set())
            found = {**consolidation.check_entry(code, entry), **by_unit.get(code, {})}
            problems = list(dict.fromkeys(localize(m) for k, m in found.items() if k not in missing_keys))
            lines.append(UnitLine(
                code, names.get(code, code), e.block.value, pages._block_label(e.block),
                pages._report_status(report, status), e.late_report, rank, rank_value,
                pages._sections_text(violated_sections(appraisal)), code in drafts,
                ([_("thứ hạng")] if code in no_rank else []) + ([_("thẩm định")] if code in no_appraisal else []),
                problems))
        chosen, sort, block = _query()
        prefixes = _prefixes(task.id, (chosen, sort, block))
        shown = _sort_lines(_filter_lines(lines, chosen, block), sort)
        open_code = _open_code(open_code)
        detail = None
        if open_code in evaluations:
            # The opened unit's form shows its draft's own problems too, next to their fields.
            found = {**consolidation.check_entry(open_code, pages._mapping(entries[open_code])), **errors}
            detail = pages._consolidation_row(evaluations[open_code], names, reports,
                                              {open_code: entries[open_code]}, found)
        by_code = {u.code: u for u in lines}
        csv = pages._mapping(submitted.get("ranks_csv"))
        return ConsolidationPage(
            lines, shown,
            Progress(len(lines), sum(1 for u in lines if u.rank_value is not None),
                     len(lines) - len(no_appraisal), sum(1 for u in lines if u.saved)),
            open_code, detail, not_ranked,
            {k.split(".", 1)[1]: localize(m) for k, m in errors.items() if k.startswith("not_ranked.")},
            [(b.value, pages._block_label(b)) for b in Block],
            [by_code[c] for c in no_rank], [by_code[c] for c in no_appraisal],
            submitted.get("confirmed") is True, localize(errors["confirmed"]) if "confirmed" in errors else None,
            (chosen, sort, block), pages._text(csv.get("text")),
            [f"{key}: {message}" for key, message in pages._mapping(csv.get("errors")).items()],
            filters=[("all", _("Tất cả")), ("todo", _("Còn thiếu")), ("saved", _("Đã lưu nháp")),
                     ("problems", _("Có lỗi"))], open_prefix=prefixes[0], fragment_prefix=prefixes[1],
            words=RowWords(_("Nhập, sửa số liệu của %(unit)s"), _("Mở biểu mẫu của %(unit)s"),
                           term(REASON_LABELS["LATE_REPORT"])))

    return {"page_model": page_model, "own_forms": True}


def _unit_entry(session: Any, task: HumanTask, code: str, form: MultiDict) -> dict[str, Any]:
    """One unit's form (the row's detail) → its entry; values are kept as typed, the step validates them."""
    report = pages._self_assessments(session, task.year).get(code, (None, None))[0]
    self_statuses = pages._statuses_of(report)
    return {
        "ict_rank": pages._whole(form.get(f"rank-{code}", "")),
        "ict_units": pages._whole(form.get(f"units-{code}", "")),
        "slow_conclusions": pages.SLOW_VALUES.get(form.get(f"slow-{code}", ""), form.get(f"slow-{code}")),
        **{flag: form.get(f"{flag}-{code}") in ("1", "on", "true") for flag in pages.FLAGS},
        # Only DIC's differences from the self-assessment: the step merges them over it, and the audit shows them.
        "appraisal": {c.id: form.get(f"ap-{code}-{c.id}") for c in CRITERIA
                      if form.get(f"ap-{code}-{c.id}") and form.get(f"ap-{code}-{c.id}") != self_statuses.get(c.id)},
    }


def _parse_consolidation(session: Any, task: HumanTask, user: User, form: MultiDict,
                         files: Mapping[str, FileStorage]) -> dict[str, Any]:
    """The final submission: the blocks stated not ranked (with reasons) and the confirmation.

    A form carrying the whole table (the former page, still used by scripts) is read as before.
    """
    payload: dict[str, Any] = {}
    if any(key.startswith("rank-") for key in form):
        payload = pages._parse_consolidation(session, task, user, form, files)
    not_ranked = {b.value: form.get(f"not_ranked_reason-{b.value}", "") for b in Block
                  if form.get(f"not_ranked-{b.value}")}
    if not_ranked:
        payload["not_ranked"] = not_ranked
    if form.get("final"):
        payload["confirmed"] = form.get("confirmed") == "1"
    return payload


# --- evaluation ------------------------------------------------------------------------------------------------------

@dataclass
class OutcomeLine:
    row: Any  # pages.OutcomeRow
    saved: bool
    settled: bool

    @property
    def status_key(self) -> str:
        if self.row.reason_error or self.row.unit_error or any(c.error for c in self.row.choices):
            return "problems"
        if self.row.needs_review and not self.settled:
            return "todo"
        return "saved" if self.saved else "done"

    @property
    def status(self) -> str:
        key = self.status_key  # one word translated per row, not four (280 rows)
        if key == "problems":
            return _("Có lỗi")
        if key == "todo":
            return _("Cần quyết định")
        return _("Đã điều chỉnh (nháp)") if key == "saved" else _("Giữ nguyên đề xuất")


@dataclass
class EvaluationPage:
    lines: list[OutcomeLine]
    shown: list[OutcomeLine]
    open_code: str
    review_count: int
    unsettled: list[OutcomeLine]
    changed: int
    confirmed: bool
    confirm_error: str | None
    query: tuple[str, str, str]
    blocks: list[tuple[str, str]]
    filters: list[tuple[str, str]]
    open_prefix: str = ""
    fragment_prefix: str = ""
    words: RowWords | None = None

    def next_after(self, code: str) -> str | None:
        codes = [line.row.code for line in self.shown]
        return codes[codes.index(code) + 1] if code in codes and codes.index(code) + 1 < len(codes) else None

    @property
    def detail(self) -> Any:
        return next((line.row for line in self.lines if line.row.code == self.open_code), None)


def _evaluation_context(session: Any, task: HumanTask, user: User) -> dict[str, Any]:
    # Every row shows its overrides and who made them: loaded in two queries, not two per unit (280 units).
    evaluations = {e.unit_code: e for e in session.scalars(
        select(Evaluation).where(Evaluation.year == task.year, Evaluation.imported.is_(False))
        .options(selectinload(Evaluation.overrides).joinedload(Override.by)))}
    names = {u.code: unit_name(u.name_vi) for u in units_of_year(session, task.year)}  # in the page's language
    drafts = unit_drafts.drafts_of(session, task.id)
    # The overrides the step builds from the drafts, in its order: a refused submission's errors name them by index.
    typed_list = steps.draft_overrides(drafts, set())

    def page_model(draft: Any, errors: Mapping[str, Any], open_code: str | None = None) -> EvaluationPage:
        typed: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
        for index, item in enumerate(typed_list):
            typed.setdefault(item["unit_code"], []).append((index, item))
        lines = []
        for code, e in evaluations.items():
            row = pages._outcome_row(e, names.get(code, code), typed.get(code, []), errors)
            chosen = {c.field for c in row.choices if c.chosen}
            settled = all(c.field in chosen for c in row.choices if c.required) and bool(row.reason.strip())
            lines.append(OutcomeLine(row, code in drafts and bool(chosen), settled))
        chosen_filter, sort, block = _query()
        shown = [line for line in lines if (not block or evaluations[line.row.code].block.value == block)
                 and (chosen_filter == "all" or line.status_key == chosen_filter
                      or (chosen_filter == "todo" and line.status_key == "problems"))]
        order = {"problems": 0, "todo": 1, "saved": 2, "done": 3}
        keys = {"code": lambda li: li.row.code, "name": lambda li: li.row.name,
                "rank": lambda li: (li.row.block, evaluations[li.row.code].ict_rank is None,
                                    evaluations[li.row.code].ict_rank or 0, li.row.code),
                "status": lambda li: (order[li.status_key], li.row.code)}
        shown.sort(key=keys[sort])
        submitted = pages._mapping(draft)
        return EvaluationPage(
            lines, shown, _open_code(open_code), sum(1 for li in lines if li.row.needs_review),
            [li for li in lines if li.row.needs_review and not li.settled],
            sum(1 for li in lines if li.saved), submitted.get("confirmed") is True,
            localize(errors["confirmed"]) if "confirmed" in errors else None, (chosen_filter, sort, block),
            [(b.value, pages._block_label(b)) for b in Block],
            [("all", _("Tất cả")), ("todo", _("Cần quyết định")), ("saved", _("Đã điều chỉnh")),
             ("problems", _("Có lỗi"))], *_prefixes(task.id, (chosen_filter, sort, block)),
            RowWords(_("Xem căn cứ, điều chỉnh kết quả của %(unit)s"), _("Mở biểu mẫu của %(unit)s"),
                     _("Cần xem xét thủ công")))

    return {"page_model": page_model, "own_forms": True}


def _outcome_entry(session: Any, task: HumanTask, code: str, form: MultiDict) -> dict[str, Any]:
    return {"values": {f: form.get(f"ov-{code}-{f}") for f in OVERRIDABLE if form.get(f"ov-{code}-{f}")},
            "reason": form.get(f"ov-{code}-reason", "")}


def _parse_evaluation(session: Any, task: HumanTask, user: User, form: MultiDict,
                      files: Mapping[str, FileStorage]) -> dict[str, Any]:
    """The final submission: the confirmation (the overrides are the units' drafts); a whole-page form as before."""
    payload: dict[str, Any] = {}
    if any(key.startswith("ov-") for key in form):
        payload = pages._parse_outcomes(session, task, user, form, files)
    if form.get("final"):
        payload["confirmed"] = form.get("confirmed") == "1"
    return payload


# --- the routes a row's form and the CSV import post to ------------------------------------------------------------

UNIT_ENTRIES = {"app:consolidation": _unit_entry, "app:evaluation": _outcome_entry}
UNIT_TEMPLATES = {"app:consolidation": "tasks/forms/_consolidation_unit.html",
                  "app:evaluation": "tasks/forms/_evaluation_unit.html"}


def _province_task(task_id: int) -> tuple[tasks.TaskPage, Any]:
    view = tasks.task_page(db.session, task_id, current_user, local_today())
    if view.task.form_key not in UNIT_ENTRIES:
        abort(404)
    return view, pages.page_for(view.task.form_key)


def _back(task_id: int, **args: Any) -> str:
    keep = {k: request.form.get(k) for k in ("f", "sort", "block") if request.form.get(k)}
    return url_for("tasks.show", task_id=task_id, **keep, **args)


@bp.get("/<int:task_id>/units/<code>")
@login_required
def unit_form(task_id: int, code: str):
    """One unit's form, alone: what a row opens in place (fetched by the page's script)."""
    view, page = _province_task(task_id)
    if not view.may_act:
        abort(403)
    m = page.context(db.session, view.task, current_user)["page_model"](None, {}, code.upper())
    return render_template(UNIT_TEMPLATES[view.task.form_key], m=m, view=view, errors={})


@bp.post("/<int:task_id>/units/<code>")
@login_required
def save_unit(task_id: int, code: str):
    """Save what was typed for one unit (its draft) and come back to the table, at the next unit if asked."""
    code = code.upper()
    view, _page = _province_task(task_id)
    entry = UNIT_ENTRIES[view.task.form_key](db.session, view.task, code, request.form)
    unit_drafts.save_unit_drafts(db.session, task_id, current_user, {code: entry})
    message = _("Đã lưu nháp của %(unit)s.", unit=code)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(saved=code, message=message)
    flash(message)
    following = request.form.get("next", "").upper()
    if following:
        return redirect(_back(task_id, open=following) + f"#u-{following}", code=303)
    return redirect(_back(task_id) + f"#u-{code}", code=303)


@bp.post("/<int:task_id>/ranks")
@login_required
def import_ranks(task_id: int):
    """ICT Index ranks from CSV into the units' drafts (added to what was typed); a bad line imports nothing."""
    view, _page = _province_task(task_id)
    text, problem = pages._csv_text(request.form, request.files)
    errors: dict[str, str] = {_("Tệp"): problem} if problem else {}
    ranks: dict[str, tuple[int, int | None]] = {}
    if text.strip() and not problem:
        try:
            ranks = parse_rank_csv(text)
        except InvalidInput as error:
            errors = dict(pages._csv_error(key, message) for key, message in error.fields.items())
        else:
            known = evaluations_of_year(db.session, view.task.year)
            errors = {_("Mã %(code)s", code=code): _("không thuộc kỳ đánh giá năm %(year)s", year=view.task.year)
                      for code in sorted(set(ranks) - set(known))}
    if errors or not ranks:
        return _render_task(task_id, submitted={"ranks_csv": {"text": text, "errors": errors}},
                            message=_("Tệp xếp hạng có dòng không hợp lệ; chưa nhập thứ hạng nào.") if errors
                            else _("Chưa có nội dung CSV."), status=422)
    unit_drafts.save_unit_drafts(db.session, task_id, current_user,
                                 {code: {"ict_rank": rank, "ict_units": size} for code, (rank, size) in ranks.items()},
                                 merge=True)
    flash(ngettext("Đã nhập thứ hạng ICT Index của %(num)s đơn vị từ CSV.",
                   "Đã nhập thứ hạng ICT Index của %(num)s đơn vị từ CSV.", len(ranks)))
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


pages.PAGE_FUNCTIONS.update({
    steps.consolidation: (_consolidation_context, _parse_consolidation),
    steps.evaluation: (_evaluation_context, _parse_evaluation),
})
