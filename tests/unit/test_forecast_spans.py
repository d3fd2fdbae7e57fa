"""The forecast's card spans, decided in SQL (forecast.card_spans), are the cards' own
CardHistory.effective_span: the state the history records as of today, whatever the events."""

from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer
from app.reports.forecast import card_spans
from app.retirement import RULES, born_by_to_retire, retirement_date
from app.rules.timeline import load_cards
from tests.factories import CertificateFactory, OfficerFactory

TODAY = date(2026, 6, 15)
END = date(2027, 6, 15)


def event(cert, kind, to_status, on):
    db.session.add(CertificateEvent(certificate=cert, kind=kind, from_status=None, to_status=to_status,
                                    effective_on=on, actor="test"))


def test_card_spans_are_the_histories_effective_spans(ctx):
    o = OfficerFactory()
    CertificateFactory(officer=o, number="S-1")                                  # valid all along
    later = CertificateFactory(officer=o, number="S-2", status="suspended")
    event(later, "status", "suspended", TODAY + timedelta(days=30))                      # suspension dated later:
    event(later, "status", "valid", date(2025, 1, 1))                                    # valid as of today
    back = CertificateFactory(officer=o, number="S-3")
    event(back, "status", "suspended", date(2026, 1, 1))
    event(back, "status", "valid", TODAY + timedelta(days=3))                            # reinstated later: not yet
    CertificateFactory(officer=o, number="S-4", issued_on=date(2026, 9, 1))     # issued after today
    noted = CertificateFactory(officer=o, number="S-5", status="revoked")
    event(noted, "status", "revoked", date(2026, 2, 1))
    event(noted, "override", "valid", date(2026, 3, 1))                                  # a note, not a status
    db.session.add(Certificate(officer=o, kind="enforcement", number="S-6", issuing_authority="x",  # no events
                               issued_on=date(2024, 1, 1), expires_on=date(2030, 1, 1), status="valid"))
    CertificateFactory(officer=o, number="S-7", issued_on=date(2027, 7, 1))              # after the horizon
    CertificateFactory(officer=o, number="S-8", expires_on=date(2026, 6, 14))            # expired
    db.session.flush()

    got = {r.number: (r.first, r.last) for r in db.session.execute(card_spans(TODAY, END, (Officer.id == o.id,)))}
    expected = {}
    for card in load_cards(Certificate.officer_id == o.id).values():
        span = card.effective_span(TODAY)
        if span is not None and span[0] <= END:
            expected[card.number] = ((span[0] - TODAY).days, (span[1] - TODAY).days)
    assert got == expected
    assert set(got) == {"S-1", "S-2", "S-4", "S-6"}
    assert got["S-4"] == ((date(2026, 9, 1) - TODAY).days, (date(2028, 12, 31) - TODAY).days)


def test_born_by_to_retire_bounds_every_rule():
    for day in (date(2026, 6, 15), date(2027, 1, 1), date(2040, 12, 31)):
        bound = born_by_to_retire(day)
        for (gender, basis) in RULES:
            for later in (1, 2, 40, 400, 4000):  # born after the bound: not retired by `day`
                assert retirement_date(bound + timedelta(days=later), gender, basis) > day
    # the bound is the whole year of birth: someone born early that year under the lowest age may retire
    assert retirement_date(date(1976, 1, 1), "F", 50) <= date(2026, 12, 31) and born_by_to_retire(
        date(2026, 12, 31)) >= date(1976, 1, 1)
