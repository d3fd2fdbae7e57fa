"""The base of every edit form: a POST must carry every field the page shows.

WTForms fills a field that is missing from the POST from the edited object (so a request with
only the CSRF token would "save" the record unchanged — and its version with it, skipping the
stale-edit check), except checkboxes, which a browser leaves out when unticked (so the same
request would untick every box). A browser always sends every text box, select, text area and
hidden field of the form, so their absence means the request did not come from our page: it is
refused, and nothing is saved. (Without its version, a form that edits a record is refused
here too; certificates/routes.py's action form, which has no stored object to fall back on, gets
`form_version` -1 and is refused as stale.)
"""

from __future__ import annotations

from datetime import date

from flask import flash, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField as FlaskFileField
from wtforms import BooleanField, DateField, FileField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.formatting import read_date
from app.sanitize import strip_controls

# A browser omits an unticked checkbox and may omit a file input with no file chosen.
MAY_BE_ABSENT = (BooleanField, FileField, FlaskFileField)


DATE_HINT = "应写成 2024年3月1日（也可写 2024-03-01 或 2024/3/1）"


def parse_date(text: str | None) -> date | None:
    """A date as people type it, in the spellings the imports accept (2024-03-01, 2024/3/1,
    2024年3月1日, 20240301); None when blank. Raises ValueError with a message naming the format."""
    text = strip_controls((text or "").strip()).strip()
    if not text:
        return None
    try:
        return read_date(text)
    except ValueError as exc:
        message = str(exc).replace("应写成 2024-03-01、2024/3/1 或 2024年3月1日", DATE_HINT)
        raise ValueError(message if DATE_HINT in message else f"{message}，{DATE_HINT}") from None


class CnDateField(DateField):
    """Every web date field: a text box that takes the spellings the imports take, shows the
    date as 2024年3月1日, keeps a wrong entry as typed and says which format is expected."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": "如 2024年3月1日", "autocomplete": "off", "data-date": "",
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        try:
            self.data = parse_date(text)
        except ValueError:
            self.data = None
            raise

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, date):
            return f"{self.data.year}年{self.data.month}月{self.data.day}日"
        return ""

    def pre_validate(self, form):
        if self.process_errors:  # the format message says it all; no "please fill in" on top
            raise StopValidation()


def show_errors(form: FlaskForm, exc: Exception) -> None:
    """A refused save: each message of a `DomainError` goes beside its field (the form keeps what
    was typed, since the page is rendered again from the POST); the rest is flashed."""
    fields = getattr(exc, "fields", {}) or {}
    placed = []
    for name, message in fields.items():
        f = form._fields.get(name) if isinstance(name, str) else None
        if f is not None:
            f.errors = [*f.errors, message]
            placed.append(message)
    rest = [m for m in fields.values() if m not in placed] if fields else [str(exc)]
    if placed:
        flash("未保存：请按标红的提示修改" + (f"（{'；'.join(rest)}）" if rest else ""), "danger")
    else:
        flash(f"未保存：{'；'.join(rest)}", "danger")


class CompleteForm(FlaskForm):
    """Checks completeness when editing (built with `obj=`): only then does a missing field
    silently fall back to the stored value. A new record's missing field is simply empty."""

    # Fields the page shows only sometimes (e.g. a replacement's number for "replace" only).
    optional_in_post: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        self.editing = kwargs.get("obj") is not None
        super().__init__(*args, **kwargs)

    def missing_fields(self) -> list[str]:
        """Labels of the fields the POST lacks ("版本信息" for the stale-edit version)."""
        return [
            "版本信息" if f.name == "version" else (f.label.text or f.name)
            for f in self
            if f.name not in request.form
            and f.name not in self.optional_in_post
            and f.type != "CSRFTokenField"
            and not isinstance(f, MAY_BE_ABSENT)
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        missing = self.missing_fields() if self.editing else []
        if missing:
            message = f"表单不完整（缺少：{'、'.join(missing)}），未保存。请刷新页面后重新填写。"
            self.form_errors.append(message)
            flash(message, "danger")
            return False
        return ok


def form_version(raw) -> int:
    """The version a form was rendered with; -1 when missing or garbled, so that a form without
    its version can never prove it saw the latest data (the save is refused as stale)."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1
