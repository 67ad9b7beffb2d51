"""Request form → typed values for the cycle pages; no rules here, only reading what people typed."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date(text: str | None) -> date | None:
    """A date typed as dd/mm/yyyy (as Vietnamese forms write it) or yyyy-mm-dd; None when it is not a date."""
    if not text:
        return None
    if match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def open_cycle_form(form: Any) -> tuple[Any, Any, dict[str, str]]:
    """Year and report deadline from the opening form, and what could not be read (field → problem)."""
    errors: dict[str, str] = {}
    year: Any = parse_int(form.get("year"))
    if year is None:
        errors["year"] = "Năm đánh giá phải là số, ví dụ 2025."
    report_due: Any = parse_date(form.get("report_due"))
    if report_due is None:
        errors["report_due"] = "Nhập hạn nộp báo cáo dạng dd/mm/yyyy, ví dụ 15/12/2025."
    return year, report_due, errors
