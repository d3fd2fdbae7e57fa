"""Import templates that prevent mistakes, built from an importer's columns:
drop-down lists on every fixed-value column, ID-number and other digit columns formatted as text
(Excel keeps all 18 digits), date columns formatted as dates, required headers marked (red, with
a comment), one example row and a 填写说明 sheet."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.importing.base import Importer
from app.sheets import cell, put

TEMPLATE_ROWS = 1000  # rows prepared with formats and drop-downs below the header


def _hint(col) -> str:
    if col.hint:
        return col.hint
    if col.choices:
        return "可选：" + "、".join(col.choices)
    if col.kind == "date":
        return "日期：2024-03-01、2024/3/1 或 2024年3月1日"
    if col.kind == "id":
        return "18位身份证号，本列已设置为文本格式"
    if col.as_text:
        return "本列已设置为文本格式"
    return ""


def template_workbook(importer: Importer) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{importer.noun}导入"
    last = TEMPLATE_ROWS + 1
    for i, col in enumerate(importer.columns, start=1):
        letter = get_column_letter(i)
        head = ws.cell(row=1, column=i, value=col.zh)
        head.font = Font(bold=True, color="C00000" if col.required else None)
        head.fill = PatternFill("solid", fgColor="DDEBF7")
        hint = _hint(col)
        if hint or col.required:
            head.comment = Comment(("必填。" if col.required else "") + hint, "系统")
        example = put(ws, 2, i, col.example, full=True)  # a made-up example, no stored data
        fmt = None
        if col.kind == "date":
            fmt = "yyyy-mm-dd"
        elif col.kind == "id" or col.as_text:
            fmt = "@"
        if fmt:
            example.number_format = fmt
            for r in range(3, last + 1):
                ws.cell(row=r, column=i).number_format = fmt
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"',
                                allow_blank=not col.required, showErrorMessage=True,
                                errorTitle=f"{col.zh}填写有误", error=f"请从下拉列表中选择{col.zh}")
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = 22 if col.kind in ("id", "date") else 14
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "英文列名", "必填", "说明"])
    for header in notes[1]:
        header.font = Font(bold=True)
    for col in importer.columns:
        notes.append([col.zh, col.en, "是" if col.required else "", _hint(col)])
    notes.append([])
    # the example again, laid out as on the first sheet: a row copied from here is recognised
    # as the template's example and never imported, like the one on the first sheet
    notes.append(["示例（模板自带的示例行，导入时会被跳过，不会写入）："])
    notes.append([col.zh for col in importer.columns])
    notes.append([col.example for col in importer.columns])
    notes.append([])
    for line in [
        "第一行为列名（可用中文或英文列名，列的顺序不限；红色列名的列必须有）；列名上方可以有标题行。",
        "从列名下一行起每行一条数据；空行、最后的“合计”行和模板自带的示例行会被跳过。",
        "不认识的列（如“序号”“备注”）不会导入，导入结果中会列出被忽略的列。",
        "导入时全部检查通过才写入；有问题时不写入任何数据，并列出每个问题所在的行和列。",
        *importer.notes,
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["D"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbook(importer: Importer) -> bytes:
    """The stored records in this kind's import format (its headers, labels for codes, digit
    columns as text, dates as dates): the round trip re-imports as 0 new, 0 updated. Streamed."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"{importer.noun}")
    formats = {c.field: ("yyyy-mm-dd" if c.kind == "date" else "@" if c.kind == "id" or c.as_text
                         else None) for c in importer.columns}
    bold = Font(bold=True)

    def head(text):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        return cell

    ws.append([head(c.zh) for c in importer.columns])
    for row in importer.export_rows():
        cells = []
        for c in importer.columns:
            value = row.get(c.field)
            if c.kind == "bool" and value is not None:
                value = "是" if value else "否"
            elif formats[c.field] == "@" and value is not None:
                value = str(value)
            cells.append(cell(ws, value, formats[c.field] if value is not None else None))
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
