"""Pages of ordered queries (page cost: docs/architecture.md, Cost targets).

`page_of`: one page with the total in one statement — ROW_NUMBER() and COUNT(*) OVER () in a
subquery: the database sorts once, returns only the page's rows, and a page past the end is
answered with the last page — no second COUNT or retry query.

The keyset cursors of the list pager (app/web/lists.py) and PostgreSQL's row estimate: below.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, event, false, func, or_, select
from sqlalchemy.sql import Select, operators
from sqlalchemy.sql.elements import UnaryExpression

from app.extensions import db


def page_of(q: Select, order, page: int, per_page: int, late=None) -> tuple[list, int, int]:
    """(rows of the page shown, total rows, page shown) for `q` in `order` (a sequence of columns).
    `late(paged)` may return more columns, computed from the paged subquery's columns for the
    page's rows only (e.g. correlated EXISTS checks that would cost a lookup per row of the set)."""
    inner = q.add_columns(func.row_number().over(order_by=order).label("page_pos"),
                          func.count().over().label("page_total")).subquery("paged")
    pages = (inner.c.page_total + (per_page - 1)) // per_page
    shown = case((pages < page, pages), else_=page) if page > 1 else 1
    rows = db.session.execute(
        select(inner, *(late(inner) if late else ()))
        .where(inner.c.page_pos > (shown - 1) * per_page, inner.c.page_pos <= shown * per_page)
        .order_by(inner.c.page_pos)).all()
    total = rows[0].page_total if rows else 0
    return rows, total, max(1, min(page, -(-total // per_page))) if total else 1


# ---------------------------------------------------------------- keyset paging (cursors)
#
# A list's pager links to the next and the previous page with a cursor: the sort key of the
# boundary row (the last row shown for 下一页, the first for 上一页), so that the page is read as
# "the first `per` rows after the cursor" — an index range (or a top-N sort of the rows after
# it) instead of an OFFSET that reads and drops every row before the page. The cursor travels in
# the query string (`after=` / `before=`), so a copied link keeps working; it is checked value by
# value against the sort keys' types, and a cursor that does not fit is ignored (page 1).

CURSOR_MAX = 600  # characters: a few keys (names, dates, ids) fit well within it


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    """The cursor of a row: the list's sort and the row's sort key values, as URL-safe text."""
    raw = json.dumps([sort, *(_plain(v) for v in values)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _python_type(expr: Any) -> type | None:
    try:
        return expr.type.python_type
    except (AttributeError, NotImplementedError):
        return None


def _tagged(raw: dict, want: type | None) -> Any:
    (tag, text), = raw.items()
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError("tag")
    if tag == "t" and want in (datetime, None):
        return datetime.fromisoformat(text)
    if tag == "d" and want in (date, None):
        return date.fromisoformat(text)
    if tag == "n" and want in (Decimal, float, None):
        return Decimal(text)
    raise ValueError("tag")


def _value(raw: Any, expr: Any) -> Any:
    """The value of one key from its JSON form, or ValueError when it does not fit the key."""
    want = _python_type(expr)
    if raw is None:
        if not nullable(expr):
            raise ValueError("null")
        return None
    if isinstance(raw, dict) and len(raw) == 1:
        return _tagged(raw, want)
    fits = {bool: (bool,), int: (int, float, Decimal), float: (float, Decimal), str: (str,)}.get(type(raw))
    if fits is None or (want is not None and want not in fits):
        raise ValueError("type")
    if isinstance(raw, str) and len(raw) > 200 or type(raw) is int and abs(raw) > 2**63:
        raise ValueError("size")
    if isinstance(raw, float) and (raw != raw or raw in (float("inf"), float("-inf"))):
        raise ValueError("float")
    return raw


def decode_cursor(token: str, sort: str, keys: Sequence[Any]) -> list[Any] | None:
    """The key values a cursor carries, checked against `keys` (the sort's key expressions); None
    when the text is no cursor of this sort (mangled, forged, another sort, another key shape)."""
    if not token or len(token) > CURSOR_MAX:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        if not isinstance(data, list) or len(data) != len(keys) + 1 or data[0] != sort:
            return None
        return [_value(raw, expr) for raw, expr in zip(data[1:], keys, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, RecursionError):
        return None


def nullable(expr: Any) -> bool:
    """Whether a sort key may be NULL (a column says so; anything else is taken as nullable)."""
    col = getattr(expr, "expression", expr)
    return bool(getattr(col, "nullable", True))


def nulls_sort_high() -> bool:
    """PostgreSQL sorts NULL above every value (last ascending), SQLite below (first ascending)."""
    return db.session.get_bind().dialect.name == "postgresql"


def _beyond(expr: Any, value: Any, desc: bool, high: bool) -> Any:
    """`expr` comes strictly after `value` in its direction (NULLs where the database puts them)."""
    nulls_first = desc == high
    if value is None:
        return expr.is_not(None) if nulls_first else false()
    cmp = expr < value if desc else expr > value
    if nullable(expr) and not nulls_first:
        return or_(cmp, expr.is_(None))
    return cmp


def _same(expr: Any, value: Any) -> Any:
    return expr.is_(None) if value is None else expr == value


def after_clause(keys: Sequence[tuple[Any, bool]], values: Sequence[Any]) -> Any:
    """WHERE: the row comes after the row whose sort key is `values`, for `keys` [(expression,
    descending)] — the OR of "equal on the first i keys, beyond on key i+1", and the first key's
    inclusive bound alone as well, so that an index on it is searched from the cursor on."""
    high = nulls_sort_high()
    arms = []
    for i, (expr, desc) in enumerate(keys):
        arms.append(and_(*(_same(e, v) for (e, _d), v in zip(keys[:i], values[:i], strict=True)),
                         _beyond(expr, values[i], desc, high)))
    clause = or_(*arms)
    first, desc = keys[0]
    v = values[0]
    if v is not None and (not nullable(first) or desc == high):  # NULLs, if any, come before the cursor
        clause = and_(first <= v if desc else first >= v, clause)
    return clause


def direction(expr: Any) -> tuple[Any, bool]:
    """(expression, descending) of a sort key written as `col`, `col.asc()` or `col.desc()`."""
    if isinstance(expr, UnaryExpression) and expr.modifier in (operators.desc_op, operators.asc_op):
        return expr.element, expr.modifier is operators.desc_op
    return expr, False


def ordered(keys: Sequence[tuple[Any, bool]], reverse: bool = False) -> list[Any]:
    """ORDER BY of `keys`, or of the reversed order (each key's direction flipped: both databases
    then put NULLs at the other end too, so the reversed order is exactly the order read backwards)."""
    return [e.desc() if d != reverse else e.asc() for e, d in keys]


# ---------------------------------------------------------------- the planner's row estimate

ESTIMATE_OPTION = "paging_estimate"


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _explain(_conn, _cursor, statement, parameters, context, _executemany):
    """A statement run with the execution option ESTIMATE_OPTION is sent as EXPLAIN (FORMAT JSON):
    compiled as usual (the ORM's scope criteria included), only not executed."""
    if context is not None and context.execution_options.get(ESTIMATE_OPTION):
        statement = "EXPLAIN (FORMAT JSON) " + statement
    return statement, parameters


def estimate_rows(stmt: Select) -> int | None:
    """PostgreSQL's estimate of how many rows `stmt` returns (the planner's, from the table
    statistics: no row is read); None on SQLite, which keeps no such estimate."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    plan = db.session.execute(stmt.execution_options(**{ESTIMATE_OPTION: True})).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    try:
        return max(0, int(plan[0]["Plan"]["Plan Rows"]))
    except (LookupError, TypeError, ValueError):
        return None
