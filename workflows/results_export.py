"""A year's results as a spreadsheet: one typed row per unit, frozen header, filters, the explanation and overrides."""
from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from sqlalchemy.orm import Session

from workflows import cycles
from workflows.explanations import FIELD, STAGE
from workflows.subjects import person_notes, persons_shown
from workflows.vocabulary import BLOCK_LABELS, RATING_LABELS, SANCTION_LABELS

COLUMNS = (  # (header, width)
    ("Mã đơn vị", 10), ("Cơ quan, đơn vị", 36), ("Khối", 12), ("Hạng ICT", 9), ("Số đơn vị trong khối", 10),
    ("Mục vi phạm", 14), ("Nộp muộn", 9), ("Xếp loại đề xuất", 24), ("Xử lý đề xuất", 18), ("Quy tắc", 8),
    ("Xếp loại", 24), ("Hình thức xử lý", 18), ("Khen thưởng", 26), ("Chính thức", 10), ("Quyết định số", 16),
    ("Căn cứ", 28), ("Lý do (mã)", 28), ("Người được đánh giá", 60), ("Điều chỉnh", 60),
    ("Giải thích", 100),
)


def _safe(value: str) -> str:
    """Text that a spreadsheet would read as a formula (= + - @, or a leading tab/CR) is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def results_xlsx(session: Session, year: int) -> bytes:
    """YEAR's results (every computed unit) as XLSX bytes."""
    rows = cycles.results(session, year)
    out = io.BytesIO()
    # strings_to_formulas/urls off: every cell is what it says, never a formula or a link.
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet(f"Kết quả {year}")
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for col, (title, width) in enumerate(COLUMNS):
        sheet.write_string(0, col, title, header)
        sheet.set_column(col, col, width, wrap if width >= 28 else None)
    for r, row in enumerate(rows, start=1):
        proposed = row["proposed"] or {}
        values: list[Any] = [
            row["unit_code"], row["unit_name"], BLOCK_LABELS.get(row["block"], row["block"]), row["ict_rank"],
            row["ict_units"], ", ".join(str(s) for s in row["sections_violated"]), bool(row["late_report"]),
            RATING_LABELS.get(proposed.get("rating") or "", ""),
            SANCTION_LABELS.get(proposed.get("sanction") or "", ""),
            proposed.get("sanction_rule") or "", row["rating_vi"], row["sanction_vi"], row["reward_vi"],
            bool(row["final"]), row["decision_number"] or "", ", ".join(row["articles"]), ", ".join(row["reasons"]),
            "\n".join([*persons_shown(row), *person_notes(row)]),
            "\n".join(_override(o) for o in row["overrides"]), row["explanation"],
        ]
        for col, value in enumerate(values):
            if value is None:
                sheet.write_blank(r, col, None)
            elif isinstance(value, bool):
                sheet.write_boolean(r, col, value)
            elif isinstance(value, int):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, _safe(str(value)))
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    book.close()
    return out.getvalue()


def _override(o: dict[str, Any]) -> str:
    stage = STAGE.get(o["stage"], (o["stage"],))[0]
    field = FIELD.get(o["field"], (o["field"],))[0]
    return f"{stage}: {field} {o['from'] or '—'} → {o['to']} ({o['by']}, {o['at'][:10]}): {o['reason']}"
