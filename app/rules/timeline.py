"""A certificate's state on a past day, read from its append-only event history.

The state on day D is the `to_status` of the card's last event dated on or before D (a status event
takes effect on its own date); the card is effective on D when that state is valid and
issued_on ≤ D ≤ expires_on (both inclusive). A card still being applied for is not effective on
any date. A stored state wins over the expiry date, as in the flags. Used by the case check and
the public list's change log; loading is two queries for any number of cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer


@dataclass
class CardHistory:
    id: int
    officer_id: int
    officer_name: str
    kind: str
    number: str
    status: str
    issued_on: date
    expires_on: date
    events: list[tuple[date, int, str]] = field(default_factory=list)  # (effective_on, id, to_status)

    def state_on(self, d: date) -> str:
        """'effective', or why the card was not effective on `d`: not_yet_valid, expired,
        applying, suspended, revoked, cancelled, lost or replaced."""
        if self.status == "applying":
            return "applying"
        state = None
        for when, _id, to_status in self.events:
            if when > d:
                break
            state = to_status
        if state is None:
            return "not_yet_valid"
        if state != "valid":
            return state
        if d < self.issued_on:
            return "not_yet_valid"
        if d > self.expires_on:
            return "expired"
        return "effective"

    def effective_on(self, d: date) -> bool:
        return self.kind == "enforcement" and self.state_on(d) == "effective"

    def effective_span(self, today: date) -> tuple[date, date] | None:
        """The days from `today` on when the card is effective, with the statuses recorded as of
        today and no change assumed after today but the expiry: (first, last day), or None.
        A card issued after today counts from its issue date (the state its history records by
        today, or, when nothing is dated by today yet, the state its first event records)."""
        if self.kind != "enforcement" or self.status == "applying":
            return None
        recorded = [to_status for when, _id, to_status in self.events if when <= today]
        # nothing dated by today: the first event's state; no history at all: the stored status
        state = recorded[-1] if recorded else self.events[0][2] if self.events else self.status
        first = max(today, self.issued_on)
        if state != "valid" or first > self.expires_on:
            return None
        return first, self.expires_on


def load_cards(*where, extra_events: dict[int, list[tuple[date, str]]] | None = None,
               session=None) -> dict[int, CardHistory]:
    """{certificate id: CardHistory} for the certificates matching `where`, with their events.

    `extra_events` lays hypothetical events (a suspension about to be entered) over the history,
    after every recorded event of the same date. Override notes are not status changes."""
    # one statement: each card with its status events (outer join: a card without events too)
    ev = CertificateEvent
    rows = (session or db.session).execute(
        select(Certificate.id, Certificate.officer_id, Officer.name, Certificate.kind, Certificate.number,
               Certificate.status, Certificate.issued_on, Certificate.expires_on,
               ev.effective_on.label("ev_on"), ev.id.label("ev_id"), ev.to_status.label("ev_status"))
        .join(Officer, Officer.id == Certificate.officer_id)
        .outerjoin(ev, (ev.certificate_id == Certificate.id) & (ev.kind != "override"))
        .where(*where)).all()
    cards: dict[int, CardHistory] = {}
    for r in rows:
        card = cards.get(r.id)
        if card is None:
            card = cards[r.id] = CardHistory(r.id, r.officer_id, r.name, r.kind, r.number, r.status,
                                             r.issued_on, r.expires_on)
        if r.ev_id is not None:
            card.events.append((r.ev_on, r.ev_id, r.ev_status))
    for cert_id, extra in (extra_events or {}).items():
        if cert_id in cards:
            cards[cert_id].events += [(d, 1 << 62, s) for d, s in extra]
    for c in cards.values():
        c.events.sort()
    return cards
