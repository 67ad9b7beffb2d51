"""The report of an upload: its problems, each with the file, the element, the line and a sentence.

The sentence is a `workflows.messages.Text`: the Vietnamese text, keeping its template and parameters, which the web
layer shows in the reader's language through the catalogue (webapp/i18n.py), like every other message.
"""
from __future__ import annotations

import string
from dataclasses import asdict, dataclass, field
from typing import Any

from workflows.messages import Text
from workflows.validation.messages import MESSAGES, WHERE
from workflows.validation.xmltools import label_of


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, and a sentence for a process owner (a Text, Vietnamese until translated)."""

    code: str
    message: str
    file: str | None = None
    element: str | None = None
    name: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks the upload; "warning" is shown with the new version

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Everything found in one set of files."""

    problems: list[Problem] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)  # executable process ids
    decisions: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def problem(code: str, file: str | None = None, element: Any = None, *, line: int | None = None,
            severity: str = "error", template: str | None = None, **params: Any) -> Problem:
    """The problem CODE found in FILE at ELEMENT (its line unless LINE is given), its sentence filled with PARAMS.

    TEMPLATE names another entry of MESSAGES when one code has several sentences.
    """
    text = MESSAGES[template or code]
    if element is not None:
        params.setdefault("label", label_of(element))
    params.setdefault("file", file)
    if params.get("where") in WHERE:
        params["where"] = Text(WHERE[params["where"]])
    # A placeholder without a value shows as written, as it always did.
    values = {name: "" if params.get(name, "{" + name + "}") is None else params.get(name, "{" + name + "}")
              for name in placeholders(text)}
    return Problem(
        code=code, message=Text(text, **values),
        file=file, element=element.get("id") if element is not None else None,
        name=(element.get("name") or None) if element is not None else None,
        line=line if line is not None else (element.sourceline if element is not None else None),
        severity=severity)
