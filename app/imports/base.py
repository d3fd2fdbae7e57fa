"""The import framework (issue 11): one `Importer` class per kind of data, one registry.

An importer declares its columns (Chinese and English headers, required, type, allowed values)
and implements two steps:

- `validate(rows, today=)` turns the rows read from the file into a plan, reporting every problem
  with `row.error(field, message)` (one per cell, with its row number and header);
- `apply(plan, today=)` writes the plan (flushes, never commits).

`Importer.run` reads the file (header row found, not assumed), converts each cell by its
column's type, validates, and — only when there is no problem at all — applies: all or nothing.
The CLI (`flask import KIND FILE`), the web page and the templates iterate `importers()`, so a new
kind of data is one subclass in its module, listed in IMPORTER_MODULES.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from app.imports.readers import (
    CellError,
    Column,
    ImportRefused,
    Problem,
    _norm_header,
    convert,
    read_table,
)

Source = str | Path | bytes | BinaryIO

# Modules that define importers, in the order the web page and `flask import --help` list them.
# A module that is not there (a kind being built on another branch) is skipped.
IMPORTER_MODULES = ["app.officers.imports", "app.imports.services", "app.training.imports",
                    "app.exams.imports", "app.cases.imports", "app.online.imports"]

ERRORS_HEADER = "错误说明"  # the first column of an annotated sheet, ignored when it comes back
_REGISTRY: dict[str, Importer] = {}
_CHUNK = 500  # IN (...) lists stay well under every database's parameter limit


def register(cls: type[Importer]) -> type[Importer]:
    _REGISTRY[cls.kind] = cls()
    return cls


def importers() -> dict[str, Importer]:
    """Every registered importer by kind ("officers", "certificates", …), in IMPORTER_MODULES order."""
    root = Path(__file__).resolve().parent.parent  # the `app` package
    for name in IMPORTER_MODULES:
        # only modules of this very package (an editable install elsewhere must not fill the gap)
        if root.joinpath(*name.split(".")[1:]).with_suffix(".py").exists():
            importlib.import_module(name)
    order = {name: i for i, name in enumerate(IMPORTER_MODULES)}
    return dict(sorted(_REGISTRY.items(),
                       key=lambda kv: order.get(type(kv[1]).__module__, len(order))))


def get_importer(kind: str) -> Importer:
    found = importers().get(kind)
    if found is None:
        raise ImportRefused([Problem(None, None, f"未知的导入类型“{kind}”")])
    return found


def chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


BAD = object()  # a cell that could not be read; its problem is already reported
_MISSING = object()
_MEMO_LIMIT = 100_000  # distinct values remembered per column


class Row:
    """One data row: its number in the sheet, its converted values by field, and the shared list
    of problems. `error` reports one problem per cell: the first one found is the one to fix."""

    __slots__ = ("number", "values", "headers", "problems", "bad")

    def __init__(self, number: int, values: dict[str, Any], headers: dict[str, str],
                 problems: list[Problem]):
        self.number, self.values, self.headers, self.problems = number, values, headers, problems
        self.bad: set[str] | None = None

    def get(self, name: str) -> Any:
        v = self.values.get(name)
        return None if v is BAD else v

    def has(self, name: str) -> bool:
        """The file has this column (an empty cell still counts)."""
        return name in self.values

    def is_bad(self, name: str) -> bool:
        return self.bad is not None and name in self.bad

    def error(self, name: str, message: str) -> None:
        if self.is_bad(name):
            return
        if self.bad is None:
            self.bad = set()
        self.bad.add(name)
        self.problems.append(Problem(self.number, self.headers.get(name), message))


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    noun: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    units_created: list[str] = field(default_factory=list)
    dry_run: bool = False
    text: str = ""  # the counts in the kind's own words, when "N 条（新增…）" does not fit
    entity: str = ""
    kind: str = ""
    created_ids: dict[str, list[int]] = field(default_factory=dict)  # table -> ids, for undo

    @property
    def counts(self) -> str:
        if self.text:
            return self.text
        text = f"{self.noun} {self.total} 条（新增 {self.created}，更新 {self.updated}"
        if self.unchanged:
            text += f"，无变化 {self.unchanged}"
        text += "）"
        if self.units_created:
            text += f"，新建单位 {len(self.units_created)} 个（{'、'.join(self.units_created[:10])}"
            text += "等）" if len(self.units_created) > 10 else "）"
        return text

    def summary(self) -> str:
        if self.dry_run:
            return f"校验通过，未写入任何数据（仅校验）。正式导入将导入{self.counts}"
        return f"导入{self.counts}"


@dataclass
class Sheet:
    """The rows read from a file for one importer, with where each field's column stands."""

    rows: list[Row]
    problems: list[Problem]
    headers: dict[str, str]  # field -> header as written in the file (or the column's zh name)
    mapping: dict[str, Column]  # header in the file -> column
    positions: dict[str, int]  # header in the file -> 0-based column in the sheet
    header_row: int = 1


class Importer:
    """One kind of data. Subclasses set the class attributes and implement validate/apply."""

    kind: ClassVar[str]  # URL and CLI name: "officers"
    entity: ClassVar[str]  # audit entity type: "officer"
    noun: ClassVar[str]  # "执法人员"
    help: ClassVar[str] = ""  # one line for `flask import KIND --help`
    columns: ClassVar[list[Column]]
    notes: ClassVar[list[str]] = []  # extra lines for the template's 填写说明 sheet
    defaults: ClassVar[dict[str, str]] = {}  # field -> what an absent or empty cell means

    # --- reading ---------------------------------------------------------------------------

    def map_headers(self, headers: list[str], *, ignore: Iterable[str] = (),
                    assign: dict[str, str] | None = None, header_row: int = 1
                    ) -> tuple[dict[str, Column], list[Problem]]:
        """{header as in the file: Column} and the problems (unknown, repeated or missing
        columns, reported on the header row). `ignore`: headers to leave out; `assign`: {header:
        field} chosen by the person for headers that are not recognised."""
        known: dict[str, Column] = {}
        by_field = {c.field: c for c in self.columns}
        for col in self.columns:
            known[_norm_header(col.zh)] = col
            known[_norm_header(col.en)] = col
        ignored = {_norm_header(h) for h in ignore} | {_norm_header(ERRORS_HEADER)}
        assign = assign or {}
        mapping: dict[str, Column] = {}
        seen: dict[str, str] = {}
        problems: list[Problem] = []
        for h in headers:
            if _norm_header(h) in ignored:
                continue
            col = by_field.get(assign[h]) if assign.get(h) else known.get(_norm_header(h))
            if col is None:
                problems.append(Problem(header_row, h, f"未知的列“{h}”，可用的列："
                                                       f"{'、'.join(c.zh for c in self.columns)}"))
            elif col.field in seen:
                problems.append(Problem(header_row, h, f"列“{h}”与列“{seen[col.field]}”重复"))
            else:
                seen[col.field] = h
                mapping[h] = col
        for col in self.columns:
            if col.required and col.field not in seen:
                problems.append(Problem(header_row, None, f"缺少必填的列“{col.zh}”（或 {col.en}）"))
        return mapping, problems

    def read(self, source: Source, filename: str, *, ignore: Iterable[str] = (),
             assign: dict[str, str] | None = None) -> Sheet:
        """Read and convert every cell. Raises ImportRefused for an unreadable file or wrong
        columns; cell problems are collected in the sheet's `problems`."""
        table = read_table(source, filename, self.columns)
        mapping, problems = self.map_headers(table.headers, ignore=ignore, assign=assign,
                                             header_row=table.header_row)
        if problems:
            raise ImportRefused(problems)
        headers = {col.field: h for h, col in mapping.items()}
        headers |= {col.field: col.zh for col in self.columns if col.field not in headers}
        # Each column converts each distinct cell value once (a session's title, its date and
        # hours repeat on every row of a 200,000-row sheet); `memo` holds the value or its error.
        items = [(h, col, col.kind != "id", {}) for h, col in mapping.items()]
        problems = table.problems  # the reader adds cells under no header while we iterate
        rows: list[Row] = []
        shared: dict[Any, Any] = {}  # one object per repeated value (a session's title, a date)
        for number, raw in table.rows:
            values: dict[str, Any] = {}
            row = Row(number, values, headers, problems)
            for h, col, share, memo in items:
                cell = raw.get(h)
                key = (type(cell), cell)
                try:
                    value = memo.get(key, _MISSING)
                except TypeError:  # not hashable: no cell type of the readers, but be safe
                    key, value = None, _MISSING
                if value is _MISSING:
                    try:
                        value = convert(cell, col)
                    except CellError as exc:
                        value = exc
                    else:
                        if share:
                            value = shared.setdefault((type(value), value), value)
                    if key is not None and len(memo) < _MEMO_LIMIT:
                        memo[key] = value
                if isinstance(value, CellError):
                    values[col.field] = BAD
                    row.error(col.field, str(value))
                else:
                    values[col.field] = value
            rows.append(row)
        if not rows:
            raise ImportRefused(problems or [Problem(None, None, "文件中只有表头，没有数据行")])
        if any(p.row is None for p in problems):
            raise ImportRefused([p for p in problems if p.row is None])
        return Sheet(rows, problems, headers, mapping, {h: table.positions[h] for h in mapping},
                     table.header_row)

    # --- the two steps a kind implements -------------------------------------------------------

    def validate(self, sheet: Sheet, *, today: date) -> Any:
        """Check every row (reporting with row.error) and return the plan with its counts."""
        raise NotImplementedError

    def result(self, plan: Any) -> ImportResult:
        raise NotImplementedError

    def apply(self, plan: Any, *, today: date, result: ImportResult) -> None:
        raise NotImplementedError

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """The stored records as rows of this importer's fields, in the values the import reads
        (labels for codes): exported this way and imported back, nothing is new or updated."""
        raise NotImplementedError

    def why_not_undo(self, created: dict[str, list[int]]) -> str | None:
        """A reason of this kind's own why the rows an import created (table -> ids) must stay,
        beyond the framework's checks (changed since, deleted, other records depending on them)."""
        return None

    # --- the whole import ----------------------------------------------------------------------

    def run(self, source: Source, filename: str, *, today: date, dry_run: bool = False,
            ignore: Iterable[str] = (), assign: dict[str, str] | None = None) -> ImportResult:
        """Read, validate and (unless dry_run) apply. Raises ImportRefused with every problem,
        in file order; flushes, never commits (the caller owns the transaction)."""
        sheet = self.read(source, filename, ignore=ignore, assign=assign)
        plan = self.validate(sheet, today=today)
        if sheet.problems:
            raise ImportRefused(in_file_order(sheet))
        result = self.result(plan)
        result.dry_run, result.entity, result.kind = dry_run, self.entity, self.kind
        if not dry_run:
            from app.cases.verdicts import deferred
            from app.extensions import db

            with deferred(db.session):  # the case verdicts the rows touch: re-judged once, at the end
                self.apply(plan, today=today, result=result)
            from app.audit.services import record

            record("import", self.entity, None, result.summary(), {"file": [None, filename]})
        return result


def in_file_order(sheet: Sheet) -> list[Problem]:
    """By row, then left to right as the columns stand in the file."""
    order = sheet.positions
    return sorted(sheet.problems, key=lambda p: (p.row or 0, order.get(p.column or "", 10 ** 6)))
