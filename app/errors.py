"""Domain exceptions carry a message a person can act on."""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """`fields` maps a form field name (or a grid row id) to its own message, so a page can show
    each message beside what it is about, keeping what the person typed."""

    def __init__(self, message: str = "", fields: dict[Any, str] | None = None):
        super().__init__(message)
        if fields is not None or "fields" not in self.__dict__:  # a subclass may set them first
            self.fields: dict[Any, str] = dict(fields or {})


class StaleEdit(DomainError):
    pass
