"""The certificate timeline's SQL forms (app/rules/timeline.py, run on the test database: SQLite, and
PostgreSQL in CI) against its Python forms (CardHistory, best_card, certified) on random small
registers: random cards (every kind and stored status), random dated events (ties on one day,
override notes, events dated in the future), random days D. State on D, effective on D and now,
an officer's best card, the certified set, the officers effective on D, a period's valid cards
(both forms) and the forecast's spans must agree exactly."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer
from app.rules import timeline
from app.rules.timeline import (
    ID_SPAN,
    best_card,
    best_effective,
    best_key_on,
    certified,
    certified_select,
    effective_now,
    effective_officers_on,
    effective_on,
    effective_spans,
    load_cards,
    state_on,
    states_on,
    valid_during,
)
from tests.factories import OfficerFactory, UnitFactory

BASE = date(2026, 6, 15)
STORED = ["valid"] * 5 + ["applying", "suspended", "cancelled", "revoked", "lost", "replaced"]
TO = ["valid"] * 4 + ["suspended", "cancelled", "revoked", "lost", "replaced", "applying"]


def _day(rng: random.Random, spread: int = 1500) -> date:
    return BASE + timedelta(days=rng.randint(-spread, spread // 2))


def build(rng: random.Random) -> list[date]:
    """About 25 officers with 0–4 cards each and 0–5 events per card, inserted out of date order
    (so ids do not follow dates); returns the days to look at (event days, card edges, random)."""
    units = [UnitFactory(name=f"时间线单位{i}") for i in range(3)]
    days = {BASE}
    n = 0
    for _ in range(25):
        o = OfficerFactory(unit=rng.choice(units), on_enforcement_post=rng.random() < 0.8,
                           employment_status=rng.choice(["active"] * 4 + ["retired", "transferred"]))
        for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
            n += 1
            issued = _day(rng)
            expires = issued + timedelta(days=rng.choice([-10, 0, 1, 200, 700, 1800]))
            c = Certificate(officer_id=o.id, kind=rng.choice(["enforcement"] * 4 + ["supervision"]),
                            number=f"TL{n:05d}", issued_on=issued, expires_on=expires, status=rng.choice(STORED))
            _db.session.add(c)
            _db.session.flush()
            events = []
            for k in range(rng.choice([0, 1, 1, 2, 3, 5])):
                when = issued if k == 0 and rng.random() < 0.7 else _day(rng)
                if events and rng.random() < 0.2:
                    when = rng.choice(events)[1]  # several events on one day: the greatest id wins
                kind = rng.choice(["issue", "status", "status", "override"])
                events.append((kind, when, rng.choice(TO)))
            rng.shuffle(events)
            for kind, when, to in events:
                _db.session.add(CertificateEvent(certificate_id=c.id, kind=kind, from_status=None, to_status=to,
                                                 effective_on=when, actor="test"))
                days.update({when, when - timedelta(days=1)})
            days.update({issued, expires, expires + timedelta(days=1)})
    _db.session.flush()
    return sorted(rng.sample(sorted(days), 12)) + [BASE]


def _officers() -> tuple[list[int], set[int]]:
    rows = _db.session.execute(select(Officer.id, Officer.employment_status, Officer.on_enforcement_post)).all()
    return [r.id for r in rows], {r.id for r in rows if r.employment_status == "active" and r.on_enforcement_post}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_and_python_timelines_agree(db, seed):
    rng = random.Random(seed)
    days = build(rng)
    cards = load_cards()
    officer_ids, on_post = _officers()
    by_officer: dict[int, list] = {i: [] for i in officer_ids}
    for c in cards.values():
        by_officer[c.officer_id].append(c)
    seen = {"effective": 0, "certified": 0, "states": set()}

    for d in days:
        # the state on D: one card at a time, and every card at once
        one = dict(_db.session.execute(select(Certificate.id, state_on(Certificate.id, d))).all())
        assert one == {cid: c.recorded_state(d) for cid, c in cards.items()}, d
        every = dict(_db.session.execute(select(states_on(d))).all())
        assert every == {cid: s for cid, s in one.items() if s is not None}, d
        seen["states"].update(every.values())

        # effective on D (history) and now (stored status)
        hist = set(_db.session.scalars(select(Certificate.id).where(effective_on(d))))
        assert hist == {cid for cid, c in cards.items() if c.effective_on(d)}, d
        now = set(_db.session.scalars(select(Certificate.id).where(effective_now(d))))
        assert now == {cid for cid, c in cards.items() if c.effective_now(d)}, d
        assert set(_db.session.scalars(effective_officers_on(d))) == {cards[cid].officer_id for cid in hist}, d
        seen["effective"] += len(hist)

        # an officer's best card: by history (best_key_on) and now (best_effective)
        keys = dict(_db.session.execute(select(Officer.id, best_key_on(Officer.id, d))).all())
        got = {oid: (k % ID_SPAN if k is not None else None) for oid, k in keys.items()}
        want = {oid: (b.id if (b := best_card(cs, d)) else None) for oid, cs in by_officer.items()}
        assert got == want, d
        eff = best_effective(d)
        got_now = dict(_db.session.execute(select(eff.c.officer_id, eff.c.cert_id)).all())
        want_now = {oid: b.id for oid, cs in by_officer.items() if (b := best_card(cs, d, now=True))}
        assert got_now == want_now, d

        # the certified set, each officer with their card
        got_set = {r.id: r.number for r in _db.session.execute(certified_select(d))}
        assert got_set == {oid: c.number for oid, c in certified(cards.values(), on_post, d).items()}, d
        seen["certified"] += len(got_set)

        # the forecast's spans from D to a year later
        end = d + timedelta(days=365)
        spans = {r.id: (r.first, r.last) for r in _db.session.execute(effective_spans(d, end))}
        want_spans = {}
        for cid, c in cards.items():
            span = c.effective_span(d)
            if span is not None and span[0] <= end:
                want_spans[cid] = ((span[0] - d).days, (span[1] - d).days)
        assert spans == want_spans, d

    assert seen["effective"] and seen["certified"]  # the random registers are not empty
    assert {"valid", "suspended"} <= seen["states"]


@pytest.mark.parametrize("seed", [5, 6])
def test_both_forms_of_a_periods_valid_cards_agree_with_python(db, monkeypatch, seed):
    """valid_during: the per-card seek (SQLite; few cards) and the GROUP BY form (PostgreSQL) pick
    the cards valid on the period's first day or made valid during it, as the history says."""
    rng = random.Random(seed)
    build(rng)
    cards = load_cards()
    events = {cid: c.events for cid, c in cards.items()}
    for year in (2023, 2025, 2026):
        start, end = date(year, 1, 1), date(year, 12, 31)
        want = {cid for cid, c in cards.items()
                if c.recorded_state(start) == "valid"
                or any(start <= when <= end and to == "valid" for when, _id, to in events[cid])}
        seek = set(_db.session.scalars(select(Certificate.id).where(valid_during(start, end, few=True))))
        monkeypatch.setattr(timeline, "on_postgresql", lambda: True)
        grouped = set(_db.session.scalars(select(Certificate.id).where(valid_during(start, end))))
        monkeypatch.undo()
        assert seek == grouped == want, year
        assert want
