"""A purpose-built form key is registered once (workflows/steps.py); its page and the upload check follow from it."""
from __future__ import annotations

from pathlib import Path

from webapp.tasks.pages import page_for
from workflows import steps
from workflows.validation import tasks as task_checks

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"


def test_every_step_form_key_has_its_page_and_template_and_is_accepted_by_the_upload_check():
    assert steps.HANDLERS
    for key in steps.HANDLERS:
        page = page_for(key)
        assert page is not None, key
        assert (TEMPLATES / page.template).is_file(), page.template
    assert task_checks.KNOWN_STEP_FORMS == frozenset(steps.HANDLERS)


def test_a_form_key_without_a_step_has_no_page():
    assert page_for("app:unknown") is None
    assert page_for(None) is None
    assert page_for("embedded:app:forms/x.html") is None
