"""The public list in SQL gives the same answer as the obviously-correct forms on random
registries: the 公示变更记录 (`changes`, one set-wise statement) against a day-by-day evaluation of
every officer on every day of the window from the cards' event history (app.rules.timeline);
the paged list (`holders`) against the full ordered list of `certified_select` (which the .xlsx and
the PDF print), page by page, with and without a search.

The histories are hostile: several cards per officer, events on the window's edges and on the
same day, override notes, events before issue and in the future, cards still being applied for,
supervision cards, cards of equal expiry, officers who left (before, inside and after the window),
officers off their enforcement post."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer
from app.public import services
from app.rules.timeline import load_cards
from tests.factories import OfficerFactory, UnitFactory

TODAYS = [date(2026, 6, 15), date(2026, 3, 1), date(2025, 12, 31)]
D = timedelta


def _world(db, seed: int, n: int = 120) -> None:
    rng = random.Random(seed)
    units = [UnitFactory(sort_order=rng.choice([0, 1, 1, 2])) for _ in range(4)]
    lo, hi = date(2025, 8, 1), date(2026, 7, 1)  # around the windows of TODAYS

    def day() -> date:
        return lo + D(days=rng.randint(0, (hi - lo).days))

    for i in range(n):
        status = rng.choice(["active"] * 6 + ["retired", "transferred", "dismissed"])
        o = OfficerFactory(unit=rng.choice(units), name=rng.choice(["张伟", "李娜", "王芳", f"人员{i}"]),
                           on_enforcement_post=rng.random() < 0.85, employment_status=status,
                           status_changed_on=None if status == "active" and rng.random() < 0.8 else day())
        for k in range(rng.choice([0, 1, 1, 2, 2, 3])):
            kind = "enforcement" if rng.random() < 0.9 else "supervision"
            issued = day() - D(days=rng.choice([0, 200, 400, 1500]))
            expires = rng.choice([issued + D(days=rng.randint(30, 2000)), day()])
            card_status = rng.choice(["valid"] * 6 + ["suspended", "revoked", "applying", "replaced", "lost"])
            c = Certificate(officer_id=o.id, kind=kind, number=f"P{seed}-{i}-{k}", issued_on=issued,
                            expires_on=max(expires, issued), status=card_status)
            db.session.add(c)
            db.session.flush()
            events = [] if rng.random() < 0.05 else [(issued + D(days=rng.choice([0, 0, 0, 5, -3])), "valid", "issue")]
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                when = rng.choice([events[-1][0] if events else issued, day(), day()])
                events.append((when, rng.choice(["suspended", "valid", "valid", "revoked", "cancelled"]),
                               rng.choice(["status", "status", "status", "override"])))
            for when, to, ev_kind in events:
                db.session.add(CertificateEvent(certificate_id=c.id, kind=ev_kind, from_status=None,
                                                to_status=to, effective_on=when))
    db.session.flush()


def _changes_by_brute_force(today: date, days: int) -> list[dict]:
    """Every officer on every day from the day before the window to today: on the list when on an
    enforcement post and active that day (a leaver until the day of their status change) and
    holding an effective enforcement card; shown with the one that expires last (ties: greatest
    id). A flip is an entry on that day, with the card held after (added) or before (removed)."""
    cards: dict[int, list] = {}
    for c in load_cards(Certificate.kind == "enforcement").values():
        cards.setdefault(c.officer_id, []).append(c)
    start = today - D(days=days - 1)
    by_day: dict[date, dict[str, list]] = {}
    officers = select(Officer).order_by(Officer.id)
    for o in services.db.session.scalars(officers):
        def member(d: date, o=o):
            active = o.employment_status == "active" or (o.status_changed_on is not None and d < o.status_changed_on)
            if not (o.on_enforcement_post and active):
                return None
            live = [c for c in cards.get(o.id, []) if c.effective_on(d)]
            return max(live, key=lambda c: (c.expires_on, c.id)) if live else None

        was = member(start - D(days=1))
        for offset in range(days):
            d = start + D(days=offset)
            now = member(d)
            if bool(now) != bool(was):
                entry = {"name": o.name, "unit": o.unit.name, "number": (now or was).number}
                by_day.setdefault(d, {"added": [], "removed": []})["added" if now else "removed"].append(entry)
            was = now
    return [{"date": d, **by_day[d]} for d in sorted(by_day, reverse=True)]


def test_change_log_matches_a_day_by_day_evaluation(db):
    for seed in (1, 2):
        _world(db, seed)
    seen = 0
    for today in TODAYS:
        for days in (services.CHANGE_DAYS, 30):
            expected = _changes_by_brute_force(today, days)
            assert services.changes(today, days) == expected, (today, days)
            seen += sum(len(x["added"]) + len(x["removed"]) for x in expected)
    assert seen > 100  # additions and removals both occur, on many days


def _pages_match(today: date, q: str, per_page: int = 7) -> int:
    full = services.all_holders(today, q)
    pages = max(1, -(-len(full) // per_page))
    shown = []
    for page in range(1, pages + 1):
        p = services.holders(today, q, page, per_page)
        assert (p.total, p.page, p.pages) == (len(full), page, pages), (today, q, page)
        shown += p.rows
    assert shown == full, (today, q)
    past = services.holders(today, q, pages + 5, per_page)
    assert (past.page, past.rows) == (pages, full[(pages - 1) * per_page:])
    assert services.holders(today, q, -3, per_page).rows == full[:per_page]
    return len(full)


def test_pages_are_the_full_list_cut_in_pieces(db):
    for seed in (3, 4):
        _world(db, seed)
    for today in TODAYS:
        assert _pages_match(today, "") > 20
        assert _pages_match(today, "张") > 7
        assert _pages_match(today, "人员1") > 0
        assert _pages_match(today, "没有") == 0
        # whole numbers: of a holder's card shown, and of every other card (a card not shown finds
        # nobody, even an effective card of an officer on the list with one expiring later)
        shown = {r["number"] for r in services.all_holders(today)}
        cards = load_cards().values()
        assert any(c.effective_on(today) and c.number not in shown for c in cards) or today != TODAYS[0]
        numbers = sorted(c.number for c in cards)
        for number in numbers if today == TODAYS[0] else random.Random(5).sample(numbers, 30):
            assert _pages_match(today, number) == (number in shown)
