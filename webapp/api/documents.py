"""A year's documents (DOCX) and its results spreadsheet (XLSX), each at a stable URL."""
from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file, url_for

from webapp.api.base import caller, make_blueprint, require
from webapp.api.schemas import DocumentSchema
from webapp.extensions import db
from workflows import cycles, documents, permissions, results_export

bp = make_blueprint("documents", "/cycles", "A year's documents and results spreadsheet")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _url(year: int, ref: documents.DocumentRef) -> str:
    if ref.unit_code:
        return url_for("api_documents.unit_notice", year=year, unit_code=ref.unit_code)
    return url_for("api_documents.get_document", year=year, kind=ref.kind)


@bp.get("/<int:year>/documents")
@bp.response(200, DocumentSchema(many=True))
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
def list_documents(year: int) -> list[dict[str, Any]]:
    """The documents of the year the caller may download: each office's once its stage is done."""
    return [{"kind": r.kind, "title": r.title, "unit_code": r.unit_code, "filename": r.filename, "url": _url(year, r)}
            for r in documents.available(db.session, year, caller())]


def _send(filename: str, data: bytes, mimetype: str) -> Response:
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


@bp.get("/<int:year>/documents/<kind>")
@bp.response(200, content_type=DOCX, description="The document as DOCX")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def get_document(year: int, kind: str) -> Response:
    """DIC's report (`dic_report`), Home Affairs' proposal (`ha_proposal`) or the draft decision (`decision`)."""
    return _send(*documents.build(db.session, year, kind, caller()), DOCX)


@bp.get("/<int:year>/documents/unit_notice/<unit_code>")
@bp.response(200, content_type=DOCX, description="The unit's notice as DOCX")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def unit_notice(year: int, unit_code: str) -> Response:
    """One unit's notice of its result and explanation (its head, deputy and officer, and central roles)."""
    return _send(*documents.build(db.session, year, "unit_notice", caller(), unit_code.upper()), DOCX)


@bp.get("/<int:year>/results.xlsx")
@bp.response(200, content_type=XLSX, description="The year's results as a spreadsheet")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def results_xlsx(year: int) -> Response:
    """Every unit: rank, class, violated sections, proposed and final outcome, overrides, explanation."""
    require(permissions.may_see_results, caller(), "Bạn không có quyền xem kết quả đánh giá.")
    cycles.get_cycle(db.session, year)
    return _send(f"ket-qua-{year}.xlsx", results_export.results_xlsx(db.session, year), XLSX)
