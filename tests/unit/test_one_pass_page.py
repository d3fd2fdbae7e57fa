"""The officer list under a flag filter (the compliance engine, dear to evaluate) is paged in ONE
statement (ROW_NUMBER() and COUNT(*) OVER ()): it must show the same rows, page, pages and total
as the plain COUNT then LIMIT/OFFSET, for every flag, sort and page, a page past the end included."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select

from app.extensions import db as _db
from app.officers.lists import OFFICERS
from tests.unit.test_engine_oracle import build

TODAY = date(2026, 6, 15)
PER = 7


def two_statements(args: dict[str, str], page: int):
    """The obvious form: count the matching rows, clamp the page, LIMIT/OFFSET it."""
    f = OFFICERS.filtered(args, TODAY)
    total = _db.session.scalar(select(func.count()).select_from(f.stmt.subquery()))
    pages = max(1, -(-total // PER))
    shown = min(page, pages)
    rows = _db.session.execute(OFFICERS.ordered(f.stmt, OFFICERS.sort_arg(args))
                               .limit(PER).offset((shown - 1) * PER)).all()
    return [(r.Officer.id, r.unit_name) for r in rows], shown, pages, total


def test_flag_filtered_officer_pages_match_count_then_limit(app, db):
    build(random.Random(5), n=200)
    seen_totals = set()
    with app.test_request_context("/officers"):
        for flag in ["UNLICENSED", "EXPIRING", "SHOULD_CANCEL", "INELIGIBLE", "TRAINING_SHORTFALL"]:
            for extra in [{}, {"sort": "-name"}, {"sort": "status"}, {"status": "active", "sort": "-unit"}]:
                args = {"flag": flag, **extra}
                assert OFFICERS.filtered(args, TODAY).costly  # the one-statement path is the one tested
                pages = two_statements(args, 1)[2]
                for page in [*range(1, pages + 1), pages + 3]:
                    got = OFFICERS.page({**args, "page": str(page)}, today=TODAY, per_page=PER)
                    want = two_statements(args, page)
                    assert ([(r.Officer.id, r.unit_name) for r in got.rows], got.page, got.pages, got.total) \
                        == want, (args, page)
                seen_totals.add(want[3])
        # a filter nothing matches: no rows, page 1 of 1
        got = OFFICERS.page({"flag": "UNLICENSED", "q": "没有这个人"}, today=TODAY, per_page=PER)
        assert (got.rows, got.page, got.pages, got.total) == ([], 1, 1, 0)
    assert max(seen_totals) > 3 * PER  # several pages exercised
