"""The report of an upload: its problems (file, element, line, a sentence in Vietnamese and English)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workflows.validation.messages import MESSAGES, WHERE
from workflows.validation.xmltools import label_of


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, and a sentence for a process owner in Vietnamese and in English."""

    code: str
    message: str
    message_en: str
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



class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def problem(code: str, file: str | None = None, element: Any = None, *, line: int | None = None,
            severity: str = "error", **params: Any) -> Problem:
    """The problem CODE found in FILE at ELEMENT (its line unless LINE is given), its sentences filled with PARAMS."""
    vi, en = MESSAGES[code]
    if element is not None:
        params.setdefault("label", label_of(element))
    params.setdefault("file", file)
    where = params.get("where")
    if where in WHERE:
        params["where"], params["where_en"] = WHERE[where]
    params.setdefault("detail_en", params.get("detail", ""))
    values = {k: ("" if v is None else v) for k, v in params.items()}
    return Problem(
        code=code, message=vi.format_map(_Defaults(values)), message_en=en.format_map(_Defaults(values)),
        file=file, element=element.get("id") if element is not None else None,
        name=(element.get("name") or None) if element is not None else None,
        line=line if line is not None else (element.sourceline if element is not None else None),
        severity=severity)
