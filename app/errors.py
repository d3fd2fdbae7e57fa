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


def required_text(errors: dict[str, str], data: dict[str, Any], key: str, label: str, limit: int,
                  unit: str = "个字") -> str:
    """`data[key]` stripped; an empty one, or one longer than `limit`, adds its message to the
    {field: message} of a validate_* function."""
    text = (data.get(key) or "").strip()
    if not text:
        errors[key] = f"{label}不能为空"
    elif len(text) > limit:
        errors[key] = f"{label}不能超过{limit}{unit}"
    return text
