"""Per-year settings of the rules: what docs/RULES.md marks per year is data for the year, never a constant in code.

A year without a stored value uses the default below. Settings are read when the year's proposals are computed, so
changing one before consolidation changes that year only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import runtime
from workflows.criteria import CRITERIA_BY_ID
from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.models import Cycle, CycleStatus, User, YearSetting

DEFAULTS: dict[str, Any] = {
    "top_share": 0.20,  # Đ15.1 HTXS: top 20% of the block (docs/RULES.md, Rank classes)
    "bottom_share": 0.15,  # Đ17.1b: bottom 15%
    "critical_criteria": None,  # None: every criterion is critical (section-violated rule)
    "revision_wd": 5,  # docs/RULES.md, Working-day calendar: working days an agency gets after a return for revision
    "head_min_months": 6,  # A15: a head who left during the year is evaluated after this many months in office
}


@dataclass(frozen=True)
class YearSettings:
    year: int
    top_share: float
    bottom_share: float
    critical_criteria: frozenset[str] | None
    revision_wd: int
    head_min_months: int = 6


def settings_of_year(session: Session, year: int) -> YearSettings:
    stored = dict(session.execute(select(YearSetting.key, YearSetting.value).where(YearSetting.year == year)).all())
    values = {**DEFAULTS, **stored}
    critical = values["critical_criteria"]
    return YearSettings(year, float(values["top_share"]), float(values["bottom_share"]),
                        frozenset(critical) if critical is not None else None, int(values["revision_wd"]),
                        int(values["head_min_months"]))


def values_of_year(session: Session, year: int) -> list[tuple[str, Any, bool]]:
    """Each setting of YEAR as (key, value, whether it is the default), in the order of DEFAULTS."""
    stored = dict(session.execute(select(YearSetting.key, YearSetting.value).where(YearSetting.year == year)).all())
    return [(key, stored.get(key, default), key not in stored) for key, default in DEFAULTS.items()]


@runtime.atomic
def change(session: Session, actor: User | None, year: int, key: str, value: Any) -> None:
    """Set KEY for YEAR and audit the change (old and new value). A decided year's settings stay as they were: its
    outcomes were computed with them."""
    status = session.scalar(select(Cycle.status).where(Cycle.year == year))
    if status == CycleStatus.DECIDED:
        raise InvalidInput(Text("Năm {year} đã có quyết định; thiết lập của năm không đổi được nữa.", year=year),
                           {key: Text("Kết quả của năm đã được tính theo thiết lập hiện có.")})
    old = dict((k, v) for k, v, _ in values_of_year(session, year)).get(key)
    set_setting(session, year, key, value)
    ctx = runtime.Context.create(session, actor)
    runtime.audit(ctx, "setting_changed", Text("Đổi thiết lập {key} của năm {year}", key=key, year=year),
                  data={"year": year, "key": key, "old": old, "new": value})
    runtime.commit(ctx)


def set_setting(session: Session, year: int, key: str, value: Any) -> None:
    """Store one setting for YEAR after checking it; raise InvalidInput naming the key."""
    problem = _problem(key, value)
    if problem is not None:
        raise InvalidInput(Text("Thiết lập không hợp lệ."), {key: problem})
    row = session.get(YearSetting, (year, key))
    if row is None:
        session.add(YearSetting(year=year, key=key, value=value))
    else:
        row.value = value
    session.flush()


def _problem(key: str, value: Any) -> Text | None:
    if key not in DEFAULTS:
        return Text("Không có thiết lập này.")
    if key in ("top_share", "bottom_share"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            return Text("Tỷ lệ phải lớn hơn 0 và nhỏ hơn 1.")
    elif key == "revision_wd":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60:
            return Text("Số ngày làm việc phải từ 1 đến 60.")
    elif key == "head_min_months":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
            return Text("Số tháng giữ chức vụ phải từ 1 đến 12.")
    elif value is not None and (not isinstance(value, list) or not value
                                or any(cid not in CRITERIA_BY_ID for cid in value)):
        return Text("Danh sách tiêu chí trọng yếu phải gồm các mã tiêu chí có trong bộ tiêu chí.")
    return None
