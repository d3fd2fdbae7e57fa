"""The uploaded sheet, annotated (the import wizard's error download): every row as it was, each bad cell filled red
with its message as a cell comment, and a first column 错误说明 listing the row's problems. The
person fixes the cells in this copy, deletes nothing, and imports it again (the 错误说明 column is
recognised and ignored)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from app.importing.base import ERRORS_HEADER, Importer
from app.importing.readers import ImportRefused, Problem, raw_rows, read_table
from app.sheets import put, save

RED = PatternFill("solid", fgColor="FF9999")
_NTH = re.compile(r"^第 (\d+) 列$")


def _cell_messages(found: list[Problem], positions: dict[str, int], raw: tuple,
                   *, is_header: bool) -> dict[int, list[str]]:
    """A row's problems by the position of their cell (in the file's columns); a problem of no
    column, or of a column not found, has no cell."""
    per_cell: dict[int, list[str]] = defaultdict(list)
    for p in found:
        if p.column is None:
            continue
        position = positions.get(p.column)
        m = _NTH.match(p.column)
        if position is None and m:
            position = int(m.group(1)) - 1
        if position is None and is_header:
            position = next((i for i, v in enumerate(raw) if str(v).strip() == p.column), None)
        if position is not None:
            per_cell[position].append(p.message)
    return per_cell


def annotated_workbook(importer: Importer, data: bytes, filename: str,
                       problems: list[Problem]) -> bytes:
    try:
        table = read_table(data, filename, importer.columns)
        header_row, positions = table.header_row, table.positions
    except ImportRefused:
        header_row, positions = 1, {}
    by_row: dict[int, list[Problem]] = defaultdict(list)
    general: list[str] = []
    for p in problems:
        if p.row is None:
            general.append(p.message)
        else:
            by_row[p.row].append(p)

    wb = Workbook()
    ws = wb.active
    ws.title = f"{importer.noun}（有问题）"[:31]
    for number, raw in enumerate(raw_rows(data, filename), start=1):
        if number == header_row:
            put(ws, number, 1, ERRORS_HEADER)
        for i, v in enumerate(raw, start=2):
            if v is None or v == "":
                continue
            # The uploader's own sheet, to fix and import again: its ID numbers stay whole (only
            # the uploader or an administrator may open it); formulas and controls never pass.
            target = put(ws, number, i, v, "yyyy-mm-dd" if isinstance(v, datetime | date) else None,
                         full=True)
            if isinstance(v, str) and v.isdigit():
                target.number_format = "@"
        found = by_row.get(number)
        if not found:
            continue
        put(ws, number, 1, "；".join((f"{p.column}：" if p.column else "") + p.message for p in found),
            full=True)
        ws.cell(row=number, column=1).font = Font(color="C00000")
        ws.cell(row=number, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        per_cell = _cell_messages(found, positions, raw, is_header=number == header_row)
        for position, messages in per_cell.items():
            cell = ws.cell(row=number, column=position + 2)
            cell.fill = RED
            cell.comment = Comment("\n".join(messages), "导入检查", width=300, height=120)
    if general:
        cell = ws.cell(row=header_row, column=1)
        cell.comment = Comment("\n".join(general), "导入检查", width=300, height=120)
        cell.fill = RED
    ws.column_dimensions["A"].width = 50
    return save(wb)
