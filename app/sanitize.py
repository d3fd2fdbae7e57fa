"""The one sanitiser of text that comes in: control characters out.

A name or position holding a control character (\\x01, \\x0b — pasted from another program, or
typed into the API) cannot be written to an Excel file (XML 1.0 forbids them) and breaks PDFs and
logs, so nothing stores them: every form field, query-string value and JSON body (the request class,
app/web/request.py) and every imported cell's text pass through `strip_controls`.
Tab, line feed and carriage return stay (a text area keeps its lines); the writer of spreadsheets
(app/sheets.py) strips anything older that is already stored.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except \t \n \r, DEL, C1 controls, and the two XML non-characters.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def strip_controls(text: str) -> str:
    return CONTROL_RE.sub("", text) if CONTROL_RE.search(text) else text


def clean_json(value: Any) -> Any:
    """A decoded JSON document with every string (keys too) stripped of control characters."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    return value
