"""Messages for users that the web layer can show in another language, although workflows/ never imports Flask.

`Text("Không tìm thấy công việc #{id}.", id=7)` *is* the Vietnamese string "Không tìm thấy công việc #7." (a str), so
callers, logs, tests and stored values see exactly what they saw before. It also keeps its template and parameters:
webapp/i18n.py `localize` looks the template up in the catalogue and fills in the parameters, themselves localized
(a parameter may be another Text, e.g. the rule inside the "why is this task mine" sentence).

Templates use named `{…}` placeholders only, and parameters arrive formatted (dates as dd/mm/yyyy), so a translator
sees whole sentences with plain names. `pybabel extract -F babel.cfg -k _l -k Text` puts every template in the
catalogue, and tests/webapp/test_english_messages.py checks each one has an English translation.
"""
from __future__ import annotations

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
