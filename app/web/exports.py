"""Rows of plain dicts → .xlsx, .csv (UTF-8 with BOM) or an aligned terminal table.

Generic: a report describes its columns once (`Column`) and every format reuses that spec, so
the Excel file, the CSV and the terminal show the same headers in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from app.formatting import days_text
from app.labels import FLAG_REASONS, FLAGS
from app.sheets import (
    DAYS_FORMAT,
    Column,
    display_width,
    plain_text,
    safe_cell,
    write_csv,
    write_xlsx,
)

__all__ = ["Column", "display_width", "safe_cell", "to_xlsx", "to_csv", "to_table"]


def cell_text(col: Column, row: dict[str, Any]) -> str:
    value = col.value(row)
    if col.text is not None:
        return col.text(value)
    return plain_text(value)


def to_xlsx(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, sheet: str = "Sheet1",
            title: str | None = None) -> bytes:
    """The workbook, written by app/sheets.py (the one writer: masking, no formulas, real dates)."""
    return write_xlsx(rows, columns, sheet=sheet, title=title)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, bom: bool = True) -> bytes:
    """UTF-8 CSV (with the BOM by default, for Excel and WPS), written by app/sheets.py."""
    return write_csv(rows, columns, bom=bom)


# ---------------------------------------------------------------- terminal table

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
           text=lambda v: days_text(v) if v is not None else "", number_format=DAYS_FORMAT),
]
