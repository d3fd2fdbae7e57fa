"""The one writer of every spreadsheet the product hands out: .xlsx (openpyxl) and .csv.

Every list export, report, the public list, the exam's access codes, the import templates and the
annotated import sheet write their cells through this module, so four rules hold for all of them:

* ID numbers by role: a string holding a valid 身份证号 is masked (idnumber.mask) unless the file
  is made for an administrator. A background job replays the request as the user who asked, so it
  has their role; a command run on the server (no request) is the operator's own.
* No formulas from data: a string is always written as text (never an `<f>` element), and one
  starting with = + - @ (or tab/CR) carries Excel's quote prefix, so editing the cell keeps it text.
  In a CSV such a field gets a leading apostrophe (the OWASP "CSV injection" guard).
* Control characters (\\x01, \\x0b …, which XML forbids) are dropped, so a stored one never turns
  the file into a 500 (app/sanitize.py keeps new ones out).
* Real dates and numbers: dates are Excel dates shown as 2024年3月1日, numbers stay numbers (a
  剩余天数 column is a number whose format shows a negative as 已过期, and still sorts right).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import has_request_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.idnumber import IdNumberError, mask, validate
from app.roles import sees_full_ids
from app.sanitize import strip_controls

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
DAYS_FORMAT = '0"天";"已过期";"今天到期"'  # 剩余天数: 30 → 30天, -5 → 已过期, 0 → 今天到期
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


@dataclass(frozen=True)
class Column:
    """One column: its header, how to get the raw value from a row, and how wide it is in Excel.

    `value` returns a str, int, float, date or None; `text` (optional) is how the terminal table
    shows that value when the plain str() would read badly (e.g. days → 剩余30天).
    """

    header: str
    value: Callable[[dict[str, Any]], Any]
    width: int = 12
    text: Callable[[Any], str] | None = None
    number_format: str | None = None


# ---------------------------------------------------------------- the cell rules

def full_ids() -> bool:
    """Whether the file being written may carry whole ID numbers (see the module docstring)."""
    if not has_request_context():
        return True

    return sees_full_ids()


def mask_ids(text: str) -> str:
    """Every valid ID number inside `text`, masked (18 digits that are no ID number stay)."""
    def one(m: re.Match) -> str:
        try:
            return mask(validate(m.group(0)))
        except IdNumberError:
            return m.group(0)

    return _ID_CANDIDATE.sub(one, text)


def clean_text(value: str, *, full: bool) -> str:
    value = strip_controls(value)
    return value if full else mask_ids(value)


def safe_cell(value: Any) -> Any:
    """A CSV field's guard against formula injection: a string starting with = + - @ tab or CR
    gets a leading single quote. Numbers, dates and None are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _styled(cell, value: Any, number_format: str | None) -> Any:
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
        if number_format:
            cell.number_format = number_format
    elif isinstance(value, datetime):
        cell.number_format = number_format or DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = number_format or DATE_FORMAT
    elif number_format and isinstance(value, int | float) and not isinstance(value, bool):
        cell.number_format = number_format
    return cell


def _value(value: Any, full: bool) -> Any:
    if isinstance(value, str):
        return clean_text(value, full=full)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def cell(ws, value: Any, number_format: str | None = None, *, full: bool | None = None) -> WriteOnlyCell:
    """A cell for a write-only sheet (`ws.append([...])`), by the rules above."""
    value = _value(value, full_ids() if full is None else full)
    return _styled(WriteOnlyCell(ws, value), value, number_format)


def put(ws, row: int, column: int, value: Any, number_format: str | None = None, *,
        full: bool | None = None):
    """Write one cell of an ordinary sheet, by the rules above; returns the cell (to style it)."""
    value = _value(value, full_ids() if full is None else full)
    target = ws.cell(row=row, column=column)
    target.value = value
    return _styled(target, value, number_format)


def save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- whole files

def display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK wide/full-width characters take two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def write_xlsx(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, sheet: str = "Sheet1",
               title: str | None = None) -> bytes:
    """A streamed (write-only) workbook: the title row when given (what was exported, with its
    filters), a bold frozen header row, then one row per dict."""
    full = full_ids()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(strip_controls(sheet)[:31] or "Sheet1")
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(col.width, display_width(col.header) + 2)
    ws.freeze_panes = "A3" if title else "A2"
    if title:
        head = cell(ws, title, full=full)
        head.font = Font(bold=True, size=13)
        ws.append([head])
    bold = Font(bold=True)
    header = []
    for col in columns:
        c = cell(ws, col.header, full=full)
        c.font = bold
        header.append(c)
    ws.append(header)
    for row in rows:
        ws.append([cell(ws, col.value(row), col.number_format, full=full) for col in columns])
    return save(wb)


def plain_text(value: Any) -> str:
    """A value as CSV and terminal tables show it: nothing for None, ISO dates, else str()."""
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def csv_field(value: Any, *, full: bool) -> str:
    """Numbers stay numbers (-12 stays -12); strings are cleaned, masked and guarded."""
    if isinstance(value, bool | int | float):
        return plain_text(value)
    if isinstance(value, str):
        value = clean_text(value, full=full)
    return plain_text(safe_cell(value))


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, bom: bool = True) -> bytes:
    """UTF-8 CSV; with the BOM (default) Excel and WPS open the Chinese text correctly."""
    full = full_ids()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_field(c.header, full=full) for c in columns])
    for row in rows:
        writer.writerow([csv_field(c.value(row), full=full) for c in columns])
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data
