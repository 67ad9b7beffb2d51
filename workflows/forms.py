"""Validating task data against a step's camunda:formData: a form edited in Camunda Modeler is enforced as drawn."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from workflows.engine import FormFieldSpec, expressions
from workflows.errors import InvalidInput
from workflows.messages import Text

# camunda:formData `long` is a Java long: nothing beyond it is stored (a bigger number is a typing slip or an attack).
LONG_BOUND = 2**63 - 1

REQUIRED = Text("Trường này là bắt buộc.")


def validate(fields: list[FormFieldSpec], submitted: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Return typed values for FIELDS from SUBMITTED, or raise InvalidInput naming every bad field.

    CONTEXT is the task's current data: `requiredWhen` conditions see it together with the submitted values.
    Readonly fields keep their current value whatever is submitted.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        if "readonly" in spec.constraints:
            continue
        # Camunda prefills a field with its defaultValue: a client that leaves the field out submits that value.
        raw = submitted[spec.id] if spec.id in submitted else default_value(spec, context)
        try:
            value = _coerce(spec, raw)
        except ValueError as exc:
            errors[spec.id] = exc.args[0]  # the Text itself: str(exc) would drop its template
            continue
        if value is not None:
            _check_constraints(spec, value, errors)
        values[spec.id] = value
    merged = {**context, **values}
    for spec in fields:
        if spec.id in errors or values.get(spec.id) not in (None, ""):
            continue
        if "required" in spec.constraints or _required_when(spec, merged):
            errors[spec.id] = REQUIRED
    unknown = sorted(set(submitted) - {f.id for f in fields})
    if unknown:
        errors.update({name: Text("Trường này không có trong biểu mẫu của bước.") for name in unknown})
    if errors:
        raise InvalidInput(Text("Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu."), errors)
    return values


def default_value(spec: FormFieldSpec, context: Mapping[str, Any]) -> Any:
    """What the form shows in SPEC before anyone types: the variable's current value, else camunda:defaultValue,
    an `${...}` default evaluated in the sandbox against CONTEXT (None when it cannot be)."""
    if context.get(spec.id) is not None:
        return context[spec.id]
    default = spec.default
    if default is None or not default.strip():
        return None
    text = default.strip()
    if (text.startswith("${") or text.startswith("#{")) and text.endswith("}"):
        try:
            return expressions.evaluate(text, context)
        except expressions.ExpressionError:
            return None
    return default


def _required_when(spec: FormFieldSpec, data: Mapping[str, Any]) -> bool:
    condition = spec.properties.get("requiredWhen")
    if not condition:
        return False
    try:
        return bool(expressions.evaluate(condition, data))
    except expressions.ExpressionError:
        return True  # an unreadable condition must not silently let an empty field through


def _coerce(spec: FormFieldSpec, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    kind = spec.type
    if kind == "string":
        if not isinstance(raw, str):
            raise ValueError(Text("Phải là chuỗi ký tự."))
        return raw.strip()
    if kind == "long":
        if isinstance(raw, bool):
            raise ValueError(Text("Phải là số nguyên."))
        try:
            number = raw if isinstance(raw, int) else int(str(raw).strip())
        except ValueError:
            raise ValueError(Text("Phải là số nguyên.")) from None
        if abs(number) > LONG_BOUND:  # issue 12: 2**70 was stored as given
            raise ValueError(Text("Số quá lớn (tối đa {max}).", max=LONG_BOUND))
        return number
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "on", "1", "yes", "co", "có"):
            return True
        if text in ("false", "off", "0", "no", "khong", "không"):
            return False
        raise ValueError(Text("Phải là Có hoặc Không."))
    if kind == "date":
        text = str(raw).strip()
        for parse in (date.fromisoformat, _parse_vietnamese_date):
            try:
                return parse(text).isoformat()
            except ValueError:
                continue
        raise ValueError(Text("Ngày không hợp lệ (dd/mm/yyyy)."))
    if kind == "enum":
        allowed = [option_id for option_id, _ in spec.options]
        if raw not in allowed:
            raise ValueError(Text("Giá trị không nằm trong danh sách cho phép."))
        return raw
    raise ValueError(Text("Kiểu trường '{kind}' không được hỗ trợ.", kind=kind))


def _parse_vietnamese_date(text: str) -> date:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


def _check_constraints(spec: FormFieldSpec, value: Any, errors: dict[str, str]) -> None:
    c = spec.constraints
    if spec.type == "long":
        if c.get("min") is not None and value < int(c["min"]):
            errors[spec.id] = Text("Giá trị nhỏ nhất là {min}.", min=c["min"])
        elif c.get("max") is not None and value > int(c["max"]):
            errors[spec.id] = Text("Giá trị lớn nhất là {max}.", max=c["max"])
    if spec.type == "string":
        if c.get("minlength") is not None and len(value) < int(c["minlength"]):
            errors[spec.id] = Text("Cần ít nhất {min} ký tự.", min=c["minlength"])
        elif c.get("maxlength") is not None and len(value) > int(c["maxlength"]):
            errors[spec.id] = Text("Tối đa {max} ký tự.", max=c["maxlength"])
