"""The application's request class: the one sanitiser of what a browser sends.

- NUL bytes are removed from query-string and form keys and values: PostgreSQL refuses them in
  text (a search for "%00" would end in a 500) and no field of this application has a use for
  them.
- A JSON body nested too deeply for the parser (e.g. a thousand "[") is a bad request (400), like
  any other JSON that cannot be read, not a RecursionError.
"""

from __future__ import annotations

from typing import Any

from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property


def _clean(d: MultiDict, cls) -> MultiDict:
    if not any("\x00" in k or any("\x00" in v for v in d.getlist(k) if isinstance(v, str)) for k in d):
        return d
    return cls([(k.replace("\x00", ""), v.replace("\x00", "") if isinstance(v, str) else v)
                for k, v in d.items(multi=True)])


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
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError("JSON 嵌套层数过多"))
