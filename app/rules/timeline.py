"""A certificate's timeline: its state on a day, whether it is effective, an officer's best card and
the certified set — each written once here, in SQL and (where Python needs it) in Python. The flags,
the reviews, the annual figures, the public list, the case check and the forecast all use it.

- **The state on day D** (by history): the `to_status` of the card's last status event dated on or
  before D (a status event takes effect on its own date), by effective date, ties the greatest id.
  Override notes are not status changes. No event by D: no state (not yet valid).
- **Effective on D** (by history): an enforcement card, not still being applied for, whose state on
  D is valid and issued_on ≤ D ≤ expires_on (both inclusive).
- **Effective now** (by the stored status): the same for today with the card's stored status for
  its state — the flags' and today's lists' reading (a stored state wins over the expiry date).
- **An officer's best effective card**: of their effective cards, the one that expires last (ties:
  the greatest id).
- **The certified set** on a day: active officers on an enforcement post with a card effective now,
  each with their best effective card (the printed 持证人员名册 and 公示名单, the public list page).

SQL forms: `state_on` (one card at a time, a backward seek of ix_certificate_event_cert_effective)
and `states_on` (every card at once, one GROUP BY), `effective_on`, `effective_now`,
`best_effective` / `best_key_on`, `certified_select`, `valid_during` (a period), `effective_spans`
(the forecast). Where SQLite and PostgreSQL must differ, both forms are written side by side
(`day_number`, `valid_during`). Python: `CardHistory` (loaded by `load_cards`: the case check, the
public list's change log), `best_card`, `certified`. tests/unit/test_timeline_oracle.py proves the
forms agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BigInteger, Integer, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from app.extensions import db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from app.models_base import sql_function

# --- days and (date, id) keys as integers, on either database ----------------------------------


day_number = sql_function(
    "day_number", BigInteger(), "(CAST({} AS DATE) - DATE '1970-01-01')",
    "(CAST(julianday({}) AS INTEGER) - 2440587)",
    "Whole days since 1970-01-01 of a DATE column, as an integer, on either database.")


def epoch_days(day: date) -> int:
    """`day_number` of a Python date."""
    return (day - date(1970, 1, 1)).days


ID_SPAN = 10**10  # ids below this; a (date, id) pair packed into one integer sorts like the pair


def pack(day_col, id_col):
    return day_number(day_col) * ID_SPAN + id_col


def unpack_id(key):
    return cast(key % ID_SPAN, Integer)


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# --- the state on day D -----------------------------------------------------------------------


def status_event(ev=CertificateEvent):
    """The events that change a card's state (an override is a note: not one of them)."""
    return ev.kind != "override"


def state_on(cert_id, day):
    """Scalar subquery: the state of certificate `cert_id` (a column) on `day` (a date or a date
    column) — one card at a time, by one backward seek of ix_certificate_event_cert_effective."""
    ev = aliased(CertificateEvent, name="ev_on")
    return (select(ev.to_status)
            .where(ev.certificate_id == cert_id, status_event(ev), ev.effective_on <= day)
            .order_by(ev.effective_on.desc(), ev.id.desc()).limit(1)
            .correlate_except(ev).scalar_subquery())


def states_on(day: date):
    """Subquery (certificate_id, to_status): every card's state on `day`, at once. One GROUP BY over
    the events in certificate order with a packed (date, id) MAX — the same pick as ROW_NUMBER()
    OVER (PARTITION BY certificate ORDER BY effective_on DESC, id DESC) = 1, without sorting
    60,000 events. A card without an event by `day` has no row."""
    ev = CertificateEvent
    last = (select(ev.certificate_id, func.max(pack(ev.effective_on, ev.id)).label("key"))
            .where(ev.effective_on <= day, status_event(ev)).group_by(ev.certificate_id).subquery("last_event"))
    picked = aliased(CertificateEvent, name="picked_event")
    return (select(last.c.certificate_id, picked.to_status)
            .join(picked, picked.id == unpack_id(last.c.key)).subquery("status_on"))


# --- effective on D, effective now ------------------------------------------------------------


def effective_on(day, cert=Certificate):
    """Condition on `cert`: effective on `day` (a date or a date column) by its history."""
    return and_(cert.kind == "enforcement", cert.status != "applying",
                cert.issued_on <= day, cert.expires_on >= day, state_on(cert.id, day) == "valid")


def effective_now(today: date, cert=Certificate, *, kind: bool = True):
    """Condition on `cert`: effective `today` by its stored status. `kind=False` leaves the
    enforcement test to the caller (a join that already picks enforcement cards)."""
    cond = and_(cert.status == "valid", cert.issued_on <= today, cert.expires_on >= today)
    return and_(cert.kind == "enforcement", cond) if kind else cond


def effective_officers_on(day: date) -> Select:
    """Select of the officer ids holding a card effective on `day` by history (an officer once per
    card). The cards in force on `day` by their dates first, then each one's last event by one
    backward index seek — not a GROUP BY over every event of every card."""
    return select(Certificate.officer_id).where(effective_on(day))


def valid_during(start: date, end: date, few: bool = False):
    """Condition on Certificate: its history shows it valid on `start` (its state that day) or made
    valid between `start` and `end` — with dates overlapping the period, effective on at least one
    day of it (the annual review's certificates of the year). SQLite, and PostgreSQL for `few`
    certificates asked about by id: one index seek per certificate. PostgreSQL, slower at a
    correlated subquery per row (and JIT-compiling a plan of that estimated cost): one GROUP BY
    over the events, the answer read off each certificate's greatest event key."""
    ev = aliased(CertificateEvent, name="ev_elig")
    if few or not on_postgresql():
        became_valid = exists().where(ev.certificate_id == Certificate.id, status_event(ev),
                                      ev.to_status == "valid", ev.effective_on.between(start, end))
        return or_(state_on(Certificate.id, start) == "valid", became_valid)
    is_valid = ev.to_status == "valid"
    # one key per event, the greatest wins: any event making it valid during the period (odd, above
    # every other key); else the events up to `start`, as (date, id) packed, doubled, + 1 when it
    # made the certificate valid — the last one's parity is its state on `start`
    score = case((and_(is_valid, ev.effective_on >= start), literal(_BECAME_VALID, BigInteger)),
                 (ev.effective_on <= start, pack(ev.effective_on, ev.id) * 2 + case((is_valid, 1), else_=0)))
    # OFFSET 0 keeps the condition out of the GROUP BY's HAVING, where PostgreSQL would guess
    # 1 % of the certificates and join officer by 20,000 index look-ups instead of a hash
    keys = (select(ev.certificate_id, (func.max(score) % 2 == 1).label("ok"))
            .where(ev.effective_on <= end, status_event(ev))
            .group_by(ev.certificate_id).offset(0).subquery("ev_key"))
    return Certificate.id.in_(select(keys.c.certificate_id).where(keys.c.ok))


_BECAME_VALID = 2**62 + 1  # odd, above any doubled pack() key


# --- an officer's best effective card, the certified set --------------------------------------


def best_effective(today: date, officer_id: int | None = None, officer_ids=None, name: str = "best_eff"):
    """CTE `best_eff`: per officer, the card effective now that expires last (officer_id, cert_id,
    expires_on) — one GROUP BY over the effective certificates in
    ix_certificate_officer_kind_status_expires_issued order (see compliance.officer_state);
    `officer_id` or `officer_ids` limit it to those officers; `name`: another name for a second
    one in the same statement."""
    c = Certificate
    q = (select(c.officer_id, func.max(pack(c.expires_on, c.id)).label("key"),
                func.max(c.expires_on).label("expires_on"))
         .where(effective_now(today)).group_by(c.officer_id))
    if officer_id is not None:
        q = q.where(c.officer_id == officer_id)
    if officer_ids is not None:
        q = q.where(c.officer_id.in_(officer_ids))
    g = q.subquery(f"{name}_keys")
    return select(g.c.officer_id, unpack_id(g.c.key).label("cert_id"), g.c.expires_on).cte(name)


def best_key_on(officer_id, day):
    """Scalar subquery: the packed (expires_on, id) of the officer's best card effective on `day`
    by history (NULL: none); `officer_id` and `day` may be columns of the enclosing statement.
    One index probe per card of the officer, one backward seek of its events."""
    cc = aliased(Certificate, name="best_card")
    return (select(func.max(pack(cc.expires_on, cc.id)))
            .where(cc.officer_id == officer_id, effective_on(day, cc))
            .correlate_except(cc).scalar_subquery())


def certified_select(today: date):
    """The certified set: active officers on an enforcement post holding a card effective now, each
    with their best effective card (the printed lists and the public page /public/officers)."""
    eff = best_effective(today)
    return (
        select(Officer.id, Officer.name, Officer.gender, Officer.position, Unit.name.label("unit"),
               Unit.sort_order, Certificate.number, Certificate.categories, Certificate.area,
               Certificate.issued_on, Certificate.expires_on)
        .select_from(Officer)
        .join(Unit, Unit.id == Officer.unit_id)
        .join(eff, eff.c.officer_id == Officer.id)
        .join(Certificate, Certificate.id == eff.c.cert_id)
        .where(Officer.on_post)
    )


# --- the span a card stays effective (the forecast) -------------------------------------------


def effective_spans(today: date, end: date, *where) -> Select:
    """One row per enforcement card (of the officers matching `where`, on Officer and Certificate)
    effective on some day from `today` to `end` — CardHistory.effective_span in SQL: the card's state
    is the `to_status` of its last status event dated by today (by date, then id), else of its first
    event, else its stored status; it counts from max(today, issued_on) to expires_on when that
    state is valid. Columns: id, number, `first` and `last` (the span, as days after today);
    Officer is joined (add its columns with `add_columns`)."""
    c, ev = Certificate, CertificateEvent
    keys = (select(c.id.label("cert_id"),
                   func.max(case((ev.effective_on <= today, pack(ev.effective_on, ev.id)))).label("rec"),
                   func.min(pack(ev.effective_on, ev.id)).label("first_ev"))
            .join(Officer, Officer.id == c.officer_id)
            .outerjoin(ev, and_(ev.certificate_id == c.id, status_event(ev)))
            .where(c.kind == "enforcement", c.status != "applying", c.expires_on >= today,
                   c.issued_on <= end, *where)
            .group_by(c.id)).subquery("card_keys")
    rec, first_ev = aliased(CertificateEvent, name="rec_ev"), aliased(CertificateEvent, name="first_ev")
    state = func.coalesce(rec.to_status, first_ev.to_status, c.status)
    day0 = epoch_days(today)
    first = case((c.issued_on > today, day_number(c.issued_on) - day0), else_=literal(0))
    return (select(c.id, c.number, first.label("first"), (day_number(c.expires_on) - day0).label("last"))
            .select_from(keys)
            .join(c, c.id == keys.c.cert_id)
            .join(Officer, Officer.id == c.officer_id)
            .outerjoin(rec, rec.id == unpack_id(keys.c.rec))
            .outerjoin(first_ev, first_ev.id == unpack_id(keys.c.first_ev))
            .where(state == "valid", c.issued_on <= c.expires_on))


# --- Python ---------------------------------------------------------------------------------------


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

    def recorded_state(self, d: date) -> str | None:
        """The state on `d` as the history records it (`state_on` in SQL): the last event's
        `to_status` dated on or before `d`; None before the first."""
        state = None
        for when, _id, to_status in self.events:
            if when > d:
                break
            state = to_status
        return state

    def state_on(self, d: date) -> str:
        """'effective', or why the card was not effective on `d`: not_yet_valid, expired,
        applying, suspended, revoked, cancelled, lost or replaced."""
        if self.status == "applying":
            return "applying"
        state = self.recorded_state(d)
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

    def effective_now(self, today: date) -> bool:
        """Effective `today` by the stored status (`effective_now` in SQL)."""
        return (self.kind == "enforcement" and self.status == "valid"
                and self.issued_on <= today <= self.expires_on)

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


def best_card(cards: Iterable[CardHistory], d: date, *, now: bool = False) -> CardHistory | None:
    """Of `cards` (one officer's), the effective one on `d` that expires last, ties the greatest id
    (`best_key_on` in SQL; with `now`, effective by the stored status: `best_effective`)."""
    effective = [c for c in cards if (c.effective_now(d) if now else c.effective_on(d))]
    return max(effective, key=lambda c: (c.expires_on, c.id), default=None)


def certified(cards: Iterable[CardHistory], on_post: Iterable[int], today: date) -> dict[int, CardHistory]:
    """{officer id: best card} of the certified set (`certified_select` in SQL): the officers of
    `on_post` (active, on an enforcement post) with a card effective now."""
    by_officer: dict[int, list[CardHistory]] = {}
    for c in cards:
        by_officer.setdefault(c.officer_id, []).append(c)
    out = {}
    for officer_id in set(on_post):
        best = best_card(by_officer.get(officer_id, ()), today, now=True)
        if best is not None:
            out[officer_id] = best
    return out
