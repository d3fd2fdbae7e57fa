"""One page of an ordered query, with the total, in one statement (page cost: docs/architecture.md, Cost targets).

ROW_NUMBER() and COUNT(*) OVER () in a subquery: the database sorts once, returns only the page's
rows, and a page past the end is answered with the last page — no second COUNT or retry query.
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.sql import Select

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
