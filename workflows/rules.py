"""The decision tables of Điều 15–17 applied to one case, through the deployed unit_evaluation process and its DMN."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from workflows import engine
from workflows.definitions import latest_version
from workflows.errors import EngineError, InvalidInput
from workflows.models import DefinitionVersion
from workflows.runtime import spec_json
from workflows.vocabulary import RATING_LABELS, SANCTION_LABELS

EVALUATION_PROCESS = "unit_evaluation"
RATINGS = ("excellent", "complete", "incomplete", "manual_review")
SANCTIONS = ("none", "criticism", "reprimand", "warning", "manual_review")
REWARDS = ("eligible", "ad_hoc_eligible", "none")
_CASE_FIELDS = {
    "block": str,
    "sections_violated": list,
    "ict_rank": int,
    "ict_units": int,
    "prev_ict_rank": int,
    "prev_ict_units": int,
    "slow_conclusions": bool,
    "superior_requires_review": bool,
    "lacks_responsibility": bool,
    "special_achievement": bool,
}
_NULLABLE = {"ict_rank", "ict_units", "prev_ict_rank", "prev_ict_units", "slow_conclusions"}


def validate_case(case: Any) -> dict[str, Any]:
    """Check a case against the input schema of `rules evaluate`; raise InvalidInput naming each bad field."""
    if not isinstance(case, Mapping):
        raise InvalidInput("The case must be a JSON object.", {"": "expected an object"})
    errors: dict[str, str] = {}
    for name, kind in _CASE_FIELDS.items():
        if name not in case:
            errors[name] = "missing"
            continue
        value = case[name]
        if value is None and name in _NULLABLE:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            errors[name] = f"must be {'null or ' if name in _NULLABLE else ''}{kind.__name__}"
    for name in sorted(set(case) - set(_CASE_FIELDS) - {"rank_tie", "prev_rank_tie"}):
        errors[name] = "unknown field"
    if errors:
        raise InvalidInput(_describe(errors), errors)
    if case["block"] not in ("department", "district"):
        errors["block"] = "must be 'department' or 'district'"
    sections = case["sections_violated"]
    if any(not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= 4 for s in sections):
        errors["sections_violated"] = "sections are numbers 1 to 4"
    elif len(set(sections)) != len(sections):
        errors["sections_violated"] = "a section is listed twice"
    for rank, units in (("ict_rank", "ict_units"), ("prev_ict_rank", "prev_ict_units")):
        r, n = case[rank], case[units]
        if (r is None) != (n is None):
            errors[rank if r is None else units] = f"{rank} and {units} are given together or not at all"
        elif n is not None and n < 1:
            errors[units] = "must be at least 1"
        elif r is not None and not 1 <= r <= n:
            errors[rank] = f"must be between 1 and {units} ({n})"
    for flag in ("rank_tie", "prev_rank_tie"):
        if flag in case and not isinstance(case[flag], bool):
            errors[flag] = "must be bool"
    if errors:
        raise InvalidInput(_describe(errors), errors)
    return {**case, "sections_violated": sorted(sections), "rank_tie": bool(case.get("rank_tie", False)),
            "prev_rank_tie": bool(case.get("prev_rank_tie", False))}


def _describe(errors: Mapping[str, str]) -> str:
    return "Invalid case: " + "; ".join(f"{field}: {problem}" for field, problem in errors.items())


def evaluate(
    session: Session,
    case: Mapping[str, Any],
    version: DefinitionVersion | None = None,
    top_share: float = 0.20,
    bottom_share: float = 0.15,
) -> dict[str, Any]:
    """Propose rating, sanction and reward for CASE with the decision tables of VERSION (default: the latest)."""
    valid = validate_case(case)
    version = version or latest_version(session, EVALUATION_PROCESS)
    data = engine.run_straight_through(spec_json(session, version.id), with_shares(valid, top_share, bottom_share))
    return outcome_from(data)


def with_shares(case: Mapping[str, Any], top_share: float, bottom_share: float) -> dict[str, Any]:
    """The case plus the rank-class shares, as decimals: floor(0.29 × 100) must be 29, not binary float's 28."""
    return {**case, "top_share": Decimal(str(top_share)), "bottom_share": Decimal(str(bottom_share))}


def _cross_checks(data: Mapping[str, Any], sanction: str, rule: str | None, reasons: list[str],
                  articles: list[str]) -> tuple[str, str | None]:
    """Flags that span the tables, so that no contested reading is decided silently (docs/RULES.md, Ambiguities A1–A26).

    - Bottom 15% two years running is only used by Điều 17.1b with exactly two violated sections: say so otherwise.
    - A tie across a block boundary makes 'bottom 15%' uncertain, so Khiển trách, which rests on it (R3), goes to a
      human with RANK_TIE.
    """
    both_bottom = data.get("ict_class") == "bot15" and data.get("prev_ict_class") == "bot15"
    if both_bottom and len(data.get("sections_violated") or []) != 2 and "BOT15_2Y_NOT_USED" not in reasons:
        reasons.append("BOT15_2Y_NOT_USED")
    if data.get("prev_rank_tie") and "RANK_TIE" not in reasons:
        reasons.append("RANK_TIE")  # last year's tie makes last year's class uncertain, as this year's does
    if (data.get("rank_tie") or data.get("prev_rank_tie")) and rule == "R3":
        if "RANK_TIE" not in reasons:
            reasons.append("RANK_TIE")
        if "Điều 17.1b" not in articles:
            articles.append("Điều 17.1b")
        return "manual_review", rule
    return sanction, rule


def outcome_from(data: Mapping[str, Any]) -> dict[str, Any]:
    """Shape the unit_evaluation output as the documented result; refuse anything outside the known values."""
    rating, sanction, reward = data.get("rating"), data.get("sanction"), data.get("reward")
    if rating not in RATINGS or sanction not in SANCTIONS or reward not in REWARDS:
        raise EngineError(
            f"The decision tables gave an unknown outcome (rating={rating!r}, sanction={sanction!r}, reward={reward!r})"
        )
    reasons: list[str] = []
    articles: list[str] = []
    for prefix in ("rating", "sanction", "reward"):
        for code in data.get(f"{prefix}_reasons") or []:
            if code not in reasons:
                reasons.append(code)
        for article in data.get(f"{prefix}_articles") or []:
            if article not in articles:
                articles.append(article)
    sanction, rule = _cross_checks(data, sanction, data.get("sanction_rule"), reasons, articles)
    return {
        "rating": rating,
        "sanction": sanction,
        "reward": reward,
        "reasons": reasons,
        "articles": articles,
        "rating_vi": RATING_LABELS[rating],
        "sanction_vi": SANCTION_LABELS[sanction],
        "sanction_rule": rule,
        "ict_class": data.get("ict_class"),
        "prev_ict_class": data.get("prev_ict_class"),
        "decision_trace": data.get("decision_trace", {}),
    }
