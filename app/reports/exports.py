"""Rows of plain dicts → .xlsx, .csv (UTF-8 with BOM) or an aligned terminal table.

Generic: a report describes its columns once (`Column`) and every format reuses that spec, so
the Excel file, the CSV and the terminal show the same headers in the same order.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.formatting import days_text
from app.labels import FLAG_REASONS, FLAGS


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


# ---------------------------------------------------------------- formula injection

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The ONE guard against formula injection (OWASP "CSV injection") for every spreadsheet
    cell and CSV field the product writes: a string starting with = + - @ tab or CR gets a
    leading single quote, so Excel/WPS show it as text instead of running it. Numbers, dates and
    None are returned unchanged (a negative number stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def cell_text(col: Column, row: dict[str, Any]) -> str:
    value = col.value(row)
    if col.text is not None:
        return col.text(value)
    return _plain(value)


# ---------------------------------------------------------------- xlsx

def to_xlsx(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, sheet: str = "Sheet1",
            title: str | None = None) -> bytes:
    """A workbook with a bold, frozen header row; dates are real Excel dates.

    With `title`, the first row holds it (e.g. organisation · report · as-of date) and the header
    row moves down one — the freeze follows it.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    bold = Font(bold=True)
    header_row = 1
    if title:
        ws.append([safe_cell(title)])
        ws.cell(row=1, column=1).font = Font(bold=True, size=13)
        header_row = 2
    ws.append([safe_cell(c.header) for c in columns])
    for i in range(1, len(columns) + 1):
        ws.cell(row=header_row, column=i).font = bold
    for row in rows:
        ws.append([_excel_value(c.value(row)) for c in columns])
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(col.width, display_width(col.header) + 2)
        fmt = col.number_format
        if fmt is None and _is_date_column(ws, i, header_row):
            fmt = "yyyy-mm-dd"
        if fmt:
            for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=i, max_col=i):
                if cell.value is not None:
                    cell.number_format = fmt
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return safe_cell(value)


def _is_date_column(ws, col: int, header_row: int) -> bool:
    for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=col, max_col=col):
        if cell.value is not None:
            return isinstance(cell.value, date | datetime)
    return False


# ---------------------------------------------------------------- csv

def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, bom: bool = True) -> bytes:
    """UTF-8 CSV; with the BOM (default) Excel and WPS open the Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(c.header) for c in columns])
    for row in rows:
        writer.writerow([_csv_value(c.value(row)) for c in columns])
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def _csv_value(value: Any) -> str:
    """Numbers are written as numbers (-12 stays -12); every string goes through safe_cell."""
    if isinstance(value, bool | int | float):
        return _plain(value)
    return _plain(safe_cell(value))


# ---------------------------------------------------------------- terminal table

def display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK wide/full-width characters take two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def to_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *,
             right_align: Iterable[str] = ()) -> str:
    """An aligned plain-text table (header, rule, rows), padded by display width."""
    right = set(right_align)
    cells = [[cell_text(c, r) for c in columns] for r in rows]
    widths = [display_width(c.header) for c in columns]
    for line in cells:
        for i, text in enumerate(line):
            widths[i] = max(widths[i], display_width(text))
    sep = "  "
    out = [sep.join(_pad(c.header, widths[i]) for i, c in enumerate(columns)).rstrip()]
    out.append(sep.join("-" * w for w in widths))
    for line in cells:
        out.append(sep.join(_pad(t, widths[i], columns[i].header in right)
                            for i, t in enumerate(line)).rstrip())
    return "\n".join(out)


# ---------------------------------------------------------------- the flags report

EXTRA_REASONS = {"expiring": "即将到期", "understaffed": "持证人数少于2人"}


def flag_label(code: str | None) -> str:
    return FLAGS.get(code or "", code or "")


def reason_label(code: str | None) -> str:
    code = code or ""
    return FLAG_REASONS.get(code) or EXTRA_REASONS.get(code) or code


def _iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


FLAG_COLUMNS: list[Column] = [
    Column("问题", lambda r: flag_label(r["flag"]), 16),
    Column("原因", lambda r: reason_label(r["reason"]), 16),
    Column("姓名", lambda r: r["name"], 10),
    Column("身份证号", lambda r: r["id_number_masked"], 22),
    Column("单位", lambda r: r["unit"], 20),
    Column("证件编号", lambda r: r["certificate_number"], 18),
    Column("有效期至", lambda r: _iso_date(r["expires_on"]), 12),
    Column("剩余天数", lambda r: r["days_left"], 10,
           text=lambda v: days_text(v) if v is not None else ""),
]
