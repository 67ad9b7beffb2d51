"""A year's documents and results spreadsheet as downloads, and the administrator's template replacement.

Pages elsewhere show these through two template globals (registered with the blueprint): `documents_of(year)`, the
links the viewer may follow, and `explanation_of(year, unit_code)`, the unit's sentence in the page's language.
"""
from __future__ import annotations

import io

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.extensions import db
from webapp.security import requires
from workflows import cycles, documents, evidence, explanations, permissions, results_export
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import Cycle, DocumentTemplate
from workflows.vocabulary import DOCUMENT_TITLES

bp = Blueprint("documents", __name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global()
def documents_of(year: int) -> list[tuple[str, str]]:
    """(title, URL) of each document of YEAR the viewer may download now; empty for anyone else."""
    if not current_user.is_authenticated:
        return []
    try:
        found = documents.available(db.session, year, current_user)
    except NotFound:  # no evaluation cycle that year (an uploaded process's task or instance): no documents
        return []
    links = []
    for ref in found:
        if ref.unit_code:
            url = url_for("documents.unit_notice", year=year, unit_code=ref.unit_code)
        else:
            url = url_for("documents.download", year=year, kind=ref.kind)
        links.append((ref.title, url))
    return links


@bp.app_template_global()
def explanation_of(year: int, unit_code: str) -> str:
    """The unit's sentence in the page's language (computed once per request and year)."""
    cache = g.setdefault("explanations", {})
    if year not in cache:
        cache[year] = explanations.of_year(db.session, year)
    text = cache[year].get(unit_code)
    if text is None:
        return ""
    return text.en if str(get_locale()) == "en" else text.vi


@bp.app_template_global()
def unit_explanation(year: int, unit_code: str) -> str:
    """The unit's sentence for a unit's page, to those who may see its result now (else empty)."""
    if not current_user.is_authenticated or not documents.result_visible(db.session, year, current_user, unit_code):
        return ""
    return explanation_of(year, unit_code)


@bp.get("/cycles/<int:year>/documents")
@login_required
def index(year: int):
    """The year's documents the viewer may download, and the results spreadsheet for central roles."""
    cycles.get_cycle(db.session, year)
    links = documents_of(year)
    may_export = permissions.may_see_results(current_user)
    return render_template("documents/index.html", year=year, links=links, may_export=may_export)


def _send(filename: str, data: bytes, mimetype: str):
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


@bp.get("/cycles/<int:year>/documents/<kind>.docx")
@login_required
def download(year: int, kind: str):
    return _send(*documents.build(db.session, year, kind, current_user), DOCX)


@bp.get("/cycles/<int:year>/documents/unit_notice/<unit_code>.docx")
@login_required
def unit_notice(year: int, unit_code: str):
    return _send(*documents.build(db.session, year, "unit_notice", current_user, unit_code.upper()), DOCX)


@bp.get("/cycles/<int:year>/results.xlsx")
@login_required
def results_xlsx(year: int):
    if not permissions.may_see_results(current_user):
        raise NotAllowed(Text("Bạn không có quyền xem kết quả đánh giá."))
    cycles.get_cycle(db.session, year)
    return _send(f"ket-qua-{year}.xlsx", results_export.results_xlsx(db.session, year), XLSX)


@bp.route("/admin/document-templates", methods=["GET", "POST"])
@requires(permissions.may_replace_document_templates)
def templates():
    """Replace one template with an uploaded .docx (checked by rendering it with the latest year), or restore it."""
    status = 200
    error = None
    if request.method == "POST":
        kind = request.form.get("kind", "")
        try:
            if request.form.get("action") == "reset":
                documents.reset_template(db.session, kind, current_user)
                db.session.commit()
                flash(_("Đã khôi phục mẫu mặc định."))
                return redirect(url_for("documents.templates"), code=303)
            year = db.session.scalar(select(Cycle.year).order_by(Cycle.year.desc()).limit(1))
            if year is None:
                raise InvalidInput(Text("Chưa có kỳ đánh giá nào để kiểm tra mẫu."), {})
            upload = request.files.get("template")
            content = upload.read(documents.MAX_TEMPLATE_BYTES + 1) if upload else b""
            documents.replace_template(db.session, kind, upload.filename if upload else "", content, current_user,
                                       year)
            db.session.commit()
            flash(_("Đã thay mẫu văn bản."))
            return redirect(url_for("documents.templates"), code=303)
        except InvalidInput as problem:
            db.session.rollback()
            error, status = problem.message, 422
    stored = {t.kind: t for t in db.session.scalars(select(DocumentTemplate))}
    kinds = [(kind, DOCUMENT_TITLES[kind], stored.get(kind)) for kind in documents.KINDS]
    return render_template("documents/templates.html", kinds=kinds, error=error), status


@bp.get("/admin/document-templates/<kind>.docx")
@requires(permissions.may_replace_document_templates)
def template_file(kind: str):
    """The template in use, to edit in Word and upload again."""
    if kind not in documents.KINDS:
        raise NotFound(Text("Không có văn bản này."))
    return _send(f"mau-{kind}.docx", documents.template_bytes(db.session, kind), DOCX)


# --- evidence files on every page that shows a report (the head's approval, DIC's review, the instance page) --------


@bp.app_template_global()
def evidence_links(instance_id: int | None) -> dict[str, list[tuple[str, str]]]:
    """Per criterion, (file name, download URL) of the report's evidence, if the viewer may see that report.

    The download route checks the same permission (permissions.may_read_report) again, so a link never grants anything.
    """
    if instance_id is None or not current_user.is_authenticated:
        return {}
    return {criterion: [(f.filename, url_for("tasks.evidence", evidence_id=f.id)) for f in files]
            for criterion, files in evidence.files_of_instance(db.session, current_user, instance_id).items()}
