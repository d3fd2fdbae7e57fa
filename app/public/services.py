"""The 行政执法公示 list: today's certified officers, and who joined or left it lately.

The people are exactly those of the printed 执法人员公示名单: the certified set
(app/rules/timeline.py `certified_select`), active officers on an enforcement post holding an
effective enforcement certificate today. Nothing
here reads or returns an ID number or a birth date.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, exists, func, or_, select, union
from sqlalchemy.orm import aliased

from app.extensions import db
from app.formatting import cn_date
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from app.models_base import sql_function
from app.rules.timeline import (
    best_effective,
    best_key_on,
    certified_select,
    effective_now,
    unpack_id,
)
from app.settings.services import get

CHANGE_DAYS = 90


def enabled() -> bool:
    return bool(get("public_list_enabled"))


def _row(r) -> dict[str, Any]:
    return {"name": r.name, "unit": r.unit, "number": r.number, "categories": r.categories or "",
            "area": r.area or "", "issued_on": r.issued_on, "expires_on": r.expires_on,
            "validity": f"{cn_date(r.issued_on)}至{cn_date(r.expires_on)}"}


ORDER = (Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, Officer.id)


def _search(sel, q: str | None):
    q = (q or "").strip()
    if q:
        # part of the name, or the WHOLE certificate number (no fishing for numbers by prefix)
        sel = sel.where(or_(Officer.name.like(f"%{q}%"), Certificate.number == q))
    return sel


def _filtered(today: date, q: str | None):
    return _search(certified_select(today), q)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def holders(today: date, q: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """One page of today's holders, by unit then name, and their number (a page past the end shows
    the last). One statement; the same people, rows and order as `all_holders` (tested).

    Only keys go into the CTE `holders` (read more than once, so both databases materialize
    it): the officers on post holding an effective enforcement certificate
    (an EXISTS probe of ix_certificate_officer_kind_status_expires_issued per officer, or a hash semi
    join) with their sort columns. The count, the page's offset and the ordered page are read from
    it; only the page's rows get their certificate (`best_effective` for those officers) and their
    columns. The search matches part of the name, or the whole number of the certificate shown
    (the effective one that expires last: no effective one expiring later, ties by id). (ROW_NUMBER()
    and COUNT(*) OVER () over the joined full rows, as `page_of` does, cost twice as much.)"""
    c = Certificate
    keys = (select(Officer.id.label("officer_id"), Unit.sort_order.label("unit_order"),
                   Unit.name_pinyin.label("unit_pinyin"), Unit.name.label("unit_name"),
                   Officer.name_pinyin.label("pinyin"), Officer.name.label("name"))
            .join(Unit, Unit.id == Officer.unit_id)
            .where(Officer.on_post, exists().where(c.officer_id == Officer.id, effective_now(today, c))))
    q = (q or "").strip()
    if q:
        # the officers whose best effective card (the one shown) has that number: the best cards
        # of the officers holding a card of that number (an index look-up by number)
        best = best_effective(today, officer_ids=select(c.officer_id).where(c.number == q), name="numbered")
        shown_number = select(best.c.officer_id).join(c, c.id == best.c.cert_id).where(c.number == q)
        keys = keys.where(or_(Officer.name.like(f"%{q}%"), Officer.id.in_(shown_number)))
    h = keys.cte("holders")
    total = select(func.count()).select_from(h).scalar_subquery()
    offset = 0
    if page > 1:  # the last page when `page` is past it; the count read once
        n = select(func.count().label("n")).select_from(h).subquery("counted")
        pages = (n.c.n + (per_page - 1)) // per_page
        offset = select(case((n.c.n == 0, 0), (pages < page, (pages - 1) * per_page),
                             else_=(page - 1) * per_page)).scalar_subquery()
    order = (h.c.unit_order, h.c.unit_pinyin, h.c.unit_name, h.c.pinyin, h.c.name, h.c.officer_id)
    shown = (select(total.label("total"), *order).order_by(*order).limit(per_page).offset(offset)
             .cte("shown"))
    eff = best_effective(today, officer_ids=select(shown.c.officer_id))
    rows = db.session.execute(
        select(Officer.name, Unit.name.label("unit"), c.number, c.categories, c.area, c.issued_on,
               c.expires_on, shown.c.total)
        .select_from(shown)
        .join(eff, eff.c.officer_id == shown.c.officer_id)
        .join(c, c.id == eff.c.cert_id)
        .join(Officer, Officer.id == shown.c.officer_id)
        .join(Unit, Unit.id == Officer.unit_id)
        .order_by(shown.c.unit_order, shown.c.unit_pinyin, shown.c.unit_name, shown.c.pinyin, shown.c.name,
                  shown.c.officer_id)).all()
    total_n = rows[0].total if rows else 0
    pages_n = max(1, -(-total_n // per_page))
    return Page([_row(r) for r in rows], total_n, max(1, min(page, pages_n)), pages_n)


def all_holders(today: date, q: str | None = None) -> list[dict[str, Any]]:
    return [_row(r) for r in db.session.execute(_filtered(today, q).order_by(*ORDER))]


next_day = sql_function("next_day", Date(), "({} + 1)", "date({}, '+1 day')",
                        "The day after a DATE column, as a DATE, on either database.")


@functools.cache
def _changes_select():
    """`changes`' statement, built once (its dates are bound parameters: :start, :before, :today,
    :yesterday)."""
    start, before = bindparam("start", type_=Date), bindparam("before", type_=Date)
    today, yesterday = bindparam("today", type_=Date), bindparam("yesterday", type_=Date)
    c, e, o = Certificate, CertificateEvent, Officer
    pts = union(
        # the card's officer looked up per event (a primary key probe each, on both databases)
        select(select(c.officer_id).where(c.id == e.certificate_id).scalar_subquery().label("officer_id"),
               e.effective_on.label("d")).where(e.effective_on.between(start, today)),
        select(c.officer_id, c.issued_on).where(c.issued_on.between(start, today)),
        select(c.officer_id, next_day(c.expires_on)).where(c.expires_on.between(before, yesterday)),
        select(o.id, o.status_changed_on).where(o.status_changed_on.between(start, today)),
    ).cte("pts")
    baseline = select(pts.c.officer_id, before.label("d")).distinct()
    points = union(select(pts.c.officer_id, pts.c.d), baseline).cte("points")

    # the officer's best card effective on the point, by history (app/rules/timeline.py)
    best = best_key_on(points.c.officer_id, points.c.d)
    on_post = and_(o.on_enforcement_post.is_(True),
                   or_(o.employment_status == "active",
                       and_(o.status_changed_on.is_not(None), points.c.d < o.status_changed_on)))
    # OFFSET 0: not merged into the LAG() query below, so that `best` runs once per point
    member = (select(points.c.officer_id, points.c.d, case((on_post, best)).label("key"))
              .join(o, o.id == points.c.officer_id).offset(0).cte("member"))
    flips = select(member.c.officer_id, member.c.d, member.c.key,
                   func.lag(member.c.key).over(partition_by=member.c.officer_id, order_by=member.c.d)
                   .label("was")).subquery("flips")
    now_in, was_in = flips.c.key.is_not(None), flips.c.was.is_not(None)
    card = aliased(Certificate)
    return (
        select(flips.c.d, now_in.label("added"), o.name, Unit.name.label("unit"), card.number)
        .join(o, o.id == flips.c.officer_id).join(Unit, Unit.id == o.unit_id)
        .join(card, card.id == unpack_id(func.coalesce(flips.c.key, flips.c.was)))
        .where(flips.c.d >= start, or_(and_(now_in, ~was_in), and_(~now_in, was_in)))
        .order_by(flips.c.d.desc(), flips.c.officer_id))


def changes(today: date, days: int = CHANGE_DAYS) -> list[dict[str, Any]]:
    """公示变更记录: per day of the last `days` days (newest first), who was added to and removed
    from the list (each day's people in officer id order).

    One statement, set-wise. An officer's membership can only change on a day when one of their
    certificates has a status event, is issued, or has just expired (the day after its expiry
    date), or when their employment status changed: those days in the window are the officer's
    points (`pts`, found through the date indexes; a point of a supervision card or an override
    note is harmless: the membership is only tested there), plus the day before the window as
    the baseline. Only officers with a point are looked at. On each point the officer is on the list when on an
    enforcement post and active then (an officer who left is taken as active until the day their
    status changed) and holding an enforcement certificate effective that day (as
    app.rules.timeline: the card's last non-override event dated on or before the day says
    valid, the day within issued_on..expires_on, not an application): one index probe per card
    of the officer (ix_certificate_officer_kind_status_expires_issued) and one backward probe of
    ix_certificate_event_cert_effective. The certificate shown is the effective one that expires
    last (ties: greatest id). LAG() over each officer's points finds the days the membership
    flipped: added (with the card held then) or removed (with the card held before).
    """
    start = today - timedelta(days=days - 1)
    rows = db.session.execute(_changes_select(), {
        "start": start, "before": start - timedelta(days=1), "today": today, "yesterday": today - timedelta(days=1)})
    by_day: dict[date, dict[str, list[dict[str, str]]]] = {}
    for r in rows:
        day = by_day.setdefault(r.d, {"added": [], "removed": []})
        day["added" if r.added else "removed"].append({"name": r.name, "unit": r.unit, "number": r.number})
    return [{"date": d, **entries} for d, entries in by_day.items()]
