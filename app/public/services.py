"""The 行政执法公示 list: today's certified officers, and who joined or left it lately.

The people are exactly those of the printed 执法人员公示名单 (`documents.services.certified_select`):
active officers on an enforcement post holding an effective enforcement certificate today. Nothing
here reads or returns an ID number or a birth date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.certificates.history import load_cards
from app.certificates.models import Certificate, CertificateEvent
from app.documents.services import certified_select
from app.extensions import db
from app.formatting import cn_date
from app.officers.models import Officer, Unit

CHANGE_DAYS = 90


def enabled() -> bool:
    from app.settings.services import get

    return bool(get("public_list_enabled"))


def _row(r) -> dict[str, Any]:
    return {"name": r.name, "unit": r.unit, "number": r.number, "categories": r.categories or "",
            "area": r.area or "", "issued_on": r.issued_on, "expires_on": r.expires_on,
            "validity": f"{cn_date(r.issued_on)}至{cn_date(r.expires_on)}"}


def _filtered(today: date, q: str | None):
    sel = certified_select(today)
    q = (q or "").strip()
    if q:
        # part of the name, or the WHOLE certificate number (no fishing for numbers by prefix)
        sel = sel.where(or_(Officer.name.like(f"%{q}%"), Certificate.number == q))
    return sel


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def holders(today: date, q: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """One page of today's holders, by unit then name, and their number: one statement
    (`page_of`; a page past the end shows the last)."""
    from app.paging import page_of

    rows, total, page = page_of(_filtered(today, q), (Unit.sort_order, Unit.name_pinyin, Unit.name,
                                                     Officer.name_pinyin, Officer.name, Officer.id),
                                page, per_page)
    return Page([_row(r) for r in rows], total, page, max(1, (total + per_page - 1) // per_page))


def all_holders(today: date, q: str | None = None) -> list[dict[str, Any]]:
    sel = _filtered(today, q).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, Officer.id)
    return [_row(r) for r in db.session.execute(sel)]


def _on_post(o, d: date) -> bool:
    """On the list's terms on day `d`: on an enforcement post and active then (an officer who left
    is taken as active until the day their status changed)."""
    if not o.on_enforcement_post:
        return False
    if o.employment_status == "active":
        return True
    return o.status_changed_on is not None and d < o.status_changed_on


def changes(today: date, days: int = CHANGE_DAYS) -> list[dict[str, Any]]:
    """公示变更记录: per day of the last `days` days (newest first), who was added to and removed
    from the list — derived from the certificates' dated events, their issue and expiry dates, and
    the officers' status changes. Four queries."""
    start = today - timedelta(days=days - 1)
    before = start - timedelta(days=1)
    moved = or_(
        Certificate.id.in_(select(CertificateEvent.certificate_id).where(
            CertificateEvent.effective_on.between(start, today))),
        Certificate.issued_on.between(start, today),
        Certificate.expires_on.between(before, today - timedelta(days=1)),
    )
    candidates = select(Certificate.officer_id).where(Certificate.kind == "enforcement", moved)
    involved = or_(Officer.id.in_(candidates), Officer.status_changed_on.between(start, today))
    officers = {o.id: o for o in db.session.execute(
        select(Officer.id, Officer.name, Officer.on_enforcement_post, Officer.employment_status,
               Officer.status_changed_on, Unit.name.label("unit"))
        .join(Unit, Unit.id == Officer.unit_id).where(involved))}
    if not officers:
        return []
    cards: dict[int, list] = defaultdict(list)
    for c in load_cards(Certificate.kind == "enforcement",
                        Certificate.officer_id.in_(select(Officer.id).where(involved))).values():
        cards[c.officer_id].append(c)

    by_day: dict[date, dict[str, list[dict[str, str]]]] = defaultdict(lambda: {"added": [], "removed": []})
    for oid, o in officers.items():
        mine = cards.get(oid, [])
        points = {o.status_changed_on} if o.status_changed_on else set()
        for c in mine:
            points |= {d for d, _id, _s in c.events} | {c.issued_on, c.expires_on + timedelta(days=1)}
        points = sorted(d for d in points if start <= d <= today)

        def member(d: date, o=o, mine=mine):
            if not _on_post(o, d):
                return None
            live = [c for c in mine if c.effective_on(d)]
            return max(live, key=lambda c: (c.expires_on, c.id)) if live else None

        was = member(before)
        for d in points:
            now = member(d)
            if bool(now) != bool(was):
                card = now or was
                entry = {"name": o.name, "unit": o.unit, "number": card.number}
                by_day[d]["added" if now else "removed"].append(entry)
            was = now
    return [{"date": d, **by_day[d]} for d in sorted(by_day, reverse=True)]
