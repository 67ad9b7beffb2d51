"""Domain words on the pages (step names, roles, criteria, outcomes, statuses) in the reader's language.

The words are defined once, as `Text`, in workflows/vocabulary.py (so `pybabel extract -k Text` puts them in the
catalogue). A word that arrives here as a plain str (a step name read from a diagram, a label stored in a row) is
translated by the `term` filter when the vocabulary knows it; anything else (a step of a newly uploaded diagram, a
name, typed text) shows as written. tests/webapp/test_terms.py checks the vocabulary against bpmn/ and the catalogue.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext

from workflows.vocabulary import ALL_WORDS

TERMS = ALL_WORDS  # every domain word, each defined once in workflows/vocabulary.py

# A criterion shown with its id in front: "M1.5.1 – title" (task pages) or "M1.5.1 title" (submitted data).
_WITH_CRITERION_ID = re.compile(r"^(M\d+\.\d+\.\d+)( – | )(.+)$")


def term(text: Any) -> Any:
    """TEXT in the page's language when it is a known domain term, else TEXT unchanged (also when not a string)."""
    if not isinstance(text, str):
        return text
    if text in TERMS:
        return gettext(text)
    match = _WITH_CRITERION_ID.match(text)
    if match and match[3] in TERMS:
        return f"{match[1]}{match[2]}{gettext(match[3])}"
    return text
