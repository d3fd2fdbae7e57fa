"""List pages as specs: one place says which rows a list holds (filters), in which order (sort
keys), how they are paged and which columns its Excel export has — so the page and its `.xlsx`
(served at the list's own path with `.xlsx` appended and the same query string) always show the
same rows.

A route does::

    page = OFFICERS.page(request.args, today=d)         # the rows of one page, counts, links
    return OFFICERS.export(request.args, today=d)       # every matching row as .xlsx
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Response, current_app, flash
from sqlalchemy import Select, case, func, inspect, select
from sqlalchemy.orm import aliased

from app.audit.services import record
from app.extensions import db
from app.formatting import cn_date
from app.jobs.services import defer
from app.sheets import DATE_FORMAT, DATETIME_FORMAT, XLSX_MIME, Column, write_xlsx
from app.web.args import date_filter, int_arg, page_arg, text_arg
from app.web.files import download

__all__ = ["DATE_FORMAT", "DATETIME_FORMAT", "XLSX_MIME", "Column", "write_xlsx"]


@dataclass(frozen=True)
class Filter:
    """One control of a list's filter bar; the macro `filter_bar` (templates/macros.html) draws it."""

    name: str                                 # the query-string parameter
    kind: str = "select"                      # select, text, number, date, check, keep (hidden while set)
    label: str = ""                           # above the control (labelled bars), else its aria-label
    choices: Mapping[str, str] | str = field(default_factory=dict)  # code → label, or a list the page
    #                                           passes by name: units (Unit rows), years, names (strings)
    all: str = "全部"                          # the empty choice of a select
    placeholder: str = ""
    col: str = "col-auto"                     # Bootstrap column classes of its cell
    title: str = ""                           # a date box's tooltip when it differs from the label
    raw: bool = False                         # show the value as typed (a bad date stays to be corrected)
    style: str = ""


FILTER_BARS: dict[str, FilterBar] = {}


@dataclass(frozen=True)
class FilterBar:
    """A list page's filter form: the controls in order and the form's look. Registered by name
    for the templates (`filter_bar('officers', active, sort, units=units)`)."""

    name: str
    endpoint: str                             # the list page: 清除条件 and the form's action
    filters: tuple[Filter, ...]
    labelled: bool = False                    # labels above the controls, or compact controls
    form_class: str = "row g-2 mb-3"
    form_id: str = ""
    action: bool = False                      # action="{{ url_for(endpoint) }}"
    submit: str = "查询"
    submit_class: str = "btn-secondary"
    clear: str = "清除条件"                     # "": no link back to the whole list
    clear_always: bool = False                # the link also when no filter is set
    keep_sort: bool = True                    # a hidden `sort` keeps the chosen order

    def __post_init__(self) -> None:
        FILTER_BARS[self.name] = self


def labelled_bar(name: str, endpoint: str, *filters: Filter) -> FilterBar:
    """The wide lists' bar: labels above the controls, hidden when printed."""
    return FilterBar(name, endpoint, filters, labelled=True, form_id="filters", submit_class="btn-primary",
                     form_class="row g-2 align-items-end mb-3 d-print-none")


@dataclass
class Filtered:
    """What a list's filters make of a query string."""

    stmt: Select                      # every matching row, unordered, unpaged
    active: dict[str, str]            # the query-string values in effect (links keep them)
    described: list[str] = field(default_factory=list)  # the filters in words: "单位：城市管理科"
    count: Select | None = None       # SELECT count(*) of the same rows, when cheaper than a subquery
    problems: list[str] = field(default_factory=list)   # ignored bad values, to tell the user
    costly: bool = False              # a filter costs more than sorting the matching rows: one pass


class Criteria:
    """Builds a Filtered from the query string, one call per filter: each call reads its argument,
    ignores a bad value (a date filter says so), and records the WHERE clause, the value kept for
    links and the filter in words for the export title.

        c = Criteria(args)
        c.text("q", lambda q: Officer.name.contains(q, autoescape=True))
        c.choice("status", L.EMPLOYMENT_STATUSES, Officer.employment_status, "在职状态")
        return c.filtered(select(Officer))
    """

    def __init__(self, args: Mapping[str, str]):
        self.args = args
        self.where: list = []
        self.active: dict[str, str] = {}
        self.words: list[str] = []
        self.problems: list[str] = []
        self.costly = False

    def raw(self, name: str) -> str:
        return str(self.args.get(name, "") or "")

    def add(self, name: str, value: str, clause: Any, words: str) -> None:
        self.where.append(clause)
        self.active[name] = value
        self.words.append(words)

    def text(self, name: str, clause: Callable[[str], Any], label: str = "搜索", limit: int = 50) -> None:
        value = text_arg(self.args, name, limit)
        if value:
            self.add(name, value, clause(value), f"{label}：{value}")

    def choice(self, name: str, mapping: Mapping[str, str], column: Any, label: str) -> None:
        value = self.raw(name)
        if value in mapping:
            self.add(name, value, column == value, f"{label}：{mapping[value]}")

    def flag(self, name: str, mapping: Mapping[str, str], clause: Callable[[str], Any], label: str,
             costly: bool = False) -> None:
        """A choice whose clause is not a plain equality (yes/no, a flag, a subquery). `costly`: the
        clause is dearer than sorting the rows it keeps (the compliance engine over every officer),
        so the page and its total come from one statement that evaluates it once."""
        value = self.raw(name)
        if value in mapping:
            self.add(name, value, clause(value), f"{label}：{mapping[value]}")
            self.costly = self.costly or costly

    def ident(self, name: str, column: Any, label: str, describe: Callable[[int], str]) -> None:
        value = self.raw(name)
        if value.isdigit() and len(value) < 10:
            self.add(name, value, column == int(value), f"{label}：{describe(int(value))}")

    def year(self, name: str, column: Any) -> None:
        value = int_arg(self.args, name, None, 1900, 2999)
        if value:
            self.add(name, str(value), column.between(date(value, 1, 1), date(value, 12, 31)), f"{value}年")

    def day(self, name: str, label: str, clause: Callable[[date], Any], words: Callable[[date], str]) -> None:
        value = date_filter(self.args, name, label, self.problems)
        if value:
            self.add(name, value.isoformat(), clause(value), words(value))

    def filtered(self, stmt: Select, count_from: Any = None) -> Filtered:
        """`count_from`: the entity to count when the rows' joins do not change the count."""
        count = (select(func.count()).select_from(count_from).where(*self.where)
                 if count_from is not None else None)
        return Filtered(stmt.where(*self.where), self.active, self.words, count, self.problems, self.costly)


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int
    sort: str
    active: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def args(self) -> dict[str, str]:
        """Query-string values for the pager, sort links and the export link."""
        return dict(self.active, sort=self.sort) if self.sort else dict(self.active)

    def context(self) -> dict[str, Any]:
        """What every list template takes: rows, page, pages, total, args, active, sort."""
        return {"rows": self.rows, "page": self.page, "pages": self.pages, "total": self.total,
                "args": self.args, "active": self.active, "sort": self.sort}


@dataclass
class ListSpec:
    title: str                                        # 执法人员: sheet, title row, file name
    slug: str                                         # officers: the ASCII file name
    filtered: Callable[[Mapping[str, str], date], Filtered]
    columns: Sequence[Column]
    export_rows: Callable[[Sequence[Any], date], Iterable[dict[str, Any]]]
    sorts: Mapping[str, tuple] = field(default_factory=dict)
    default_sort: str = ""
    then: tuple = ()                                  # ascending keys after the chosen sort
    tiebreak: tuple = ()                              # unique key last: stable paging
    per_page: int | None = None                       # None: the PER_PAGE setting
    entity: str = ""                                  # audit entity_type of the export row
    chunk: int = 1000
    bar: FilterBar | None = None                      # the page's filter form (drawn by filter_bar)

    # ------------------------------------------------------------ sort, page

    def sort_arg(self, args: Mapping[str, str]) -> str:
        sort = str(args.get("sort", "") or self.default_sort)
        return sort if sort.lstrip("-") in self.sorts else self.default_sort

    def order_keys(self, sort: str) -> list:
        keys = self.sorts.get(sort.lstrip("-"), ())
        order = [k.desc() if sort.startswith("-") else k for k in keys]
        order += [k for k in self.then if not any(k is c for c in keys)]
        return [*order, *self.tiebreak]

    def ordered(self, stmt: Select, sort: str) -> Select:
        return stmt.order_by(*self.order_keys(sort))

    def page(self, args: Mapping[str, str], *, today: date, per_page: int | None = None) -> Page:
        f = self.filtered(args, today)
        sort = self.sort_arg(args)
        per = per_page or self.per_page or current_app.config.get("PER_PAGE", 50)
        if f.costly:
            rows, page, pages, total = one_pass_page(f.stmt, self.order_keys(sort), page_arg(args), per)
            return Page(rows, page, pages, total, sort, f.active, f.problems)
        count = f.count if f.count is not None else select(func.count()).select_from(
            f.stmt.order_by(None).subquery())
        total = db.session.scalar(count) or 0
        pages = max(1, -(-total // per))
        page = min(page_arg(args), pages)
        rows = db.session.execute(self.ordered(f.stmt, sort).limit(per).offset((page - 1) * per)).all()
        return Page(rows, page, pages, total, sort, f.active, f.problems)

    def shown_page(self, args: Mapping[str, str], *, today: date) -> Page:
        """`page` for a list page: each problem of the query (a filter it could not read) flashed."""
        page = self.page(args, today=today)
        for message in page.problems:
            flash(message, "warning")
        return page

    # ------------------------------------------------------------ export

    def export(self, args: Mapping[str, str], *, today: date) -> Response:
        """Every row the list shows for these arguments (all pages, same order), as .xlsx,
        read from the database in chunks."""
        f = self.filtered(args, today)
        count = f.count if f.count is not None else select(func.count()).select_from(f.stmt.subquery())
        if (queued := defer(f"{self.title} .xlsx", rows=db.session.scalar(count) or 0)) is not None:
            return queued  # a big export: a background job (202 + its status page)
        stmt = self.ordered(f.stmt, self.sort_arg(args))

        def rows() -> Iterable[dict[str, Any]]:
            result = db.session.execute(stmt.execution_options(yield_per=self.chunk))
            for chunk in result.partitions(self.chunk):
                yield from self.export_rows(chunk, today)

        return xlsx_response(rows(), self.columns, title=self.title, slug=self.slug,
                             described=f.described, today=today, entity=self.entity or self.slug)


def one_pass_page(stmt: Select, order: Sequence[Any], page: int, per: int) -> tuple[list, int, int, int]:
    """(rows, page shown, pages, total) of `stmt` in `order` from ONE statement: ROW_NUMBER() and
    COUNT(*) OVER () over the matching rows, the page (the last one when `page` is past the end)
    cut in SQL. For filters too dear to evaluate twice (a COUNT, then the page). The rows keep
    `stmt`'s shape (its ORM entities come back as entities, its labelled columns by name).

    When `stmt` starts with an entity of a one-column primary key (a list's rows: one per entity,
    its other columns from many-to-one joins), the rows are numbered by that key alone (a narrow
    sort, much cheaper than sorting whole rows: notes/benchmarks.md) and only the page's rows are
    read whole, joined back on the key."""
    descriptions = stmt.column_descriptions
    first = descriptions[0].get("entity") if descriptions else None
    pk = inspect(first).primary_key if first is not None and descriptions[0]["expr"] is first else ()
    if len(pk) == 1:
        return _narrow_page(stmt, order, page, per, pk[0])
    inner = stmt.add_columns(func.row_number().over(order_by=order).label("page_pos"),
                             func.count().over().label("page_total")).subquery("paged")
    cols = []
    for d in descriptions:
        entity = d.get("entity")
        if entity is not None and d["expr"] is entity:
            cols.append(aliased(entity, inner, name=d["name"]))
        else:
            cols.append(inner.c[d["name"]])
    pages_expr = (inner.c.page_total + (per - 1)) // per
    shown = case((pages_expr < page, pages_expr), else_=page) if page > 1 else 1
    frozen = db.session.execute(
        select(*cols, inner.c.page_total)
        .where(inner.c.page_pos > (shown - 1) * per, inner.c.page_pos <= shown * per)
        .order_by(inner.c.page_pos)).freeze()
    return _rows_and_total(frozen, len(cols), page, per)


def _narrow_page(stmt: Select, order: Sequence[Any], page: int, per: int, key) -> tuple[list, int, int, int]:
    """one_pass_page numbering the matching rows by `key` (the first entity's primary key) only,
    then reading the page's rows whole: the same FROM (joins) as `stmt`, without its WHERE."""
    inner = (stmt.with_only_columns(key.label("page_key"), func.row_number().over(order_by=order).label("page_pos"),
                                    func.count().over().label("page_total"), maintain_column_froms=True)
             .order_by(None).subquery("paged"))
    pages_expr = (inner.c.page_total + (per - 1)) // per
    shown = case((pages_expr < page, pages_expr), else_=page) if page > 1 else 1
    keys = (select(inner.c.page_key, inner.c.page_pos, inner.c.page_total)
            .where(inner.c.page_pos > (shown - 1) * per, inner.c.page_pos <= shown * per).subquery("page_keys"))
    exprs = [d["expr"] for d in stmt.column_descriptions]
    frozen = db.session.execute(
        select(*exprs, keys.c.page_total).select_from(*stmt.get_final_froms())
        .join(keys, keys.c.page_key == key)
        .order_by(keys.c.page_pos)).freeze()
    return _rows_and_total(frozen, len(exprs), page, per)


def _rows_and_total(frozen, n_cols: int, page: int, per: int) -> tuple[list, int, int, int]:
    totals = frozen().scalars(n_cols).all()
    total = totals[-1] if totals else 0
    pages = max(1, -(-total // per))
    return frozen().columns(*range(n_cols)).all(), min(page, pages), pages, total


def xlsx_response(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *, title: str, slug: str,
                  described: Sequence[str], today: date, entity: str) -> Response:
    """The .xlsx download of a list (also for lists whose rows come from their own service):
    the filters in the title row, one audit row, committed here."""
    if isinstance(rows, Sequence) and (queued := defer(f"{title} .xlsx", rows=len(rows))) is not None:
        return queued  # a big export: a background job (202 + its status page)
    count = [0]

    def counted() -> Iterable[dict[str, Any]]:
        for row in rows:
            count[0] += 1
            yield row

    heading = title + (f"（{'；'.join(described)}）" if described else "（全部）")
    data = write_xlsx(counted(), columns, sheet=title, title=f"{heading}　导出日期：{cn_date(today)}")
    record("export", entity, None, f"导出{title} {count[0]} 行（xlsx）",
           {"filters": [None, "；".join(described) or "全部"]})
    resp = download(data, f"{title}_{today.isoformat()}.xlsx", f"{slug}-{today.isoformat()}.xlsx")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
