"""The application's request class: the one sanitiser of what a browser or API client sends.

- Control characters (NUL, \\x01, \\x0b … — app/sanitize.py) are removed from query-string and form
  keys and values and from every string of a JSON body: PostgreSQL refuses NUL in text (a search
  for "%00" would end in a 500), XML 1.0 (every .xlsx) refuses the others, and no field of this
  application has a use for them. Tab, line feed and carriage return stay.
- A JSON body nested too deeply for the parser (e.g. a thousand "[") is a bad request (400), like
  any other JSON that cannot be read, not a RecursionError.
"""

from __future__ import annotations

from typing import Any

from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

from app.sanitize import CONTROL_RE, clean_json, strip_controls


def _dirty(s: Any) -> bool:
    return isinstance(s, str) and CONTROL_RE.search(s) is not None


def _clean(d: MultiDict, cls) -> MultiDict:
    items = list(d.items(multi=True))
    if not any(_dirty(k) or _dirty(v) for k, v in items):
        return d
    return cls([(strip_controls(k), strip_controls(v) if isinstance(v, str) else v) for k, v in items])


class Request(FlaskRequest):
    @cached_property
    def args(self) -> MultiDict[str, str]:  # type: ignore[override]
        return _clean(super().args, self.parameter_storage_class)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None:
            self.__dict__["form"] = _clean(form, self.parameter_storage_class)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:  # type: ignore[override]
        try:
            return clean_json(super().get_json(force=force, silent=silent, cache=cache))
        except RecursionError:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError("JSON 嵌套层数过多"))
