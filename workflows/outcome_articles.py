"""The articles and reasons a unit's outcome cites, kept true to the outcome actually chosen.

The decision tables cite the clauses of their proposal. When a person settles or changes an outcome, the proposal's
clauses no longer describe it: a rating settled as Hoàn thành cites Điều 15.2 only, a sanction chosen by hand cites
the clause the person named (or the one the chosen form belongs to), and 'pending review' reasons go once nothing is
pending. Reasons that explain how the unit got there (NO_REPORT, RANK_TIE, ...) stay.
"""
from __future__ import annotations

import re

from workflows.models import Evaluation, Override

RATING_ARTICLE = {"excellent": "Điều 15.1", "complete": "Điều 15.2", "incomplete": "Điều 15.3"}
SANCTION_ARTICLE = {"criticism": "Điều 17.1a", "reprimand": "Điều 17.1b", "warning": "Điều 17.1c"}
REWARD_ARTICLE = {"eligible": "Điều 16.1", "ad_hoc_eligible": "Điều 16.2"}
# Clauses a person may name for a changed outcome: the rule itself, or the Committee's discretion (A18, Điều 17.1).
ALLOWED_ARTICLES = {
    "rating": {"Điều 15.1", "Điều 15.2", "Điều 15.3"},
    "sanction": {"Điều 17.1", "Điều 17.1a", "Điều 17.1b", "Điều 17.1c"},
    "reward": {"Điều 16.1", "Điều 16.2"},
}
PENDING_REASONS = {"RATING_PENDING_REVIEW"}
_FIELD_OF = {"15": "rating", "16": "reward", "17": "sanction"}
_ARTICLE = re.compile(r"^Điều (1[567])\b")


def default_article(field: str, value: str) -> str | None:
    return {"rating": RATING_ARTICLE, "sanction": SANCTION_ARTICLE, "reward": REWARD_ARTICLE}[field].get(value)


def settle(evaluation: Evaluation) -> None:
    """Recompute EVALUATION's articles (and drop pending reasons) from its current rating, sanction and reward."""
    proposed = evaluation.proposed or {}
    by_field: dict[str, list[str]] = {"rating": [], "sanction": [], "reward": []}
    others: list[str] = []
    for article in proposed.get("articles") or evaluation.articles or []:
        match = _ARTICLE.match(article)
        (by_field[_FIELD_OF[match.group(1)]] if match else others).append(article)
    chosen: list[str] = list(others)
    for field in ("rating", "sanction", "reward"):
        value = getattr(evaluation, field)
        last = _last_override(evaluation, field)
        if value == "manual_review":
            chosen += by_field[field]  # still open: the clauses in question stay visible
        elif last is not None:
            article = last.article or default_article(field, value)
            chosen += [article] if article else []
        elif field == "rating":
            article = default_article(field, value or "")
            chosen += [article] if article else []
        else:
            chosen += by_field[field]
    evaluation.articles = list(dict.fromkeys(chosen))
    if evaluation.rating != "manual_review":
        evaluation.reasons = [r for r in evaluation.reasons or [] if r not in PENDING_REASONS]


def _last_override(evaluation: Evaluation, field: str) -> Override | None:
    # After a return to consolidation the tables propose afresh; an earlier override stays on record but only speaks
    # for the outcome while the outcome is still the one it chose.
    changes = [o for o in evaluation.overrides if o.field == field and o.new_value == getattr(evaluation, field)]
    return changes[-1] if changes else None
