"""Request → typed values for the process pages; no rules here, only reading what people typed."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from workflows.dmn_tables import Variable
from workflows.engine import feel

_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def year_choice(args: Any) -> tuple[int | None, bool]:
    """The cycle year asked for (None: the default) and whether every year was asked for."""
    raw = (args.get("year") or "").strip()
    if raw == "all":
        return None, True
    return (int(raw) if raw.isascii() and raw.isdigit() else None), False


def decision_inputs(variables: list[Variable], form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Each variable's value typed per its kind (an empty field is null), and what could not be read."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for variable in variables:
        raw = (form.get(variable.name) or "").strip()
        try:
            values[variable.name] = _typed(variable.kind, raw) if raw else None
        except ValueError as exc:
            errors[variable.name] = str(exc)
    return values, errors


def _typed(kind: str, raw: str) -> Any:
    if kind == "string":
        return raw
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(_("Chọn đúng (true), sai (false) hoặc để trống (null)."))
        return raw == "true"
    if kind in ("integer", "long"):
        if not re.fullmatch(r"-?\d+", raw):
            raise ValueError(_("Nhập một số nguyên, ví dụ 2."))
        return int(raw)
    if kind in ("double", "number"):
        return _number(raw)
    if kind == "date":
        return _date(raw)
    if kind == "list":
        try:
            value = _literal(raw if raw.startswith("[") else f"[{raw}]")
        except ValueError:
            value = None
        if not isinstance(value, list):
            raise ValueError(_("Nhập một danh sách, ví dụ [1, 4]; [] là danh sách rỗng."))
        return value
    return _number(raw) if _NUMBER.match(raw) else _literal(raw)


def _number(raw: str) -> int | Decimal:
    # Decimal, not float: the tables compute shares such as floor(0.29 × 100), which binary floats get wrong.
    if not _NUMBER.match(raw):
        raise ValueError(_("Nhập một số, ví dụ 20 hoặc 0,15."))
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise ValueError(_("Nhập một số, ví dụ 20 hoặc 0,15.")) from None
    return int(number) if re.fullmatch(r"-?\d+", raw) else number


def _date(raw: str) -> date:
    match = _DMY.match(raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("Nhập ngày dạng dd/mm/yyyy, ví dụ 31/12/2025.")) from None


def _literal(raw: str) -> Any:
    """A FEEL literal: a number, "text", true, false, null or a [list]; never an expression."""
    message = _('Nhập một giá trị FEEL: số, "chuỗi" trong ngoặc kép, true, false, null hoặc [danh sách].')
    try:
        value = feel.parse_output_literal(raw)
    except feel.FeelError:
        raise ValueError(message) from None
    if callable(value):  # an expression, not a value
        raise ValueError(message)
    return value
