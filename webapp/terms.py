"""Domain words on the pages (step names, roles, criteria, outcomes, statuses, units) in the reader's language.

The words are defined once, as `Text`, in workflows/vocabulary.py (so `pybabel extract -k Text` puts them in the
catalogue). A word that arrives here as a plain str (a step name read from a diagram, a label stored in a row) is
translated by the `term` filter when the vocabulary knows it; a step or process the catalogue does not know takes the
English name its diagram gives (`name_en`, workflows/step_names.py); anything else (a name, typed text) shows as
written. The `step_name` and `process_name` filters show a step or process without any English name visibly so
(marked Vietnamese), and `unit_name` gives a unit's English name (agencies.csv) in English mode.
tests/webapp/test_terms.py checks the vocabulary against bpmn/ and the catalogue.
"""
from __future__ import annotations

import re
from typing import Any

from flask import has_request_context
from flask_babel import get_locale, gettext
from markupsafe import Markup

from webapp.extensions import db
from workflows.step_names import english_process_names, english_step_names
from workflows.units import english_unit_names
from workflows.vocabulary import ALL_WORDS, ARTICLE

TERMS = ALL_WORDS  # every domain word, each defined once in workflows/vocabulary.py

# A criterion shown with its id in front: "M1.5.1 – title" (task pages) or "M1.5.1 title" (submitted data).
_WITH_CRITERION_ID = re.compile(r"^(M\d+\.\d+\.\d+)( – | )(.+)$")
# An outcome's grounds as stored: "Điều 15.1", "Điều 17.1b" ("Article 15.1" in English).
_ARTICLE_NUMBER = re.compile(r"^Điều (\d+(?:\.\d+[a-z]?)?)$")


def term(text: Any) -> Any:
    """TEXT in the page's language when it is a known domain term, else TEXT unchanged (also when not a string)."""
    if not isinstance(text, str):
        return text
    if text in TERMS:
        return gettext(text)
    match = _WITH_CRITERION_ID.match(text)
    if match and match[3] in TERMS:
        return f"{match[1]}{match[2]}{gettext(match[3])}"
    match = _ARTICLE_NUMBER.match(text)
    if match:
        return f"{gettext(str(ARTICLE))} {match[1]}"
    if _english():
        return english_step_names(db.session).get(text) or english_process_names(db.session).get(text) or text
    return text


def step_name(text: Any) -> Any:
    """A step's name for the page (HTML): as `term`, but in English mode a step that neither the catalogue nor its
    diagram names in English shows in Vietnamese marked so (lang="vi", a tooltip), rather than passing for English."""
    shown = term(text)
    if not (isinstance(text, str) and text and shown == text and _english() and text in english_step_names(db.session)):
        return shown
    return Markup('<span lang="vi" class="untranslated" title="{}">{}</span>').format(
        gettext("Chưa có tên tiếng Anh"), text)


def process_name(text: Any) -> Any:
    """A process's name for the page (HTML), as `step_name` shows a step: the catalogue's English, else its diagram's
    `name_en`, else the Vietnamese name marked so (lang="vi", a tooltip)."""
    shown = term(text)
    if not (isinstance(text, str) and text and shown == text and _english()
            and text in english_process_names(db.session)):
        return shown
    return Markup('<span lang="vi" class="untranslated" title="{}">{}</span>').format(
        gettext("Chưa có tên tiếng Anh"), text)


def unit_name(name: Any) -> Any:
    """A unit's name (as workflows/ gives it, in Vietnamese) in the page's language: agencies.csv's English name."""
    if not isinstance(name, str) or not _english():
        return name
    return english_unit_names(db.session).get(name, name)


def _english() -> bool:
    return has_request_context() and str(get_locale()) == "en"
