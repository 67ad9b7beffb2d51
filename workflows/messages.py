"""Messages for users that the web layer can show in another language, although workflows/ never imports Flask.

`Text("Không tìm thấy công việc #{id}.", id=7)` *is* the Vietnamese string "Không tìm thấy công việc #7." (a str), so
callers, logs, tests and stored values see exactly what they saw before. It also keeps its template and parameters:
webapp/i18n.py `localize` looks the template up in the catalogue and fills in the parameters, themselves localized
(a parameter may be another Text, e.g. the rule inside the "why is this task mine" sentence).

Templates use named `{…}` placeholders only, and parameters arrive formatted (dates as dd/mm/yyyy), so a translator
sees whole sentences with plain names. `pybabel extract -F babel.cfg -k _l -k Text` puts every template in the
catalogue, and tests/webapp/test_english_messages.py checks each one has an English translation.

An audit event stores its message's `to_json()` next to the Vietnamese text (runtime.audit), and the history rebuilds
it with `Text.from_json`, so the timeline shows each event in the reader's language however long ago it was written.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Text(str):
    """A user-facing message: the Vietnamese TEMPLATE filled in with PARAMS, remembering both."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Text:
        text = super().__new__(cls, template.format(**params))
        text.template = template
        text.params = params
        return text

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        # copy and pickle rebuild from the template, not from the filled-in text (which may contain braces)
        return (self.template,), self.params

    def to_json(self) -> dict[str, Any]:
        """The template and parameters as JSON values (a nested Text likewise), for `from_json` to rebuild."""
        return {"template": self.template, "params": {name: _stored(value) for name, value in self.params.items()}}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Text:
        """The Text that `to_json` stored: the same Vietnamese str, template and parameters."""
        return cls(stored["template"], **{name: _restored(value) for name, value in stored["params"].items()})


def _stored(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_json()
    if value is None or isinstance(value, (int, float)):
        return value
    # As the template showed it ({name} formats with an empty spec): a str stays itself, anything else its text.
    return format(value)


def _restored(value: Any) -> Any:
    # Parameters are names, numbers and formatted dates; a mapping is always a nested message.
    return Text.from_json(value) if isinstance(value, Mapping) else value
