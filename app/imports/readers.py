"""Reading .xlsx / .csv uploads into rows, and turning cell values into Python values.

Everything here is about the *file*: what a person typed in Excel/WPS (Chinese labels or codes,
dates in several spellings, numbers where text was meant). Domain rules live in the services of
each module; this module only says "this cell is not a date" with the row and column.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from app.errors import DomainError
from app.labels import lookup

SUPPORTED_EXTENSIONS = (".xlsx", ".csv")
NOT_XLSX = "文件不是有效的 Excel (.xlsx) 文件"


@dataclass(frozen=True)
class Problem:
    """One reason an import is refused. `row` is the Excel row number (the header is row 1)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column:
            return f"第 {self.row} 行，列“{self.column}”：{self.message}"
        return f"第 {self.row} 行：{self.message}"


class ImportRefused(DomainError):
    """The file was refused; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"导入被拒绝：共 {len(problems)} 个问题，未写入任何数据")


@dataclass(frozen=True)
class Column:
    """One importable column: the field it fills, its Chinese and English header, how to read it."""

    field: str
    zh: str
    en: str
    required: bool = False
    kind: str = "text"  # text | id | date | bool | enum
    mapping: dict[str, str] | None = None
    label: str = ""  # what the value is called in messages (defaults to zh)
    max_length: int | None = None
    example: Any = None

    @property
    def noun(self) -> str:
        return self.label or self.zh


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def extension(filename: str) -> str:
    return Path(filename or "").suffix.lower()


def unsupported_message(filename: str) -> str:
    ext = extension(filename) or "（无扩展名）"
    hint = "，请在 Excel/WPS 中另存为 .xlsx" if ext in (".xls", ".et", ".ods") else ""
    return f"不支持的文件类型“{ext}”：请使用 .xlsx 或 .csv 文件{hint}"


def _bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


def read_table(source: str | Path | bytes | BinaryIO, filename: str) -> Table:
    """Read the first sheet (or the CSV) into headers and non-empty data rows.

    Raises ImportRefused for a file that cannot be read, an empty sheet or a header-only sheet.
    """
    ext = extension(filename)
    if ext not in SUPPORTED_EXTENSIONS:
        raise ImportRefused([Problem(None, None, unsupported_message(filename))])
    data = _bytes(source)
    raw_rows = _xlsx_rows(data) if ext == ".xlsx" else _csv_rows(data)
    return _table(raw_rows)


def _xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportRefused([Problem(None, None, NOT_XLSX)])
    try:
        return _fast_xlsx_rows(data)
    except ImportRefused:
        raise
    except Exception:  # anything unusual: let openpyxl have a go
        return _openpyxl_rows(data)


def _openpyxl_rows(data: bytes) -> list[tuple[Any, ...]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, BadZipFile…)
        raise ImportRefused([Problem(None, None, NOT_XLSX)]) from None
    try:
        if not wb.worksheets:
            raise ImportRefused([Problem(None, None, "Excel 文件中没有工作表")])
        try:
            return [tuple(r) for r in wb.worksheets[0].iter_rows(min_row=1, values_only=True)]
        except Exception:
            raise ImportRefused([Problem(None, None, NOT_XLSX)]) from None
    finally:
        wb.close()


# A streaming reader of the first sheet's XML. openpyxl builds an object per cell and needs ~3 s
# for 10,000 rows × 10 columns; this needs a fraction of that (DESIGN §7: 10,000 officers ≤ 5 s).
# It yields the same values as openpyxl with data_only=True: str, int, float, bool, datetime.
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# Chinese-locale built-in date formats (年/月/日) that openpyxl's table does not list.
_CJK_DATE_FORMATS = set(range(27, 37)) | set(range(50, 59))


def _xml(zf: zipfile.ZipFile, name: str):
    from xml.etree import ElementTree

    return ElementTree.fromstring(zf.read(name))


def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _shared_strings(zf: zipfile.ZipFile, name: str | None) -> list[str]:
    if not name or name not in zf.namelist():
        return []
    out = []
    for si in _xml(zf, name).iter(f"{_NS}si"):
        parts = [t.text or "" for t in si.findall(f"{_NS}t")]
        parts += [t.text or "" for r in si.findall(f"{_NS}r") for t in r.findall(f"{_NS}t")]
        out.append("".join(parts))  # phonetic runs (rPh) are left out, as Excel shows them
    return out


def _date_styles(zf: zipfile.ZipFile, name: str | None) -> set[int]:
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if not name or name not in zf.namelist():
        return set()
    root = _xml(zf, name)
    custom = {int(f.get("numFmtId")): f.get("formatCode") or "" for f in root.iter(f"{_NS}numFmt")}
    dates = set()
    xfs = root.find(f"{_NS}cellXfs")
    for i, xf in enumerate(xfs.findall(f"{_NS}xf") if xfs is not None else []):
        fid = int(xf.get("numFmtId") or 0)
        fmt = custom.get(fid) or BUILTIN_FORMATS.get(fid)
        if fid in _CJK_DATE_FORMATS and fid not in custom or (fmt and is_date_format(fmt)):
            dates.add(i)
    return dates


def _fast_xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    from xml.etree import ElementTree

    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    zf = zipfile.ZipFile(io.BytesIO(data))
    workbook = _xml(zf, "xl/workbook.xml")
    sheets = workbook.find(f"{_NS}sheets")
    if sheets is None or not len(sheets):
        raise ImportRefused([Problem(None, None, "Excel 文件中没有工作表")])
    rels = {r.get("Id"): r for r in _xml(zf, "xl/_rels/workbook.xml.rels")}
    sheet_part = _part("xl/workbook.xml", rels[sheets[0].get(f"{_REL_NS}id")].get("Target"))
    by_type = {r.get("Type", "").rsplit("/", 1)[-1]: _part("xl/workbook.xml", r.get("Target"))
               for r in rels.values()}
    strings = _shared_strings(zf, by_type.get("sharedStrings"))
    date_styles = _date_styles(zf, by_type.get("styles"))
    pr = workbook.find(f"{_NS}workbookPr")
    epoch = CALENDAR_MAC_1904 if pr is not None and pr.get("date1904") in ("1", "true") \
        else CALENDAR_WINDOWS_1900

    rows: list[tuple[Any, ...]] = []
    row_tag, cell_tag, v_tag, is_tag, t_tag = (f"{_NS}row", f"{_NS}c", f"{_NS}v", f"{_NS}is",
                                               f"{_NS}t")
    with zf.open(sheet_part) as stream:
        for _event, el in ElementTree.iterparse(stream, events=("end",)):
            if el.tag != row_tag:
                continue
            number = int(el.get("r") or len(rows) + 1)
            while len(rows) < number - 1:  # rows with nothing in them are not written
                rows.append(())
            values: list[Any] = []
            for c in el.iter(cell_tag):
                ref = c.get("r")
                if ref:
                    col = column_index_from_string(ref.rstrip("0123456789"))
                    values.extend([None] * (col - 1 - len(values)))
                kind = c.get("t", "n")
                v = c.find(v_tag)
                text = v.text if v is not None else None
                if kind == "inlineStr":
                    node = c.find(is_tag)
                    value: Any = "".join(t.text or "" for t in node.iter(t_tag)) if node is not None else None
                elif text is None:
                    value = None
                elif kind == "s":
                    value = strings[int(text)]
                elif kind == "b":
                    value = text == "1"
                elif kind == "n":
                    value = float(text) if any(ch in text for ch in ".eE") else int(text)
                    if int(c.get("s") or 0) in date_styles:
                        value = from_excel(value, epoch)
                elif kind == "d":
                    value = datetime.fromisoformat(text)
                else:  # str (formula result), e (error such as #N/A)
                    value = text
                values.append(value)
            rows.append(tuple(values))
            el.clear()
    return rows


def _csv_rows(data: bytes) -> list[tuple[Any, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Chinese Excel/WPS save "CSV (逗号分隔)" in GBK; accept it rather than show mojibake.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportRefused([Problem(None, None, "CSV 文件的编码无法识别，请另存为“CSV UTF-8”格式")]) from None
    if "\x00" in text:
        raise ImportRefused([Problem(None, None, "CSV 文件内容不是文本，请检查是否选错了文件")])
    try:
        return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise ImportRefused([Problem(None, None, f"CSV 文件格式错误：{exc}")]) from None


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _table(raw_rows: Iterable[tuple[Any, ...]]) -> Table:
    rows = list(raw_rows)
    if not rows or all(_blank(v) for v in rows[0]):
        if any(not _blank(v) for r in rows for v in r):
            raise ImportRefused([Problem(1, None, "第一行应为列名（表头），但它是空的")])
        raise ImportRefused([Problem(None, None, "文件是空的：第一行应为列名，从第二行起每行一条数据")])
    header_cells = [("" if v is None else str(v)).strip() for v in rows[0]]
    headers = [h for h in header_cells if h]
    positions = [(i, h) for i, h in enumerate(header_cells) if h]
    problems: list[Problem] = []
    table = Table(headers=headers)
    for number, raw in enumerate(rows[1:], start=2):
        if all(_blank(v) for v in raw):
            continue
        for i, v in enumerate(raw):
            if (i >= len(header_cells) or not header_cells[i]) and not _blank(v):
                problems.append(Problem(number, f"第 {i + 1} 列", "这一列有数据但第一行没有列名"))
        table.rows.append((number, {h: (raw[i] if i < len(raw) else None) for i, h in positions}))
    if problems:
        raise ImportRefused(problems)
    if not table.rows:
        raise ImportRefused([Problem(None, None, "文件中只有表头，没有数据行")])
    return table


# --- headers -------------------------------------------------------------------------------------


def _norm_header(h: str) -> str:
    return re.sub(r"[\s*＊]", "", h).lower()


def map_headers(headers: list[str], columns: list[Column]) -> tuple[dict[str, Column], list[Problem]]:
    """{header as in the file: Column}, and problems (unknown, repeated or missing columns) on row 1."""
    known: dict[str, Column] = {}
    for col in columns:
        known[_norm_header(col.zh)] = col
        known[_norm_header(col.en)] = col
    mapping: dict[str, Column] = {}
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for h in headers:
        col = known.get(_norm_header(h))
        if col is None:
            problems.append(Problem(1, h, f"未知的列“{h}”，可用的列：{'、'.join(c.zh for c in columns)}"))
        elif col.field in seen:
            problems.append(Problem(1, h, f"列“{h}”与列“{seen[col.field]}”重复"))
        else:
            seen[col.field] = h
            mapping[h] = col
    for col in columns:
        if col.required and col.field not in seen:
            problems.append(Problem(1, None, f"缺少必填的列“{col.zh}”（或 {col.en}）"))
    return mapping, problems


# --- values --------------------------------------------------------------------------------------


class CellError(ValueError):
    pass


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]0{1,2}:0{1,2}(?::0{1,2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def to_text(value: Any) -> str:
    """A cell as text. Whole numbers lose their '.0' (Excel stores 13800000000 as a float)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def to_id_number(value: Any) -> str:
    """An ID number cell. Excel keeps only 15 significant digits of a number, so an 18-digit
    number typed without text format has lost its last digits: say so instead of 'wrong check'."""
    if isinstance(value, float) and value >= 1e15:
        raise CellError("身份证号被 Excel 存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写")
    return to_text(value).replace(" ", "")


def to_date(value: Any) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = to_text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise CellError(f"日期“{text}”不存在") from None
    raise CellError(f"“{text}”不是有效日期，应写成 2024-03-01、2024/3/1 或 2024年3月1日")


_TRUE = {"是", "yes", "y", "true", "1", "√", "t"}
_FALSE = {"否", "no", "n", "false", "0", "×", "f"}


def to_bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = to_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"“{to_text(value)}”应为 是/否（也可写 yes/no、true/false、1/0）")


def to_enum(value: Any, col: Column) -> str | None:
    if _blank(value):
        return None
    assert col.mapping is not None
    code = lookup(col.mapping, to_text(value))
    if code is None:
        raise CellError(f"未知的{col.noun}“{to_text(value)}”，可选：{'、'.join(col.mapping.values())}")
    return code


def convert(value: Any, col: Column) -> Any:
    """Cell → Python value for `col`; None for an empty cell. Raises CellError."""
    if col.kind == "date":
        return to_date(value)
    if col.kind == "bool":
        return to_bool(value)
    if col.kind == "enum":
        return to_enum(value, col)
    text = to_id_number(value) if col.kind == "id" else to_text(value)
    if col.max_length and len(text) > col.max_length:
        raise CellError(f"{col.noun}不能超过{col.max_length}个字")
    return text or None
