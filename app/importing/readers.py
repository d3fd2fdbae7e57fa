"""Reading .xlsx / .xls / .ods / .csv uploads into rows, and turning cell values into Python values.

Everything here is about the *file*: what a person typed in Excel/WPS (Chinese labels or codes,
dates in several spellings, numbers where text was meant). Domain rules live in the importers of
each module; this module only says "this cell is not a date" with the row and column.

Which library reads the workbooks: python-calamine, chosen over openpyxl (read-only) after
measuring both on the same files (figures in notes/benchmarks.md): it is many times faster (the
200,000-row import must take ≤ 30 s; openpyxl spends a large part of that budget just reading),
it reads .xls and .ods as well (openpyxl reads only .xlsx), and it reads every row whatever the
<dimension> says (openpyxl trusts it, and silently drops rows when it lies). Its one weakness is that it holds the
sheet as a dense range (rows × columns cells), so a sparse or huge sheet costs memory; that is
why every workbook is checked *before* calamine sees it (`check_workbook`): the zip members'
declared sizes (total and compression ratio), and for .xlsx/.ods a streaming scan of the sheet
XML for the highest row and column actually used. A .xls is bounded by its format (65,536 rows
× 256 columns) and by the upload size limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree

import olefile
from python_calamine import CalamineError, CalamineWorkbook

from app.errors import DomainError
from app.formatting import read_date
from app.labels import lookup
from app.sanitize import strip_controls

SUPPORTED_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
NOT_XLSX = "文件不是有效的 Excel (.xlsx) 文件"
NOT_READABLE = {
    ".xlsx": NOT_XLSX,
    ".xls": "文件不是有效的 Excel 97-2003 (.xls) 文件",
    ".ods": "文件不是有效的 OpenDocument 表格 (.ods) 文件",
}

# Limits for every workbook, checked before it is read (hostile uploads: docs/architecture.md, Cost
# targets). The largest real import (200,000 attendance rows) fits well inside them (notes/benchmarks.md).
MAX_ROWS = 300_000
MAX_COLUMNS = 200
MAX_CELLS = 4_000_000  # rows × columns of the used range
MAX_UNZIPPED = 250 * 1024 * 1024
MAX_FILE_BYTES = 100 * 1024 * 1024  # the web caps uploads lower (MAX_CONTENT_LENGTH)
MAX_RATIO = 100  # uncompressed / compressed for a large member; XML of real sheets is ~10–20
# What reading an .xlsx may cost (a small file of many unique strings costs far more: notes/benchmarks.md): the reader
# keeps every shared string and a copy in each cell that uses it, on top of the used range.
READ_BUDGET = 128 * 1024 * 1024
BYTES_PER_CELL = 72  # a cell of the used range (as read, then as the range)
BYTES_PER_STRING = 24  # a shared string's own allocation besides its text
MAX_SHARED_STRINGS_BYTES = 60 * 1024 * 1024
MAX_CELL_TEXT_BYTES = 32_767 * 4 + 64  # Excel's cell limit is 32,767 characters
HEADER_SEARCH_ROWS = 10
TOTAL_ROW_WORDS = {"合计", "总计", "小计", "合计：", "总计："}


@dataclass(frozen=True)
class Problem:
    """One reason an import is refused. `row` is the row number in the sheet as Excel shows it."""

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

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems
        # how many were found: more than listed when a streamed import kept only the first ones
        self.total = max(total or 0, len(problems))
        super().__init__(f"导入被拒绝：共 {self.total} 个问题，未写入任何数据")


def refuse(message: str, row: int | None = None, column: str | None = None) -> ImportRefused:
    return ImportRefused([Problem(row, column, message)])


@dataclass(frozen=True)
class Column:
    """One importable column: the field it fills, its Chinese and English header, how to read it.

    kind: text | id (ID number: text, 18 digits kept) | date | bool | enum (one of `mapping`'s
    codes or labels) | number. `as_text` marks digit strings (phone, certificate number) that the
    template formats as text so Excel keeps them whole."""

    field: str
    zh: str
    en: str
    required: bool = False
    kind: str = "text"
    mapping: dict[str, str] | None = None
    label: str = ""  # what the value is called in messages (defaults to zh)
    max_length: int | None = None
    example: Any = None
    as_text: bool = False
    hint: str = ""  # a line for the template's 填写说明 sheet
    aliases: tuple[str, ...] = ()  # other headers offices write for this column (是否在执法岗位)
    value_aliases: tuple[tuple[str, str], ...] = ()  # (older label, code) an enum also accepts (调离)

    @property
    def names(self) -> tuple[str, ...]:
        """Every header that means this column: Chinese, English and the aliases."""
        return (self.zh, self.en, *self.aliases)

    @property
    def noun(self) -> str:
        return self.label or self.zh

    @property
    def choices(self) -> list[str]:
        if self.kind == "bool":
            return ["是", "否"]
        return list(self.mapping.values()) if self.mapping else []


@dataclass
class Table:
    """A sheet as read: the header row found, the headers (in file order) and the data rows.

    `rows` yields (row number, {header: value}) lazily; reading it may add to `problems`
    (cells under no header). `positions` maps each header to its 0-based column in the sheet."""

    headers: list[str]
    header_row: int = 1
    positions: dict[str, int] = field(default_factory=dict)
    rows: Iterable[tuple[int, dict[str, Any]]] = ()
    problems: list[Problem] = field(default_factory=list)


class ParsedRows:
    """An upload already read once, its rows kept as JSON lines in a file (app.imports.cache):
    reading it again costs a line at a time, whatever the workbook held."""

    TAGS = {"d": date.fromisoformat, "dt": datetime.fromisoformat, "t": time.fromisoformat,
            "td": lambda s: timedelta(seconds=s)}

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def encode(cls, value: Any) -> Any:
        """A cell value JSON cannot hold as it is (json.dumps' `default`)."""
        if isinstance(value, datetime):
            return {"dt": value.isoformat()}
        if isinstance(value, date):
            return {"d": value.isoformat()}
        if isinstance(value, time):
            return {"t": value.isoformat()}
        if isinstance(value, timedelta):
            return {"td": value.total_seconds()}
        return str(value)

    @classmethod
    def _decode(cls, obj: dict) -> Any:
        (tag, value), = obj.items()
        return cls.TAGS[tag](value)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                yield tuple(json.loads(line, object_hook=self._decode))


def extension(filename: str) -> str:
    return Path(filename or "").suffix.lower()


def unsupported_message(filename: str) -> str:
    ext = extension(filename) or "（无扩展名）"
    hint = "，请在 Excel/WPS 中另存为 .xlsx" if ext in (".et", ".numbers", ".xlsb") else ""
    return f"不支持的文件类型“{ext}”：请使用 .xlsx、.xls、.ods 或 .csv 文件{hint}"


def _bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


# --- limits --------------------------------------------------------------------------------------

_TOO_BIG = "文件过大：{what}（上限 {limit}），请拆分成几个文件分别导入"
_TOO_MUCH = ("文件内容过多：{what}，读取约需 {need:,} MB 内存（上限 {limit:,} MB），"
             "请拆分成几个文件分别导入，或删去不需要导入的列")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_ROW_NUMBER = re.compile(rb"\br=\"(\d+)\"")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,4})\d+\"")
_SHARED_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\bt=\"s\"")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_size(rows: int, columns: int) -> None:
    if rows > MAX_ROWS:
        raise refuse(_TOO_BIG.format(what=f"工作表用到了第 {rows:,} 行", limit=f"{MAX_ROWS:,} 行"))
    if columns > MAX_COLUMNS:
        raise refuse(_TOO_BIG.format(what=f"工作表用到了第 {columns:,} 列",
                                     limit=f"{MAX_COLUMNS} 列"))
    if rows * columns > MAX_CELLS:
        raise refuse(_TOO_BIG.format(what=f"工作表有 {rows:,} 行 × {columns} 列",
                                     limit=f"{MAX_CELLS:,} 个单元格"))


def _scan_xlsx_sheet(stream: BinaryIO) -> tuple[int, int]:
    """The highest row and column a sheet's XML uses, read in 1 MB pieces (never whole); returns
    the cells of its used range and how many cells refer to a shared string."""
    max_row = rows_seen = max_col = shared = 0
    tail = b""
    while True:
        piece = stream.read(1 << 20)
        if not piece:
            break
        text = tail + piece
        cut = text.rfind(b">") + 1  # scan whole tags only; keep the rest for the next piece
        body, tail = text[:cut], text[cut:]
        for m in _ROW_TAG.finditer(body):
            rows_seen += 1
            number = _ROW_NUMBER.search(m.group(0))
            if number:
                max_row = max(max_row, int(number.group(1)))
        for m in _CELL_REF.finditer(body):
            max_col = max(max_col, _column_number(m.group(1)))
        shared += len(_SHARED_CELL.findall(body))
        if len(tail) > 1 << 20:
            raise refuse(NOT_XLSX)
        _check_size(max(max_row, rows_seen), max_col)
    return max(max_row, rows_seen) * max_col, shared


_SI = re.compile(rb"<(/?)(?:\w+:)?si\b")


def _scan_shared_strings(stream: BinaryIO) -> tuple[int, int]:
    """How many strings xl/sharedStrings.xml holds and the longest one (in bytes of XML), read
    in 1 MB pieces (never whole)."""
    count = longest = 0
    base, start, tail = 0, None, b""  # base: the offset of text[0] in the stream
    while True:
        piece = stream.read(1 << 20)
        text = tail + piece
        cut = max(len(text) - 16, 0) if piece else len(text)  # a tag cut in two: next round
        for m in _SI.finditer(text):
            if m.start() >= cut:
                break
            if m.group(1):
                if start is not None:
                    longest = max(longest, base + m.start() - start)
                start = None
            else:
                count += 1
                start = base + m.start()
        if not piece:
            return count, longest
        base += cut
        tail = text[cut:]


def _check_reading_cost(cells: int, shared: int, strings: int, strings_bytes: int,
                        longest: int) -> None:
    """Refuse a workbook whose reading would take more memory than READ_BUDGET. The reader holds
    the sheet's used range (BYTES_PER_CELL a cell), every shared string (its text and
    BYTES_PER_STRING) and, in each cell that refers to one, a copy of its text. Estimated from
    what the zip and a streaming scan tell before reading; measured by
    scripts/measure_import_preview.py (tests/ops/test_import_preview_memory.py)."""
    if longest > MAX_CELL_TEXT_BYTES:
        raise refuse(f"文件中有超长的文字（一个单元格约 {longest // 3:,} 个字以上，上限 32,767 个字），"
                     "请检查文件是否正确")
    text = strings_bytes / strings if strings else 0  # a string's XML, about its text's size
    cost = cells * BYTES_PER_CELL + strings * BYTES_PER_STRING + strings_bytes + shared * text
    if cost > READ_BUDGET:
        raise refuse(_TOO_MUCH.format(
            what=f"工作表有 {cells:,} 个单元格、{strings:,} 段不同的文字（共 {strings_bytes / 1048576:,.0f} MB）",
            need=round(cost / 1048576), limit=READ_BUDGET // 1048576))


def _scan_ods_content(stream: BinaryIO) -> None:
    """Rows and columns an .ods sheet uses, counting repeats (a row "repeated 30,000,000 times")
    up to the last row that has a value: trailing empty repeats are how LibreOffice pads a sheet."""
    table = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    office = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    row_tag, cell_tags = f"{table}table-row", (f"{table}table-cell", f"{table}covered-table-cell")
    rows = pending = 0
    for _event, el in ElementTree.iterparse(stream, events=("end",)):
        if el.tag == f"{table}table":
            rows = pending = 0
        if el.tag != row_tag:
            continue
        repeat = int(el.get(f"{table}number-rows-repeated") or 1)
        columns = col_pending = 0
        for cell in el:
            if cell.tag not in cell_tags:
                continue
            span = int(cell.get(f"{table}number-columns-repeated") or 1)
            if cell.get(f"{office}value-type") or len(cell):
                columns += col_pending + span
                col_pending = 0
            else:
                col_pending += span
        if columns:
            rows += pending + repeat
            pending = 0
        else:
            pending += repeat
        el.clear()
        _check_size(rows, columns)


# BIFF8 records that put a cell at (row, column): NUMBER, LABEL, LABELSST, RK, BOOLERR, FORMULA,
# BLANK, RSTRING (row and column first); MULRK and MULBLANK (row, first column … last column).
_BIFF_CELLS = {0x0203, 0x0204, 0x00FD, 0x027E, 0x0205, 0x0006, 0x0201, 0x00D6}
_BIFF_SPANS = {0x00BD, 0x00BE}


def _scan_xls(data: bytes) -> None:
    """The highest row and column an .xls (BIFF8 in an OLE container) puts a cell in: one cell at
    row 65,536, column 256 makes the reader hold 16 million cells (1 GB)."""
    try:
        ole = olefile.OleFileIO(data)
    except Exception:
        raise refuse(NOT_READABLE[".xls"]) from None
    with ole:
        name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
        if name is None:
            raise refuse(NOT_READABLE[".xls"])
        stream = ole.openstream(name).read()
    max_row = max_col = -1
    pos, end = 0, len(stream) - 4
    unpack = struct.unpack_from
    while pos <= end:
        kind, length = unpack("<HH", stream, pos)
        body = pos + 4
        if kind in _BIFF_CELLS and length >= 4:
            row, col = unpack("<HH", stream, body)
            max_row, max_col = max(max_row, row), max(max_col, col)
        elif kind in _BIFF_SPANS and length >= 6:
            row, = unpack("<H", stream, body)
            last, = unpack("<H", stream, body + length - 2)
            max_row, max_col = max(max_row, row), max(max_col, last)
        pos = body + length
    _check_size(max_row + 1, max_col + 1)


def _check_xlsx(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Refuse an .xlsx whose worksheets and shared strings would cost too much to read."""
    cells = shared = 0
    for m in members:
        if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml"):
            with zf.open(m) as stream:
                used, refs = _scan_xlsx_sheet(stream)
            cells, shared = max(cells, used), max(shared, refs)
    strings = next((m for m in members if m.filename.lower() == "xl/sharedstrings.xml"),
                   None)
    if strings is not None:
        if strings.file_size > MAX_SHARED_STRINGS_BYTES:
            raise refuse(_TOO_BIG.format(
                what=f"文字部分（共享字符串）解压后 {strings.file_size / 1048576:,.0f} MB",
                limit=f"{MAX_SHARED_STRINGS_BYTES // 1048576} MB"))
        with zf.open(strings) as stream:
            count, longest = _scan_shared_strings(stream)
        _check_reading_cost(cells, shared, count, strings.file_size, longest)
    else:
        _check_reading_cost(cells, 0, 0, 0, 0)


def check_workbook(data: bytes, ext: str) -> None:
    """Refuse, before any reading, a workbook whose reading would cost too much (hostile uploads)."""
    if len(data) > MAX_FILE_BYTES:
        raise refuse(_TOO_BIG.format(what=f"{len(data) / 1048576:,.0f} MB",
                                     limit=f"{MAX_FILE_BYTES // 1048576} MB"))
    if ext == ".xls":
        _scan_xls(data)
        return
    if ext not in (".xlsx", ".ods"):
        return
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise refuse(NOT_READABLE[ext]) from None
    with zf:
        members = zf.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_UNZIPPED:
            raise refuse(_TOO_BIG.format(what=f"解压后 {total / 1048576:,.0f} MB",
                                         limit=f"{MAX_UNZIPPED // 1048576} MB"))
        for m in members:
            if m.file_size > 10 * 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise refuse(f"文件异常：其中的 {m.filename} 压缩比过高"
                             f"（{m.compress_size:,} 字节解压后为 {m.file_size:,} 字节），拒绝读取")
        try:
            if ext == ".xlsx":
                _check_xlsx(zf, members)
            elif "content.xml" in zf.namelist():
                with zf.open("content.xml") as stream:
                    _scan_ods_content(stream)
        except ImportRefused:
            raise
        except Exception:  # a broken member: let the reader say the file is not readable
            raise refuse(NOT_READABLE[ext]) from None


# --- reading -------------------------------------------------------------------------------------


def raw_rows(source: str | Path | bytes | BinaryIO, filename: str, *,
             limits: bool = True) -> Iterator[tuple[Any, ...]]:
    """Every row of the first sheet (or the CSV) from row 1, as tuples of cell values ('' or None
    for an empty cell). Raises ImportRefused for a file that cannot or must not be read.

    `limits=False` (the command line): a CSV file on disk is read as a stream, a piece at a time,
    with no cap on its size or rows — an operator imports a province's year in one file. The
    web keeps every limit (the upload is in memory; MAX_ROWS bounds what a request may cost)."""
    ext = extension(filename)
    if ext not in SUPPORTED_EXTENSIONS:
        raise refuse(unsupported_message(filename))
    if isinstance(source, ParsedRows):
        return source.rows()
    if ext == ".csv" and not limits and isinstance(source, str | Path):
        return _csv_file_rows(Path(source))
    data = _bytes(source)
    if ext == ".csv":
        if len(data) > MAX_FILE_BYTES:
            raise refuse(_TOO_BIG.format(what=f"{len(data) / 1048576:,.0f} MB",
                                         limit=f"{MAX_FILE_BYTES // 1048576} MB"))
        return _csv_rows(data)
    check_workbook(data, ext)
    return _workbook_rows(data, ext)


def _workbook_rows(data: bytes, ext: str) -> Iterator[tuple[Any, ...]]:
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not wb.sheet_names:
            raise refuse("Excel 文件中没有工作表")
        sheet = wb.get_sheet_by_index(0)
        start = sheet.start
    except ImportRefused:
        raise
    except (CalamineError, Exception):  # calamine raises its own errors and ValueError/OSError
        raise refuse(NOT_READABLE[ext]) from None

    def rows() -> Iterator[tuple[Any, ...]]:
        # iter_rows yields from row 1 but from the first used column: put the columns back.
        pad = ("",) * (start[1] if start else 0)
        try:
            for r in sheet.iter_rows():
                yield pad + tuple(r)
        except CalamineError:
            raise refuse(NOT_READABLE[ext]) from None
        finally:
            wb.close()

    return rows()


def _csv_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Chinese Excel/WPS save "CSV (逗号分隔)" in GBK; accept it rather than show mojibake.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise refuse("CSV 文件的编码无法识别，请另存为“CSV UTF-8”格式") from None
    if "\x00" in text:
        raise refuse("CSV 文件内容不是文本，请检查是否选错了文件")
    del data

    return _checked_csv(io.StringIO(text, newline=""), MAX_ROWS)


def _checked_csv(lines: Iterable[str], max_rows: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The CSV rows of `lines`, refused past `max_rows` rows (None: no limit), past MAX_COLUMNS
    columns, or when the CSV is malformed."""
    try:
        for number, r in enumerate(csv.reader(lines), start=1):
            if max_rows is not None and number > max_rows:
                raise refuse(_TOO_BIG.format(what=f"超过 {max_rows:,} 行", limit=f"{max_rows:,} 行"))
            if len(r) > MAX_COLUMNS:
                raise refuse(_TOO_BIG.format(what=f"第 {number} 行有 {len(r):,} 列",
                                             limit=f"{MAX_COLUMNS} 列"))
            yield tuple(r)
    except csv.Error as exc:
        raise refuse(f"CSV 文件格式错误：{exc}") from None


def _csv_encoding(path: Path) -> str:
    """The encoding of a CSV file on disk, checked a megabyte at a time (never read whole):
    UTF-8 (with or without BOM), else GB18030 (what Chinese Excel/WPS save); refused when
    neither decodes it or it holds NUL characters (not a text file)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while piece := f.read(1 << 20):
                    if "\x00" in decoder.decode(piece):
                        raise refuse("CSV 文件内容不是文本，请检查是否选错了文件")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise refuse("CSV 文件的编码无法识别，请另存为“CSV UTF-8”格式")


def _csv_file_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """A CSV file's rows as a stream: memory stays flat whatever its size."""
    encoding = _csv_encoding(path)

    def rows() -> Iterator[tuple[Any, ...]]:
        with path.open(encoding=encoding, newline="") as f:
            yield from _checked_csv(f)

    return rows()


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _header_text(v: Any) -> str:
    return ("" if v is None else str(v)).strip()


def _names_known(row: tuple[Any, ...], known: set[str]) -> int:
    return sum(1 for v in row if isinstance(v, str) and _norm_header(v) in known)


def _is_total_row(row: tuple[Any, ...]) -> bool:
    first = next((v for v in row if not _blank(v)), None)
    return isinstance(first, str) and re.sub(r"\s", "", first) in TOTAL_ROW_WORDS


def read_table(source: str | Path | bytes | BinaryIO, filename: str,
               columns: list[Column] | None = None, *, limits: bool = True) -> Table:
    """Find the header row and return the table of data rows below it (read lazily).

    The header row is the first of the first 10 rows whose cells name at least two of `columns`
    (Chinese or English); rows above it (titles, notes) are ignored. Without `columns`, or when
    no row qualifies, it is the first non-empty row. Empty rows and a trailing 合计 row are skipped.
    Raises ImportRefused for a file that cannot be read or has no data rows."""
    source_rows = raw_rows(source, filename, limits=limits)
    known = {_norm_header(n) for c in columns or [] for n in c.names}
    head: list[tuple[int, tuple[Any, ...]]] = []
    for number, row in enumerate(source_rows, start=1):
        if len(head) >= HEADER_SEARCH_ROWS:
            head.append((number, row))
            break
        head.append((number, row))
    non_empty = [(n, r) for n, r in head[:HEADER_SEARCH_ROWS] if any(not _blank(v) for v in r)]
    if not non_empty:
        raise refuse("文件是空的：应有一行列名（表头），其下每行一条数据")
    header_at = next((i for i, (_n, r) in enumerate(head[:HEADER_SEARCH_ROWS])
                      if known and _names_known(r, known) >= 2), None)
    if header_at is None:
        header_at = head.index(non_empty[0])
    header_row, header_cells = head[header_at][0], [_header_text(v) for v in head[header_at][1]]
    positions = {h: i for i, h in enumerate(header_cells) if h}
    table = Table(headers=list(positions), header_row=header_row, positions=positions)
    rest = head[header_at + 1:]

    def data_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        def numbered():
            yield from rest
            yield from enumerate(source_rows, start=(head[-1][0] + 1) if head else 1)

        held = None  # a 合计 row, kept back until we know whether it is the last one
        count = 0
        for number, raw in numbered():
            if all(_blank(v) for v in raw):
                continue
            if held is not None:
                count += 1
                yield _cells(*held)
                held = None
            if _is_total_row(raw):
                held = (number, raw)
                continue
            count += 1
            yield _cells(number, raw)
        if not count:
            table.problems.append(Problem(None, None, "文件中只有表头，没有数据行"))

    _cells = _cell_reader(table, header_cells)

    table.rows = data_rows()
    return table


def _cell_reader(table: Table, header_cells: list[str]):
    """(number, raw row) -> (number, {header: cell}); a cell with a value under no header is a
    problem of the table's (only those cells are looked at: a row costs its columns)."""
    width = len(header_cells)
    unnamed = [i for i, h in enumerate(header_cells) if not h]  # columns without a header
    placed = list(table.positions.items())

    def cells(number: int, raw: tuple[Any, ...]) -> tuple[int, dict[str, Any]]:
        if unnamed or len(raw) > width:
            for i in [*unnamed, *range(width, len(raw))]:
                if i < len(raw) and not _blank(raw[i]):
                    table.problems.append(Problem(number, f"第 {i + 1} 列",
                                                  f"这一列有数据但表头（第 {table.header_row} 行）没有列名"))
        if len(raw) >= width:
            return number, {h: raw[i] for h, i in placed}
        return number, {h: (raw[i] if i < len(raw) else None) for h, i in placed}

    return cells


# --- headers -------------------------------------------------------------------------------------


def _norm_header(h: str) -> str:
    return re.sub(r"[\s*＊]", "", h).lower()


# --- values --------------------------------------------------------------------------------------


class CellError(ValueError):
    pass


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
    return strip_controls(str(value)).strip()  # a pasted \x0b never reaches the database


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
    try:
        return read_date(to_text(value))  # the spellings the web forms take too (app/formatting.py)
    except ValueError as exc:
        raise CellError(str(exc)) from None


_TRUE = {"是", "yes", "y", "true", "1", "√", "✓", "✔", "t", "对"}
_FALSE = {"否", "no", "n", "false", "0", "×", "✗", "✘", "x", "f", "不是"}


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
    raise CellError(f"“{to_text(value)}”应为 是/否（也可写 √/×、Y/N、yes/no、1/0）")


def to_enum(value: Any, col: Column) -> str | None:
    if _blank(value):
        return None
    assert col.mapping is not None
    code = lookup(col.mapping, to_text(value)) or dict(col.value_aliases).get(to_text(value))
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
