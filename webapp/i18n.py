"""Messages from workflows/ in the page's language: errors, field problems and the "why is this task mine" text.

workflows/ builds them as `workflows.messages.Text`, a Vietnamese str that keeps its template and parameters; here the
template goes through the catalogue and the parameters are localized in turn (another Text, or a domain word that
webapp/terms.py knows). Plain strings are looked up as they are, and shown unchanged when the catalogue lacks them.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask_babel import gettext

from webapp.terms import term, unit_name
from workflows.messages import Text


def localize(value: Any) -> Any:
    """VALUE in the page's language: a Text through its template, a known message or term translated, else as is."""
    if isinstance(value, Text):
        params = {name: _param(param) for name, param in value.params.items()}
        try:
            return gettext(value.template).format(**params)
        except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder: say it in Vietnamese
            return str(value)
    if isinstance(value, str) and value:
        return gettext(value)  # gettext("") would answer with the catalogue's header
    return value


def localize_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Each field's problem in the page's language (InvalidInput.fields)."""
    return {name: localize(problem) for name, problem in fields.items()}


def _param(value: Any) -> Any:
    # A parameter is a name, a number, a step, role or unit name, or a nested message; never a sentence of its own.
    if isinstance(value, Text):
        return localize(value)
    translated = term(value)
    return unit_name(value) if translated == value else translated  # a unit by its English name in English


_ENGLISH: list[Translations] = []  # the English catalogue once loaded (the .mo is built at deployment)


def _english_catalogue() -> NullTranslations:
    if _ENGLISH:
        return _ENGLISH[0]
    found = Translations.load(str(Path(__file__).parent / "translations"), ["en"])
    if isinstance(found, Translations):  # not yet compiled: try again next time
        _ENGLISH.append(found)
    return found


def english(text: Text) -> str:
    """TEXT in English from the catalogue whatever the page's language: for sentences built in both languages at once
    (workflows/explanations.py, installed by the app factory). Untranslated, or with a wrong placeholder: Vietnamese."""
    params = {name: english(param) if isinstance(param, Text) else param for name, param in text.params.items()}
    try:
        return _english_catalogue().gettext(text.template).format(**params)
    except (KeyError, IndexError, ValueError):
        return str(text)
