"""The import framework (docs/domain.md 导入): one `Importer` class per kind of data, one registry.

An importer declares its columns (Chinese and English headers, required, type, allowed values)
and implements two steps:

- `validate(rows, today=)` turns the rows read from the file into a plan, reporting every problem
  with `row.error(field, message)` (one per cell, with its row number and header);
- `apply(plan, today=)` writes the plan (flushes, never commits).

`Importer.run` reads the file (header row found, not assumed), converts each cell by its
column's type, validates, and — only when there is no problem at all — applies: all or nothing.
The CLI (`flask import KIND FILE`), the web page and the templates iterate `importers()`, so a new
kind of data is one subclass in its module, registered with `@register`; the import centre
(app/imports/kinds.py) imports every such module and names the order they are listed in.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from sqlalchemy import select

from app.audit.services import record
from app.extensions import db
from app.importing.readers import (
    CellError,
    Column,
    ImportRefused,
    Problem,
    _norm_header,
    convert,
    read_table,
)
from app.importing.similar import similar_names
from app.models.officers import Unit
from app.rules.verdicts import deferred

Source = str | Path | bytes | BinaryIO

ERRORS_HEADER = "错误说明"  # the first column of an annotated sheet, ignored when it comes back
# Columns every import leaves out without a word: a row number, an annotated sheet's own column.
ALWAYS_IGNORED = {_norm_header(h) for h in ("序号", ERRORS_HEADER)}
_REGISTRY: dict[str, Importer] = {}
# module name -> its place in the lists (the import centre sets it: app/imports/kinds.py)
_ORDER: dict[str, int] = {}
_CHUNK = 500  # IN (...) lists stay well under every database's parameter limit


def register(cls: type[Importer]) -> type[Importer]:
    _REGISTRY[cls.kind] = cls()
    return cls


def set_order(modules: Iterable[str]) -> None:
    """The order (by the importers' module names) the web page and `flask import --help` list
    the kinds in; a module not named comes after the named ones."""
    _ORDER.clear()
    _ORDER.update({name: i for i, name in enumerate(modules)})


def importers() -> dict[str, Importer]:
    """Every registered importer by kind ("officers", "certificates", …), in the centre's order."""
    return dict(sorted(_REGISTRY.items(),
                       key=lambda kv: _ORDER.get(type(kv[1]).__module__, len(_ORDER))))


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
STREAM_ROWS = 10_000  # rows a streamed import reads, checks and writes at a time (≈ 40 MB)
MAX_LISTED = 1_000  # problems a streamed import keeps to list (it counts all of them)


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
    ignored_columns: list[str] = field(default_factory=list)  # the file's headers left out
    skipped_examples: list[int] = field(default_factory=list)  # the template's example rows
    # each unit the import creates -> the registered units whose names are close to it
    new_units: dict[str, list[str]] = field(default_factory=dict)

    @property
    def notes(self) -> str:
        """What the import left out of the file, in words ("" when nothing)."""
        parts = []
        if self.skipped_examples:
            parts.append("已跳过模板示例行 " + "、".join(f"第{n}行" for n in self.skipped_examples))
        if self.ignored_columns:
            parts.append("已忽略的列：" + "、".join(self.ignored_columns))
        near = [f"{name}（相近的已有单位：{'、'.join(similar)}）"
                for name, similar in self.new_units.items() if similar]
        if near:
            parts.append("请核对新建的单位：" + "，".join(near))
        return "；".join(parts)

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
        notes = f"。{self.notes}" if self.notes else ""
        if self.dry_run:
            return f"校验通过，未写入任何数据（仅校验）。正式导入将导入{self.counts}{notes}"
        return f"导入{self.counts}{notes}"


@dataclass
class Sheet:
    """The rows read from a file for one importer, with where each field's column stands."""

    rows: list[Row]
    problems: list[Problem]
    headers: dict[str, str]  # field -> header as written in the file (or the column's zh name)
    mapping: dict[str, Column]  # header in the file -> column
    positions: dict[str, int]  # header in the file -> 0-based column in the sheet
    header_row: int = 1
    ignored: list[str] = field(default_factory=list)  # headers left out, named in the summary
    examples: list[int] = field(default_factory=list)  # row numbers of the template's example


class Importer:
    """One kind of data. Subclasses set the class attributes and implement validate/apply."""

    kind: ClassVar[str]  # URL and CLI name: "officers"
    entity: ClassVar[str]  # audit entity type: "officer"
    noun: ClassVar[str]  # "执法人员"
    help: ClassVar[str] = ""  # one line for `flask import KIND --help`
    columns: ClassVar[list[Column]]
    notes: ClassVar[list[str]] = []  # extra lines for the template's 填写说明 sheet
    # The field naming a unit that the import registers when it is new (officers' 单位): the
    # framework lists each new unit with its near-duplicates and creates only those allowed.
    unit_field: ClassVar[str | None] = None
    defaults: ClassVar[dict[str, str]] = {}  # field -> what an absent or empty cell means
    # validate(sheet, today=, state=) carries stream_state() between chunks: run_streamed works
    streams: ClassVar[bool] = False

    # --- reading ---------------------------------------------------------------------------

    def map_headers(self, headers: list[str], *, ignore: Iterable[str] = (),
                    assign: dict[str, str] | None = None, header_row: int = 1
                    ) -> tuple[dict[str, Column], list[Problem]]:
        """{header as in the file: Column} and the problems (repeated or missing columns,
        reported on the header row). A header that names no column is left out (the import
        names it in its summary, `unmapped`), never a reason to refuse. `ignore`: headers to
        leave out; `assign`: {header: field} chosen by the person for other headers."""
        known: dict[str, Column] = {}
        by_field = {c.field: c for c in self.columns}
        for col in self.columns:
            for name in col.names:
                known.setdefault(_norm_header(name), col)
        ignored = {_norm_header(h) for h in ignore} | ALWAYS_IGNORED
        assign = assign or {}
        mapping: dict[str, Column] = {}
        seen: dict[str, str] = {}
        problems: list[Problem] = []
        unknown: list[str] = []
        for h in headers:
            if _norm_header(h) in ignored:
                continue
            col = by_field.get(assign[h]) if assign.get(h) else known.get(_norm_header(h))
            if col is None:
                unknown.append(h)
            elif col.field in seen:
                problems.append(Problem(header_row, h, f"列“{h}”与列“{seen[col.field]}”重复"))
            else:
                seen[col.field] = h
                mapping[h] = col
        for col in self.columns:
            if col.required and col.field not in seen:
                text = f"缺少必填的列“{col.zh}”（或 {col.en}）"
                if unknown:
                    text += f"；文件中未识别的列：{'、'.join(unknown)}"
                problems.append(Problem(header_row, None, text))
        return mapping, problems

    @staticmethod
    def unmapped(headers: list[str], mapping: dict[str, Column]) -> list[str]:
        """The file's headers an import leaves out and names in its summary (序号 and an
        annotated sheet's 错误说明 are left out without a word)."""
        return [h for h in headers if h not in mapping and _norm_header(h) not in ALWAYS_IGNORED]

    def example_values(self, mapping: dict[str, Column]) -> dict[str, Any] | None:
        """The template's example row (`Column.example`, as the template writes it) converted
        like a cell, by field, for the columns of this file; None when it cannot be told apart
        (a required column of the file without an example)."""
        values: dict[str, Any] = {}
        for col in mapping.values():
            if col.example is None:
                values[col.field] = None
                continue
            try:
                values[col.field] = convert(col.example, col)
            except CellError:
                return None
        if any(col.required and values[col.field] is None for col in mapping.values()):
            return None
        if sum(v is not None for v in values.values()) < 2:
            return None
        return values

    def is_example(self, raw: dict[str, Any], mapping: dict[str, Column]) -> bool:
        """Whether a row as read ({header: cell}) is the template's example row."""
        example = self.example_values(mapping)
        if example is None:
            return False
        try:
            return {col.field: convert(raw.get(h), col) for h, col in mapping.items()} == example
        except CellError:
            return False

    def read(self, source: Source, filename: str, *, ignore: Iterable[str] = (),
             assign: dict[str, str] | None = None) -> Sheet:
        """Read and convert every cell. Raises ImportRefused for an unreadable file or wrong
        columns; cell problems are collected in the sheet's `problems`."""
        return next(self.sheets(source, filename, ignore=ignore, assign=assign))

    def sheets(self, source: Source, filename: str, *, ignore: Iterable[str] = (),
               assign: dict[str, str] | None = None, size: int | None = None,
               limits: bool = True) -> Iterator[Sheet]:
        """The file's rows converted, as one Sheet (`size` None) or as Sheets of `size` rows
        each, read lazily: a streamed import holds one chunk at a time. Each Sheet has its own
        problems. `limits`: the readers' caps (False for a CSV file given on the command line)."""
        table = read_table(source, filename, self.columns, limits=limits)
        mapping, problems = self.map_headers(table.headers, ignore=ignore, assign=assign,
                                             header_row=table.header_row)
        if problems:
            raise ImportRefused(problems)
        headers = {col.field: h for h, col in mapping.items()}
        headers |= {col.field: col.zh for col in self.columns if col.field not in headers}
        positions = {h: table.positions[h] for h in mapping}
        ignored = self.unmapped(table.headers, mapping)
        example = self.example_values(mapping)
        # Each column converts each distinct cell value once (a session's title, its date and
        # hours repeat on every row of a 200,000-row sheet); `memo` holds the value or its error.
        # A chunked read starts them afresh with each chunk, so they stay the size of a chunk.
        items = [(h, col, col.kind != "id", {}) for h, col in mapping.items()]
        shared: dict[Any, Any] = {}  # one object per repeated value (a session's title, a date)
        rows: list[Row] = []
        problems = []
        examples: list[int] = []
        done = 0  # rows already handed out in earlier chunks

        def sheet() -> Sheet:
            problems.extend(table.problems)  # the reader's: cells under no header
            table.problems.clear()
            return Sheet(rows, problems, headers, mapping, positions, table.header_row,
                         ignored=ignored, examples=examples)

        for number, raw in table.rows:
            values: dict[str, Any] = {}
            row = Row(number, values, headers, problems)
            for h, col, share, memo in items:
                cell = raw.get(h)
                # a text cell is its own key; any other carries its type (1, 1.0 and True are equal)
                key = cell if cell.__class__ is str else (cell.__class__, cell)
                value = memo.get(key, _MISSING)
                if value is _MISSING:
                    value = _convert_cell(cell, key, col, share, memo, shared)
                if isinstance(value, CellError):
                    values[col.field] = BAD
                    row.error(col.field, str(value))
                else:
                    values[col.field] = value
            if example is not None and row.bad is None and values == example:
                examples.append(number)  # the template's example row: never imported
                continue
            rows.append(row)
            if size and len(rows) >= size:
                yield sheet()
                done += len(rows)
                rows, problems, examples = [], [], []
                shared.clear()
                for item in items:
                    item[3].clear()
        last = sheet()
        if not done:
            if not rows and examples and not problems:
                raise ImportRefused([Problem(None, None, f"文件中只有模板示例行（第 {examples[0]} 行），"
                                                         "没有要导入的数据")])
            if not rows:
                raise ImportRefused(problems or [Problem(None, None, "文件中只有表头，没有数据行")])
        if any(p.row is None for p in problems):
            raise ImportRefused([p for p in problems if p.row is None])
        if rows or problems or examples or not done:
            yield last

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
            ignore: Iterable[str] = (), assign: dict[str, str] | None = None,
            create_units: bool | Iterable[str] = True, limits: bool = True) -> ImportResult:
        """Read, validate and (unless dry_run) apply. Raises ImportRefused with every problem,
        in file order; flushes, never commits (the caller owns the transaction).
        `create_units`: which new units (of `unit_field`) may be registered — all (True), none
        (False) or those named; a row naming another new unit is refused.
        A kind that `streams` reads, checks and writes the file in chunks (`run_streamed`),
        whatever the file and wherever it comes from. `limits=False` (the command line, a CSV
        file on disk): the file is not held to the web's caps on size and rows."""
        if self.streams:
            return self.run_streamed(source, filename, today=today, dry_run=dry_run,
                                     ignore=ignore, assign=assign, create_units=create_units,
                                     limits=limits)
        sheet = self.read(source, filename, ignore=ignore, assign=assign)
        new_units = self._check_units(sheet, create_units)
        plan = self.validate(sheet, today=today)
        if sheet.problems:
            raise ImportRefused(in_file_order(sheet))
        result = self.result(plan)
        result.dry_run, result.entity, result.kind = dry_run, self.entity, self.kind
        result.ignored_columns, result.skipped_examples = sheet.ignored, sheet.examples
        result.new_units = new_units
        if not dry_run:
            with deferred(db.session):  # the case verdicts the rows touch: re-judged once, at the end
                self.apply(plan, today=today, result=result)
            record("import", self.entity, None, result.summary(), {"file": [None, filename]})
        return result

    # --- streamed: a file of any size in bounded memory -----------------------------------------

    def stream_state(self) -> dict[str, Any]:
        """What `validate` carries from one chunk to the next (compact keys: the ID numbers seen
        and the row that had each, for "duplicate of row N")."""
        return {}

    def finish_streamed(self, state: dict[str, Any], result: ImportResult) -> None:
        """The whole file's result from the chunks' results summed (a kind's own wording)."""

    def run_streamed(self, source: Source, filename: str, *, today: date, dry_run: bool = False,
                     ignore: Iterable[str] = (), assign: dict[str, str] | None = None,
                     create_units: bool | Iterable[str] = True, limits: bool = True) -> ImportResult:
        """`run` a chunk of STREAM_ROWS rows at a time, in the caller's one transaction: each
        chunk is validated (against the rows before it through `stream_state`) and, while no
        chunk had a problem, applied. After the first problem the rest is only checked, so the
        refusal lists every problem (the first MAX_LISTED, and how many in all); the caller
        rolls back what the earlier chunks wrote, so a refused import writes nothing. Memory
        is a chunk's rows plus the state's compact keys, whatever the file's size."""
        with quiet_gc():
            return self._run_streamed(source, filename, today=today, dry_run=dry_run, ignore=ignore,
                                      assign=assign, create_units=create_units, limits=limits)

    def _run_streamed(self, source: Source, filename: str, *, today: date, dry_run: bool,
                      ignore: Iterable[str], assign: dict[str, str] | None,
                      create_units: bool | Iterable[str], limits: bool) -> ImportResult:
        state = self.stream_state()
        result = ImportResult(self.noun, dry_run=dry_run, entity=self.entity, kind=self.kind)
        listed: list[Problem] = []
        found = 0
        try:
            for sheet in self.sheets(source, filename, ignore=ignore, assign=assign,
                                     size=STREAM_ROWS, limits=limits):
                result.ignored_columns = sheet.ignored
                result.skipped_examples += sheet.examples
                units = self._check_units(sheet, create_units)
                plan = self.validate(sheet, today=today, state=state)
                if sheet.problems:
                    found += len(sheet.problems)
                    listed += in_file_order(sheet)[:MAX_LISTED - len(listed)]
                    continue
                if found:  # refused already: the rest is only checked
                    continue
                for name, near in units.items():
                    result.new_units.setdefault(name, near)
                part = self.result(plan)
                if not dry_run:
                    with deferred(db.session):
                        self.apply(plan, today=today, result=part)
                _add(result, part)
        except ImportRefused as refused:  # the file itself (a broken line further down)
            raise ImportRefused(listed + refused.problems[:MAX_LISTED],
                                total=found + refused.total) from None
        if found:
            raise ImportRefused(listed, total=found)
        self.finish_streamed(state, result)
        if not dry_run:
            record("import", self.entity, None, result.summary(), {"file": [None, filename]})
        return result

    def _check_units(self, sheet: Sheet, create_units: bool | Iterable[str]) -> dict[str, list[str]]:
        """The new units the rows name that may be created, each with its near-duplicates among
        the registered units; a row naming a new unit that may not is reported on its cell."""
        name = self.unit_field
        if name is None or name not in {c.field for c in sheet.mapping.values()}:
            return {}

        known = set(db.session.scalars(select(Unit.name)))
        new = list(dict.fromkeys(v.strip() for r in sheet.rows
                                 if isinstance(v := r.get(name), str) and v.strip()
                                 and v.strip() not in known))
        if not new:
            return {}
        near = similar_names(new, known)
        allowed = set(new) if create_units is True else set(create_units or ())
        for row in sheet.rows:
            value = row.get(name)
            value = value.strip() if isinstance(value, str) else value
            if value in near and value not in allowed:
                hint = f"（相近的已有单位：{'、'.join(near[value])}）" if near[value] else ""
                row.error(name, f"单位“{value}”尚未登记，本次导入未允许新建{hint}；"
                                "请改为已登记的单位，或确认新建这个单位")
        return {n: near[n] for n in new if n in allowed}


@contextmanager
def quiet_gc() -> Iterator[None]:
    """The cyclic garbage collector held back while an import runs: a chunk allocates millions
    of small containers (rows, dicts, parameters), and with the default thresholds the collector
    runs thousands of times, each pass walking the application's whole heap (a sixth of a big
    import's time, measured). What exists when the import starts is frozen (never walked); the
    young generation is collected every 50,000 allocations instead of 700. Memory is not at risk:
    an import's objects are freed by reference counting, not by the collector."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _convert_cell(cell: Any, key: Any, col: Column, share: bool, memo: dict,
                  shared: dict[Any, Any]) -> Any:
    """A cell not seen before in its column, converted (or the CellError it raised) and
    remembered in the column's `memo` under `key`; with `share`, one object per repeated value
    (`shared`)."""
    try:
        value = convert(cell, col)
    except CellError as exc:
        value = exc
    else:
        if share:
            value = shared.setdefault((type(value), value), value)
    if len(memo) < _MEMO_LIMIT:
        memo[key] = value
    return value


def _add(total: ImportResult, part: ImportResult) -> None:
    """A chunk's result added to the file's."""
    total.total += part.total
    total.created += part.created
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.units_created += [u for u in part.units_created if u not in total.units_created]
    for table, ids in part.created_ids.items():
        total.created_ids.setdefault(table, []).extend(ids)


def in_file_order(sheet: Sheet) -> list[Problem]:
    """By row, then left to right as the columns stand in the file."""
    order = sheet.positions
    return sorted(sheet.problems, key=lambda p: (p.row or 0, order.get(p.column or "", 10 ** 6)))
