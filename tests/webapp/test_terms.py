"""The domain words pages show (from bpmn/ and workflows/) have English translations, read from their source."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from test_english import compiled_catalogue  # noqa: F401 - the fixture: term() reads the compiled catalogue

from webapp.terms import TERMS, term
from workflows import criteria, vocabulary

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"


def _bpmn(what: str) -> list[str]:
    found = []
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        root = ET.parse(path).getroot()
        if what == "processes":
            found += [p.get("name") for p in root.iter(f"{BPMN}process")]
        elif what == "steps":
            found += [u.get("name") for u in root.iter(f"{BPMN}userTask")]
        elif what == "lanes":
            found += [lane.get("name") for lane in root.iter(f"{BPMN}lane")]
        elif what == "form fields":  # of every form drawn, on user tasks and start events
            found += [f.get("label") for f in root.iter(f"{CAMUNDA}formField")]
        else:
            found += [v.get("name") for f in root.iter(f"{CAMUNDA}formField") for v in f.iter(f"{CAMUNDA}value")]
    return found


def _dmn() -> list[str]:
    found = []
    for path in sorted((ROOT / "bpmn").glob("*.dmn")):
        for element in ET.parse(path).getroot().iter():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "decision":
                found.append(element.get("name"))
            elif tag in ("input", "output"):
                found.append(element.get("label"))
    return found


SOURCES: dict[str, Iterable[str | None]] = {
    "process names": _bpmn("processes"),
    "step names of user tasks": _bpmn("steps"),
    "lane names": _bpmn("lanes"),
    "form field labels": _bpmn("form fields"),
    "form field options": _bpmn("form options"),
    "decision table names and columns": _dmn(),
    "role labels": [*vocabulary.ROLE_LABELS.values(), vocabulary.SYSTEM],
    "criterion titles": [c.title_vi for c in criteria.CRITERIA],
    "section titles": criteria.SECTION_TITLES.values(),
    "self-assessment values and budget categories": [*criteria.STATUSES.values(),
                                                     *criteria.BUDGET_CATEGORIES.values(), vocabulary.NOT_ASSESSED],
    "notification kinds": vocabulary.NOTIFICATION_KIND_LABELS.values(),
    "ratings, sanctions, rewards and reasons": [*vocabulary.RATING_LABELS.values(),
                                                *vocabulary.SANCTION_LABELS.values(),
                                                *vocabulary.REWARD_LABELS.values(), *vocabulary.REASON_LABELS.values(),
                                                *(label for label, _ in vocabulary.OUTCOME_FIELDS.values())],
    "statuses and stages": [*vocabulary.CYCLE_STATUS_LABELS.values(), *vocabulary.INSTANCE_STATUS_LABELS.values(),
                            *vocabulary.REPORT_STAGE_LABELS.values(), *vocabulary.OVERRIDE_STAGE_LABELS.values()],
    "labels of submitted data and of a cycle": [*vocabulary.DATA_KEY_LABELS.values(), vocabulary.YES, vocabulary.NO,
                                                *vocabulary.CYCLE_DETAIL_LABELS.values()],
    "blocks and documents": [*vocabulary.BLOCK_LABELS.values(), *vocabulary.DOCUMENT_TITLES.values()],
    "moving an instance to another version": [*vocabulary.MIGRATION_STATE_LABELS.values(),
                                              *vocabulary.MIGRATION_OUTCOME_LABELS.values(),
                                              *vocabulary.MIGRATION_CHANGE_LABELS.values()],
    "comparisons in decision table cells": vocabulary.COMPARISON_LABELS.values(),
}


@pytest.fixture(scope="module")
def english() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale="en") if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("source", SOURCES)
def test_every_domain_term_shows_in_english(app, compiled_catalogue, english, source):  # noqa: F811
    words = [w for w in dict.fromkeys(SOURCES[source]) if w]
    assert words, f"nothing read for {source}: has the file or module moved?"
    with app.test_request_context("/?lang=en"):
        shown = {w: term(w) for w in words}
    missing = [w for w in words if w not in TERMS or not english.get(w)]
    assert not missing, ("add to workflows/vocabulary.py as Text(...), and its English to messages.po:\n"
                         + "\n".join(f'    Text("{w}"),' for w in missing))
    assert {w: shown[w] for w in words if shown[w] != english[w]} == {}


def test_unknown_words_show_as_written_and_vietnamese_pages_keep_the_terms(app, compiled_catalogue):  # noqa: F811
    new_step = "Bước mới do chủ quy trình vẽ"  # a step of a diagram uploaded later: no translation yet
    title = criteria.CRITERIA[0].title_vi
    with app.test_request_context("/?lang=en"):
        assert term(new_step) == new_step
        assert term(None) is None and term(3) == 3
        assert term("Lập báo cáo và tự đánh giá") == "Draft the report and self-assessment"
        # a criterion shown after its id, as the consolidation page and the history do
        assert term(f"M1.5.1 – {title}") == f"M1.5.1 – {term(title)}" != f"M1.5.1 – {title}"
        assert term(f"M1.5.1 {title}") == f"M1.5.1 {term(title)}"
    with app.test_request_context("/?lang=vi"):
        assert term("Lập báo cáo và tự đánh giá") == "Lập báo cáo và tự đánh giá"
        assert term(f"M1.5.1 – {title}") == f"M1.5.1 – {title}"


def test_one_label_per_role_and_no_module_keeps_its_own_labels():
    # Every role has exactly one label, defined in the vocabulary; no other module keeps a "*_VI" dictionary of words.
    from workflows.models import Role
    assert set(vocabulary.ROLE_LABELS) == set(Role)
    assert vocabulary.role_label("agency_officer") == "Cán bộ chuyên trách CNTT"
    assert vocabulary.role_label("a_group_drawn_later") == "a_group_drawn_later"
    pattern = re.compile(r"^\s*_?[A-Z_]+_VI(: [^=]+)? = ", re.MULTILINE)
    found = [str(path.relative_to(ROOT)) for folder in ("workflows", "webapp") for path in (ROOT / folder).rglob("*.py")
             if pattern.search(path.read_text(encoding="utf-8"))]
    assert found == []
