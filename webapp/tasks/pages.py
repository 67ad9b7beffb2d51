"""Purpose-built task pages, keyed by camunda:formKey: what each page needs to show, and how its form is read.

A page is a template `tasks/forms/<name>.html` (name = the form key after "app:") plus, here, a context function
(extra values for the template) and a parse function (request form and files → the step's structured payload,
which workflows/steps.py validates). A form key without an entry falls back to the generic camunda:formData form.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from workflows.models import HumanTask, User


@dataclass(frozen=True)
class Page:
    template: str
    context: Callable[[Any, HumanTask, User], dict[str, Any]]
    parse: Callable[[Any, HumanTask, User, MultiDict, Mapping[str, FileStorage]], dict[str, Any]]


PAGES: dict[str, Page] = {}


def page_for(form_key: str | None) -> Page | None:
    return PAGES.get(form_key or "")
