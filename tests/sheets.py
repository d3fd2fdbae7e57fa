"""Spreadsheets as offices send them, made on the fly for import tests: .xlsx (openpyxl),
.xls (xlwt, Excel 97–2003) and .ods (OpenDocument, written by hand as LibreOffice does)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl


def xlsx(path: Path, rows: list[list], title: str | None = None) -> Path:
    """An .xlsx; with `title`, a title merged across the top row above the headers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(rows[0]), 2))
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def xls(path: Path, rows: list[list], title: str | None = None) -> Path:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    start = 0
    if title:
        ws.write_merge(0, 0, 0, max(len(rows[0]) - 1, 1), title)
        start = 1
    for r, row in enumerate(rows, start=start):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, date | datetime):
                ws.write(r, c, v, date_style)
            else:
                ws.write(r, c, v)
    wb.save(str(path))
    return path


def _ods_cell(v) -> str:
    if v is None or v == "":
        return "<table:table-cell/>"
    if isinstance(v, bool):
        return (f'<table:table-cell office:value-type="boolean" office:boolean-value="{str(v).lower()}">'
                f"<text:p>{'TRUE' if v else 'FALSE'}</text:p></table:table-cell>")
    if isinstance(v, int | float):
        return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                f"<text:p>{v}</text:p></table:table-cell>")
    if isinstance(v, date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}">'
                f"<text:p>{v.isoformat()}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'


def ods(path: Path, rows: list[list], title: str | None = None,
        trailing_empty_rows: int = 1_048_000) -> Path:
    """An .ods as LibreOffice saves it: the sheet padded with a huge repeat of empty rows."""
    body = []
    if title:
        body.append(f"<table:table-row>{_ods_cell(title)}</table:table-row>")
    for row in rows:
        body.append("<table:table-row>" + "".join(_ods_cell(v) for v in row)
                    + '<table:table-cell table:number-columns-repeated="1000"/></table:table-row>')
    body.append(f'<table:table-row table:number-rows-repeated="{trailing_empty_rows}">'
                '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        + "".join(body) + "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path
