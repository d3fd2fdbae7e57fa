"""Hostile uploads (docs/architecture.md, Cost targets): tiny files that cost huge resources when read naively.

Each maker writes its file quickly and in little memory, so tests can build them on the fly.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl


def pixel_bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG whose header declares width × height pixels (400 megapixels by default) with almost
    no data behind it: a few hundred bytes, as a crafted upload would be."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
            + chunk(b"IEND", b""))


def _rewrite_sheet(src: Path, dest: Path, rewrite) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                rewrite(zout, item, data)
            else:
                zout.writestr(item, data)
    return dest


def row_bomb_xlsx(path: Path, headers: list[str], row: list, number: int = 30_000_000) -> Path:
    """A valid .xlsx of ~5 KB: the headers on row 1 and one data row numbered `number`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    ws.append(row)
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)

    def rewrite(zout, item, data):
        data = data.replace(b'r="2"', f'r="{number}"'.encode())
        for letter in "ABCDEFGHIJ":
            data = data.replace(f'r="{letter}2"'.encode(), f'r="{letter}{number}"'.encode())
        data = data.replace(b":D2\"", f":D{number}\"".encode())
        zout.writestr(item, data)

    return _rewrite_sheet(plain, path, rewrite)


def zip_bomb_xlsx(path: Path, headers: list[str], unzipped: int = 315_000_000) -> Path:
    """A valid .xlsx of ~1 MB whose sheet unzips to `unzipped` bytes of XML (rows of one string)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)

    def rewrite(zout, item, data):
        head, rest = data.split(b"</sheetData>")
        row = b'<row><c t="inlineStr"><is><t>' + b"A" * 64 + b"</t></is></c></row>"
        block = row * 20_000
        with zout.open(item.filename, "w", force_zip64=True) as f:
            f.write(head)
            written = 0
            while written < unzipped:
                f.write(block)
                written += len(block)
            f.write(b"</sheetData>" + rest)

    return _rewrite_sheet(plain, path, rewrite)


def sparse_xls(path: Path, headers: list[str], row: int = 65_535, column: int = 150) -> Path:
    """A ~6 KB .xls with the headers and one cell far away: read as a dense range it is
    65,536 × 151 cells (~10 million)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for i, h in enumerate(headers):
        ws.write(0, i, h)
    ws.write(row, column, "x")
    wb.save(str(path))
    return path


def shared_strings_xlsx(path: Path, headers: list[str], rows: int, length: int, seed: int = 1) -> Path:
    """A valid .xlsx, written by hand in little memory, whose cells are all different strings of
    `length` random characters, held in xl/sharedStrings.xml as Excel writes them: `rows` data rows
    of len(headers) cells. Random text barely compresses: 100,000 rows × 3 cells of 60 letters is
    a 19 MB file with 20 MB of shared strings."""
    import base64
    import random

    rnd = random.Random(seed)
    cols = len(headers)
    letters = [chr(65 + i) for i in range(cols)]
    count = cols * (rows + 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '</Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/>'
            '</Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            '</Relationships>'))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b"<sheetData>")
            index = 0
            for r in range(1, rows + 2):
                cells = []
                for letter in letters:
                    cells.append(f'<c r="{letter}{r}" t="s"><v>{index}</v></c>')
                    index += 1
                f.write(f'<row r="{r}">{"".join(cells)}</row>'.encode())
            f.write(b"</sheetData></worksheet>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    f'count="{count}" uniqueCount="{count}">'.encode())
            for h in headers:
                f.write(f"<si><t>{h}</t></si>".encode())
            per_block = 1000 * cols  # random letters and digits, made in blocks (fast)
            for start in range(0, rows * cols, per_block):
                n = min(per_block, rows * cols - start)
                text = base64.b64encode(rnd.randbytes(n * length)).replace(b"+", b"x").replace(b"/", b"y")
                f.write(b"".join(b"<si><t>" + text[i * length:(i + 1) * length] + b"</t></si>"
                                 for i in range(n)))
            f.write(b"</sst>")
    return path
