"""The overdue board as files: CSV that Excel opens with its Vietnamese intact, and XLSX with real dates."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, NamedStyle
from openpyxl.utils import get_column_letter

from workflows.boards import OverdueRow
from workflows.calendar import LOCAL_TZ

# Excel and LibreOffice run a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _headers() -> list[str]:
    return [_("Số ngày làm việc quá hạn"), _("Năm"), _("Mã cơ quan"), _("Cơ quan"), _("Bước"),
            _("Người hoặc nhóm đang giữ"), _("Vai trò xử lý"), _("Hạn xử lý"), _("Giao từ"), _("Mã công việc"),
            _("Mã hồ sơ")]


def _text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _local(value: datetime) -> datetime:
    # Spreadsheets have no time zones: write the wall-clock time in Vietnam.
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def overdue_csv(rows: list[OverdueRow]) -> bytes:
    """UTF-8 with a byte-order mark, without which Excel reads the file as ANSI and garbles the diacritics."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_headers())
    for r in rows:
        writer.writerow([r.days_late, r.year, r.unit_code or "", _text(r.unit_name), _text(r.step_name),
                         _text(r.holder), _text(r.role_label), r.due_on.strftime("%d/%m/%Y"),
                         _local(r.created_at).strftime("%d/%m/%Y %H:%M"), r.task_id, r.instance_id])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_WIDTHS = (14, 8, 12, 36, 44, 36, 32, 12, 17, 12, 10)


def overdue_xlsx(rows: list[OverdueRow], title: str) -> bytes:
    """One sheet: a bold, frozen, filterable header row, then one row per task; dates are dates, not text.

    Written in openpyxl's write-only mode, which streams rows instead of keeping a styled cell object for each.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.title = title
    sheet = workbook.create_sheet(_("Việc quá hạn"))
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(_WIDTHS))}{len(rows) + 1}"
    sheet.append([_cell(sheet, header, font=Font(bold=True)) for header in _headers()])
    due = NamedStyle("due", number_format="DD/MM/YYYY")
    since = NamedStyle("since", number_format="DD/MM/YYYY HH:MM")
    for style in (due, since):
        workbook.add_named_style(style)
    for r in rows:
        # Plain values where possible: a styled cell object per value made large exports several times slower.
        sheet.append([r.days_late, r.year, _text_cell(sheet, r.unit_code or ""), _text_cell(sheet, r.unit_name),
                      _text_cell(sheet, r.step_name), _text_cell(sheet, r.holder), _text_cell(sheet, r.role_label),
                      _cell(sheet, r.due_on, style="due"), _cell(sheet, _local(r.created_at), style="since"),
                      r.task_id, r.instance_id])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _text_cell(sheet: Any, value: str) -> str | WriteOnlyCell:
    # openpyxl writes any text starting with "=" as a formula; these are names, so keep them text.
    return _cell(sheet, value) if value.startswith("=") else value


def _cell(sheet: Any, value: Any, font: Font | None = None, style: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if cell.data_type == "f":
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if style is not None:
        cell.style = style
    return cell
