"""Stored data as people read it: labels for the keys of submitted data, form labels and options of a version as
drawn, unit names, money, dates and times in Vietnam's time zone. Shared by the instance and cycle pages."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from workflows import runtime
from workflows.cache import DatabaseCache
from workflows.calendar import LOCAL_TZ
from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, CRITERIA_BY_ID, STATUSES
from workflows.units import all_unit_names
from workflows.vocabulary import DATA_KEY_LABELS, NO, OUTCOME_FIELDS, REASON_LABELS, YES


@dataclass(frozen=True)
class Detail:
    """One line of data as people read it: a label and a value, or a label over nested lines."""

    label: str
    value: str = ""
    items: tuple[Detail, ...] = ()


# Per database, like runtime's spec cache: version ids are only unique within one database.
_labels_cache: DatabaseCache[tuple[dict[str, str], dict[str, dict[str, str]]]] = DatabaseCache("form labels")


def vocabulary(session: Session, version_id: int) -> Vocabulary:
    """Field labels and enum option names of a version's forms as drawn (camunda:formData), and unit names."""

    def load() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        labels: dict[str, str] = {}
        options: dict[str, dict[str, str]] = {}

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for f in node.get("camunda:formData") or ():
                    labels[f["id"]] = f.get("label") or f["id"]
                    if f.get("options"):
                        options[f["id"]] = {o[0]: o[1] for o in f["options"]}
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(json.loads(runtime.spec_json(session, version_id)))
        return labels, options

    # Versions never change, so neither do their forms: read the spec once per process and database.
    labels, options = _labels_cache.get(session, version_id, load)
    return Vocabulary(labels, options, all_unit_names(session))


@dataclass(frozen=True)
class Vocabulary:
    """What turns stored keys and codes into words: form labels and options of the version, and unit names."""

    labels: Mapping[str, str]
    options: Mapping[str, Mapping[str, str]]
    units: Mapping[str, str]

    def label(self, key: str) -> str:
        return self.labels.get(key) or DATA_KEY_LABELS.get(key) or CRITERIA_LABEL.get(key) or self.units.get(key) or key

    def details(self, data: Mapping[str, Any]) -> tuple[Detail, ...]:
        return tuple(self.detail(key, value) for key, value in data.items() if key != "comment_id")

    def detail(self, key: str, value: Any) -> Detail:
        label = self.label(key)
        if key == "budget" and isinstance(value, Mapping):
            return Detail(label, items=tuple(Detail(BUDGET_CATEGORIES.get(k, k), money(v)) for k, v in value.items()))
        if key == "criteria" and isinstance(value, Mapping):
            return Detail(label, items=tuple(criterion_detail(cid, entry) for cid, entry in value.items()))
        if key == "overrides" and isinstance(value, list):
            return Detail(label, items=tuple(self.override(item) for item in value if isinstance(item, Mapping)))
        if isinstance(value, Mapping):
            return Detail(label, items=self.details(value))
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            return Detail(label, items=tuple(Detail(str(i), items=self.details(v)) for i, v in enumerate(value, 1)))
        return Detail(label, self.scalar(key, value))

    def override(self, item: Mapping[str, Any]) -> Detail:
        field, values = OUTCOME_FIELDS.get(str(item.get("field")), (str(item.get("field")), {}))
        code = str(item.get("unit_code") or "").upper()
        value = values.get(str(item.get("value")), str(item.get("value")))
        return Detail(self.units.get(code, code), f"{field}: {value}; lý do: {item.get('reason') or '—'}")

    def scalar(self, key: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return YES if value else NO
        if isinstance(value, list):
            return ", ".join(self.scalar(key, v) for v in value)
        if not isinstance(value, str):
            return str(value)
        if key in self.options and value in self.options[key]:
            return self.options[key][value]
        if key in CRITERIA_BY_ID and value in STATUSES:
            return STATUSES[value]
        if key in ("unit_code", "unit_codes"):
            return self.units.get(value, value)
        if key.endswith("reasons") and value in REASON_LABELS:  # a decision table's reason code, in words
            return REASON_LABELS[value]
        if key in OUTCOME_FIELDS and value in OUTCOME_FIELDS[key][1]:
            return OUTCOME_FIELDS[key][1][value]
        if _ISO_DATE.match(value):
            return f"{date.fromisoformat(value):%d/%m/%Y}"
        if _ISO_DATETIME.match(value):
            try:
                return local_time(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value


CRITERIA_LABEL = {c.id: f"{c.id} {c.title_vi}" for c in CRITERIA}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def criterion_detail(cid: str, entry: Any) -> Detail:
    label = CRITERIA_LABEL.get(cid, cid)
    if not isinstance(entry, Mapping):
        return Detail(label, STATUSES.get(str(entry), str(entry)))
    parts = [STATUSES.get(entry.get("status", ""), str(entry.get("status") or "—"))]
    if entry.get("note"):
        parts.append(f"ghi chú: {entry['note']}")
    if entry.get("evidence"):
        parts.append("minh chứng: " + ", ".join(str(e) for e in entry["evidence"]))
    return Detail(label, "; ".join(parts))


def money(amount: Any) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool):
        return str(amount)
    return f"{amount:,}".replace(",", ".") + " đồng"


def utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_time(value: datetime) -> str:
    return f"{utc(value).astimezone(LOCAL_TZ):%H:%M %d/%m/%Y}"
