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
from sqlalchemy import Select, Table, case, func, inspect, literal_column, select
from sqlalchemy.orm import aliased

from app import paging
from app.audit.services import record
from app.extensions import db
from app.formatting import cn_date
from app.jobs.services import defer
from app.scope import PER_ROW_OPTION, scope_ids
from app.sheets import DATE_FORMAT, DATETIME_FORMAT, XLSX_MIME, Column, write_xlsx
from app.web.args import PAGE_MAX, date_filter, int_arg, page_arg, text_arg
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
    count_rows: Select | None = None  # one row per counted row: counted up to COUNT_CAP (LIMIT)


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
        """`count_from`: the entity to count when the rows' joins do not change the count, or a
        SELECT of it with the joins the filters need (entities, so that the scope applies)."""
        if isinstance(count_from, Select):
            count = count_from.with_only_columns(func.count(), maintain_column_froms=True).where(*self.where)
            rows = count_from.with_only_columns(literal_column("1"), maintain_column_froms=True).where(*self.where)
        elif count_from is not None:
            count = select(func.count()).select_from(count_from).where(*self.where)
            rows = select(literal_column("1")).select_from(count_from).where(*self.where)
        else:
            count, rows = None, stmt.where(*self.where).order_by(None)
        return Filtered(stmt.where(*self.where), self.active, self.words, count, self.problems, self.costly, rows)


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int
    sort: str
    active: dict[str, str]
    problems: list[str] = field(default_factory=list)
    counted: str = "exact"            # exact; estimate (PostgreSQL's planner: 约 N); over (more than N)
    nav: dict[str, Any] | None = None  # the pager's cursor links (keyset), None: page numbers only

    @property
    def args(self) -> dict[str, str]:
        """Query-string values for the pager, sort links and the export link."""
        return dict(self.active, sort=self.sort) if self.sort else dict(self.active)

    def context(self) -> dict[str, Any]:
        """What every list template takes: rows, page, pages, total, args, active, sort, counted
        (how exact `total` is), nav (the pager's cursor links)."""
        return {"rows": self.rows, "page": self.page, "pages": self.pages, "total": self.total,
                "args": self.args, "active": self.active, "sort": self.sort, "counted": self.counted,
                "nav": self.nav}


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
    exact_count: bool = False                         # always count exactly (a short list, no estimate shown)

    # ------------------------------------------------------------ sort, page

    def sort_arg(self, args: Mapping[str, str]) -> str:
        sort = str(args.get("sort", "") or self.default_sort)
        return sort if sort.lstrip("-") in self.sorts else self.default_sort

    def order_keys(self, sort: str) -> list:
        return paging.ordered(self.sort_keys(sort))

    def ordered(self, stmt: Select, sort: str) -> Select:
        return stmt.order_by(*self.order_keys(sort))

    def sort_keys(self, sort: str) -> list[tuple[Any, bool]]:
        """[(expression, descending)] of a sort: the chosen keys, `then`, the tiebreak."""
        keys = self.sorts.get(sort.lstrip("-"), ())
        flip = sort.startswith("-")
        out = [(e, d != flip) for e, d in map(paging.direction, keys)]
        out += [paging.direction(k) for k in self.then if not any(k is c for c in keys)]
        return [*out, *map(paging.direction, self.tiebreak)]

    def page(self, args: Mapping[str, str], *, today: date, per_page: int | None = None) -> Page:
        """One page of the list (docs/architecture.md, Cost: list pages). Walked by cursors
        (`after=`/`before=`: the rows after/before a boundary row, by index), the last page and a
        page nearer the end than the start read in the reversed order; only a page number typed or
        picked far from both ends costs an OFFSET. The total is counted up to COUNT_CAP rows; past
        it, PostgreSQL's estimate (约 N) or "more than COUNT_CAP" on SQLite, exact with `count=exact`
        or when a page number past the cap asks where the end is."""
        f = self.filtered(args, today)
        sort = self.sort_arg(args)
        per = per_page or self.per_page or current_app.config.get("PER_PAGE", 50)
        if f.costly:
            rows, page, pages, total = one_pass_page(f.stmt, self.order_keys(sort), page_arg(args), per)
            return Page(rows, page, pages, total, sort, f.active, f.problems)
        if self.exact_count:
            f.count_rows = None
        return KeysetPager(self, f, sort, per, args).page()

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


COUNT_CAP = 10_000  # a list's total is counted exactly up to this many rows (docs/architecture.md, Cost)
BAD_CURSOR = "翻页链接无效或已过期，已显示第一页"


class KeysetPager:
    """One page of a ListSpec (see ListSpec.page): the rows carry their sort key (`page_k0`…) for
    the cursors of the pager's links."""

    def __init__(self, spec: ListSpec, f: Filtered, sort: str, per: int, args: Mapping[str, str]):
        self.f, self.sort, self.per, self.args = f, sort, per, args
        self.keys = spec.sort_keys(sort)
        self.labels = [f"page_k{i}" for i in range(len(self.keys))]
        self.width = len(f.stmt.column_descriptions)  # the rows as the spec gives them (an entity: one)
        self.stmt = f.stmt.add_columns(*(e.label(n) for (e, _d), n in zip(self.keys, self.labels, strict=True)))
        self.key_of: dict[int, tuple] = {}
        d = f.stmt.column_descriptions
        first = d[0].get("entity") if d else None
        pk = inspect(first).primary_key if first is not None and d[0]["expr"] is first else ()
        self.pk = pk[0] if len(pk) == 1 else None  # rows are entities with a one-column key: narrow reads

    def read(self, where: Any = None, *, reverse: bool = False, offset: int = 0, limit: int) -> list:
        """Rows in the list's order; `reverse`: the first `limit` of the reversed order (the end of
        the list), returned in the list's order. The rows keep the spec's shape; their sort keys
        are kept aside (`self.key_of`) for the cursors."""
        q = self.stmt if where is None else self.stmt.where(where)
        q = q.order_by(*paging.ordered(self.keys, reverse)).limit(limit)
        if offset:
            q = q.offset(offset)
        n = self.width
        if (reverse or offset) and self.pk is not None:
            rows, keys = self.narrow(q)
        else:
            frozen = db.session.execute(q).freeze()
            rows = frozen().columns(*range(n)).all()
            keys = frozen().columns(*range(n, n + len(self.keys))).all()
        if reverse:
            rows, keys = rows[::-1], keys[::-1]
        for row, key in zip(rows, keys, strict=True):
            self.key_of[id(row)] = tuple(key)
        return rows

    def narrow(self, q: Select) -> tuple[list, list]:
        """A read that sorts many rows (backwards; past an OFFSET) sorts only the keys — the first
        entity's primary key and the sort keys — and reads the page's rows whole by that key: a
        top-N sort fed rows in the opposite order replaces its heap at every row, and moving whole
        rows through it costs twice as much (SQLite, the officer list's last page: 130 → 72 ms)."""
        pk = self.pk
        keyed = db.session.execute(q.with_only_columns(pk.label("page_pk"), *(
            e.label(n) for (e, _d), n in zip(self.keys, self.labels, strict=True)), maintain_column_froms=True)).all()
        ids = [r[0] for r in keyed]
        if not ids:
            return [], []
        frozen = db.session.execute(self.f.stmt.where(pk.in_(ids))).freeze()
        n = self.width
        by_id = {}
        for row in frozen().columns(*range(n)).all():
            by_id[getattr(row[0], pk.key)] = row
        pairs = [(by_id[r[0]], tuple(r[1:])) for r in keyed if r[0] in by_id]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def cursor(self, row: Any) -> str:
        return paging.encode_cursor(self.sort, self.key_of[id(row)])

    def count(self, exact: bool) -> tuple[int, str]:
        """(total, how it was counted): exact up to COUNT_CAP rows (a LIMITed count reads at most
        COUNT_CAP + 1 of them); past it PostgreSQL's estimate, on SQLite "more than COUNT_CAP" —
        except for a bare table (no filter, no scope), which SQLite counts from its b-tree pages."""
        f = self.f
        full = f.count if f.count is not None else select(func.count()).select_from(f.stmt.order_by(None).subquery())
        if exact or f.count_rows is None or self.args.get("count") == "exact" or self._bare_sqlite():
            return db.session.scalar(full) or 0, "exact"
        # read row by row under a scope (SQLite): at most COUNT_CAP + 1 rows, each checked by its key,
        # instead of building the branch's list of officers first (app/scope.py, per-row form)
        n = db.session.scalar(select(func.count()).select_from(f.count_rows.limit(COUNT_CAP + 1).subquery())
                              .execution_options(**PER_ROW_OPTION)) or 0
        if n <= COUNT_CAP:
            return n, "exact"
        estimate = paging.estimate_rows(f.count_rows)
        if estimate is not None:
            return max(estimate, COUNT_CAP + 1), "estimate"
        return COUNT_CAP, "over"

    def _bare_sqlite(self) -> bool:
        f = self.f
        if f.active or f.count is None or scope_ids() is not None or not db.session.get_bind().dialect.name == "sqlite":
            return False
        froms = f.count.get_final_froms()
        return len(froms) == 1 and isinstance(froms[0], Table) and f.count.whereclause is None

    def requested(self) -> tuple[str | None, list | None, int, list[str]]:
        """(after/before/None, the cursor's key values, the page number asked for, problems)."""
        want, problems = page_arg(self.args), list(self.f.problems)
        for name in ("after", "before"):
            token = str(self.args.get(name, "") or "")
            if token:
                values = paging.decode_cursor(token, self.sort, [e for e, _d in self.keys])
                if values is None:
                    problems.append(BAD_CURSOR)
                    return None, None, 1, problems
                return name, values, want, problems
        return None, None, PAGE_MAX if self.args.get("last") == "1" else want, problems

    def page(self) -> Page:
        keys, per = self.keys, self.per
        direction, values, want, problems = self.requested()
        # a page number past the cap asks where the end is: that needs the exact total
        total, counted = self.count(exact=direction is None and (want - 1) * per >= COUNT_CAP)
        rows: list | None = None
        more, page = False, want
        if direction == "after":
            got = self.read(paging.after_clause(keys, values), limit=per + 1)
            rows, more = got[:per] or None, len(got) > per
            if rows is None:  # nothing after the cursor any more: the last page
                want = PAGE_MAX
                if counted != "exact":
                    total, counted = self.count(exact=True)
        elif direction == "before":
            got = self.read(paging.after_clause([(e, not d) for e, d in keys], values), reverse=True, limit=per + 1)
            if len(got) > per:
                rows, more, page = got[1:], True, max(2, want)
            else:  # the start of the list is reached: page 1
                want = 1
        exact = counted == "exact"
        pages = max(1, -(-total // per))
        if rows is None:
            page, rows, more = self.numbered(want, total, pages, exact)
        if exact:
            page = min(page, pages)
            more = page < pages
        else:
            pages = max(pages, page + (1 if more else 0))
        return Page(rows, page, pages, total, self.sort, self.f.active, problems, counted,
                    self.nav(rows, page, more, exact))

    def numbered(self, want: int, total: int, pages: int, exact: bool) -> tuple[int, list, bool]:
        """(page, rows, more) of a page asked for by its number."""
        per = self.per
        if exact:
            want = min(want, pages)
        if exact and want == pages > 1:  # the last page: the first rows of the reversed order
            return pages, self.read(reverse=True, limit=total - (pages - 1) * per) if total else [], False
        if exact and 1 < want < pages and (want - 1) * per > total - want * per:  # nearer the end: OFFSET from there
            return want, self.read(reverse=True, offset=total - want * per, limit=per), True
        # nearer the start: an OFFSET (the first pages; a page number picked in the middle)
        got = self.read(offset=(want - 1) * per, limit=per + 1)
        return want, got[:per], len(got) > per

    def nav(self, rows: list, page: int, more: bool, exact: bool) -> dict[str, Any]:
        """The pager's 上一页 / 下一页 (with cursors) and whether its page count is exact."""
        nav: dict[str, Any] = {"exact": exact, "prev": None, "next": None}
        base = self.active_args()
        if page > 1 and rows:
            nav["prev"] = dict(base, page=page - 1, before=self.cursor(rows[0])) if page > 2 else dict(base)
        if more and rows:
            nav["next"] = dict(base, page=page + 1, after=self.cursor(rows[-1]))
        return nav

    def active_args(self) -> dict[str, str]:
        return dict(self.f.active, sort=self.sort) if self.sort else dict(self.f.active)


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
