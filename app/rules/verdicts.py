"""Every case's art. 42 verdict, stored in `case_verdict` and kept current by the writes themselves.

The verdict (ok, and the reasons a case fails) is decided by `judge` (below) from the
certificates' dated history; it depends on no "today", only on

- the case: its dates and the numbers written on it;
- the certificates those numbers name (a number resolves to the enforcement card, else the
  supervision card) and every enforcement certificate of their officers, with their events.

So a write can change only the verdicts of the cases it touches, of the cases naming a number it
touched (old and new values) and of the cases naming any certificate of an officer it touched. The
flush hook below collects those from every ORM write (cases and their numbers, certificates,
certificate events) and re-judges just those cases in the same transaction, as
rules/hours.py does for hours. Bulk Core writes (the certificate import's inserts, an import's
undo) call `refresh_verdicts` themselves; a long ORM import can defer the re-judging to its end
with `deferred(session)`. `flask check cases` re-judges every case and reports any difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, event, insert, inspect, or_, select, union
from sqlalchemy.orm import Session

from app import scope
from app.audit.services import refresh_subjects
from app.extensions import db
from app.models.cases import CaseCertificate, CaseVerdict, PenaltyCase
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit
from app.rules import review_years
from app.rules.case_units import refresh_case_units
from app.rules.timeline import CardHistory, load_cards

_CHUNK = 5000  # ids per IN list (SQLite's and psycopg's bound-parameter limits)
_MANY = 20000  # beyond this many cases in scope, re-judge all of them in one pass


def frame(reasons: Iterable[str]) -> str:
    """['expired', 'fewer_than_two'] → ',expired,fewer_than_two,' (a reason filter is a LIKE)."""
    reasons = list(reasons)
    return f",{','.join(reasons)}," if reasons else ""


def reason_like(reason: str) -> str:
    return f"%,{reason},%"


# --- the check --------------------------------------------------------------------------------------


@dataclass
class Verdict:
    case_id: int
    ok: bool
    problems: list[dict[str, Any]]
    officer_ids: list[int | None]  # per listed number (None: unknown number)
    decided_on: date | None = None  # the case's 决定日期 (stored beside the verdict: the list's order)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(p["reason"] for p in self.problems))


@dataclass
class _History:
    by_number: dict[str, CardHistory]
    by_officer: dict[int, list[CardHistory]]
    _certified: dict[tuple[int, date], bool] = field(default_factory=dict)

    def certified(self, officer_id: int, d: date) -> bool:
        """At least one of the officer's enforcement certificates effective on `d` (memoised:
        a year's cases name the same officers on the same days many times)."""
        key = (officer_id, d)
        hit = self._certified.get(key)
        if hit is None:
            hit = self._certified[key] = any(k.state_on(d) == "effective"
                                             for k in self.by_officer.get(officer_id, ()))
        return hit


_CARD_CHUNK = 5000


def load_history(numbers: Iterable[str], extra_events: dict[int, list[tuple[date, str]]] | None = None,
                  session=None) -> _History:
    """The certificates with these numbers, every enforcement certificate of their officers, and
    all their events: two queries (per 5,000 numbers / officers), each a plain indexed IN list.
    Not one statement with the numbers' subquery and an OR (or a UNION) of both: on PostgreSQL that
    nests the subqueries per certificate, seconds per call whenever the statistics are off."""
    cards: dict[int, CardHistory] = {}
    wanted = sorted(set(numbers))
    named = Certificate.__table__.alias("named")
    for i in range(0, len(wanted), _CARD_CHUNK):
        chunk = wanted[i:i + _CARD_CHUNK]
        # the officers the numbers name (an indexed IN list on the number) drive the statement;
        # of their cards, the named ones and every enforcement card
        holders = select(named.c.officer_id).where(named.c.number.in_(chunk))
        cards.update(load_cards(Certificate.officer_id.in_(holders),
                                or_(Certificate.kind == "enforcement", Certificate.number.in_(chunk)),
                                extra_events=extra_events, session=session))
    by_number: dict[str, CardHistory] = {}
    by_officer: dict[int, list[CardHistory]] = defaultdict(list)
    for c in sorted(cards.values(), key=lambda c: c.id):
        current = by_number.get(c.number)
        if current is None or (current.kind != "enforcement" and c.kind == "enforcement"):
            by_number[c.number] = c
        if c.kind == "enforcement":
            by_officer[c.officer_id].append(c)
    return _History(by_number, by_officer)


def judge_one(case_id: int, numbers: list[str], dates: list[date], h: _History) -> Verdict:
    resolved = [h.by_number.get(n) for n in numbers]
    counts: dict[int, bool] = {}
    for c in resolved:
        if c is not None and c.officer_id not in counts:
            counts[c.officer_id] = all(h.certified(c.officer_id, d) for d in dates)
    problems: list[dict[str, Any]] = []
    seen_numbers: set[str] = set()
    for number, c in zip(numbers, resolved, strict=True):
        if number in seen_numbers:
            continue
        seen_numbers.add(number)
        if c is None:
            problems.append({"certificate_number": number, "date": None, "reason": "unknown"})
            continue
        for d in dates:
            state = c.state_on(d) if c.kind == "enforcement" else "supervision"
            if state == "effective":
                continue
            reason = "outdated_number" if counts[c.officer_id] else state
            problems.append({"certificate_number": number, "date": d.isoformat(), "reason": reason})
    seen_officers: set[int] = set()
    seen_numbers = set()
    for number, c in zip(numbers, resolved, strict=True):
        if number in seen_numbers or (c is not None and c.officer_id in seen_officers):
            problems.append({"certificate_number": number, "date": None, "reason": "same_officer"})
        seen_numbers.add(number)
        if c is not None:
            seen_officers.add(c.officer_id)
    ok = sum(1 for v in counts.values() if v) >= 2
    if not ok:
        problems.append({"certificate_number": None, "date": None, "reason": "fewer_than_two"})
    return Verdict(case_id, ok, problems, [c.officer_id if c else None for c in resolved])


def all_numbers(numbers: dict[int, list[str]]) -> set[str]:
    return {n for listed in numbers.values() for n in listed}


def check_dates(opened_on: date | None, decided_on: date) -> list[date]:
    return list(dict.fromkeys([d for d in (opened_on, decided_on) if d is not None]))


def with_numbers(case_ids: Select, *columns, session=None) -> tuple[list[Any], dict[int, list[str]]]:
    """The cases' `columns` (newest decision first) and their numbers in written order: one query."""
    rows = (session or db.session).execute(
        select(PenaltyCase.id, *columns, CaseCertificate.number.label("_number"))
        .outerjoin(CaseCertificate, CaseCertificate.case_id == PenaltyCase.id)
        .where(PenaltyCase.id.in_(case_ids))
        .order_by(PenaltyCase.decided_on.desc(), PenaltyCase.id.desc(), CaseCertificate.position))
    cases: list[Any] = []
    numbers: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        if not cases or cases[-1].id != r.id:
            cases.append(r)
        if r._number is not None:
            numbers[r.id].append(r._number)
    return cases, numbers


def judge(case_ids: Select, extra_events: dict[int, list[tuple[date, str]]] | None = None,
          session=None) -> dict[int, Verdict]:
    """{case id: Verdict} for every case id `case_ids` (a SELECT of ids) yields, in three queries
    (on `session`: the flush hook below and the migration pass their own)."""
    cases, numbers = with_numbers(case_ids, PenaltyCase.opened_on, PenaltyCase.decided_on, session=session)
    if not cases:
        return {}
    history = load_history(all_numbers(numbers), extra_events, session=session)
    out = {}
    for c in cases:
        v = out[c.id] = judge_one(c.id, numbers.get(c.id, []), check_dates(c.opened_on, c.decided_on), history)
        v.decided_on = c.decided_on
    return out


# --- the stored verdicts ------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _scope(session: Session, case_ids: set[int], numbers: set[str], officer_ids: set[int]) -> list[int] | None:
    """The ids of the cases whose verdict the change may touch (None: too many, judge every case)."""
    parts = []
    ids = set(case_ids)
    named = set(numbers)
    if officer_ids:
        for chunk in _chunks(sorted(officer_ids)):
            named.update(session.scalars(select(Certificate.number).where(Certificate.officer_id.in_(chunk))))
    for chunk in _chunks(sorted(named)):
        parts.append(select(CaseCertificate.case_id).where(CaseCertificate.number.in_(chunk)))
        if len(parts) == 8:
            ids.update(session.scalars(union(*parts)))
            parts = []
    if parts:
        ids.update(session.scalars(union(*parts) if len(parts) > 1 else parts[0]))
    return sorted(ids) if len(ids) <= _MANY else None


def refresh_verdicts(session: Session, *, case_ids: Iterable[int] = (), numbers: Iterable[str] = (),
                     officer_ids: Iterable[int] = (), everything: bool = False, case_units: bool = True) -> int:
    """Re-judge the cases a change touched (see the module's docstring) and store their verdicts,
    in the caller's transaction; re-resolve the units of the same cases (rules/case_units.py) and
    re-derive the review years of the certificates of these numbers and officers (rules/review_years.py).
    `everything`: every case; `case_units=False`: only the verdicts (a migration older than the
    case_unit table). Returns how many cases were judged. Sees every case, whatever the
    scope of the signed-in user (a change of theirs may touch a case of another branch)."""
    numbers, officer_ids = set(numbers), set(officer_ids)
    with scope.off(session):
        judged = _refresh(session, case_ids, numbers, officer_ids, everything, case_units)
        if case_units:  # the same cards' years of review (rules/review_years.py)
            review_years.refresh(session, numbers=numbers, officer_ids=officer_ids, everything=everything)
        return judged


def _refresh(session, case_ids, numbers, officer_ids, everything, case_units) -> int:
    scope = None if everything else _scope(session, {i for i in case_ids if i is not None},
                                               {n for n in numbers if n}, {i for i in officer_ids if i is not None})
    if case_units:
        refresh_case_units(session, scope)
    if scope is None:
        session.execute(delete(CaseVerdict))
        batches: Iterable[list[int] | None] = [None]
    elif not scope:
        return 0
    else:
        for chunk in _chunks(scope):
            session.execute(delete(CaseVerdict).where(CaseVerdict.case_id.in_(chunk)))
        batches = _chunks(scope)
    judged = 0
    for chunk in batches:
        ids = select(PenaltyCase.id) if chunk is None else select(PenaltyCase.id).where(PenaltyCase.id.in_(chunk))
        verdicts = judge(ids, session=session)
        if verdicts:
            # (a migration older than case_unit also predates case_verdict.decided_on)
            session.execute(insert(CaseVerdict), [
                {"case_id": cid, "ok": v.ok, "reasons": frame(v.reasons)}
                | ({"decided_on": v.decided_on} if case_units else {}) for cid, v in verdicts.items()])
        judged += len(verdicts)
    return judged


def differences(session: Session) -> list[tuple[int, str, tuple | None, tuple | None]]:
    """(case id, case_no, stored, judged now) — each (ok, reasons, 决定日期) — wherever
    case_verdict disagrees with the check (or with the case's date, stored beside it)."""
    stored = {cid: (ok, reasons, on) for cid, ok, reasons, on in session.execute(
        select(CaseVerdict.case_id, CaseVerdict.ok, CaseVerdict.reasons, CaseVerdict.decided_on))}
    judged = {cid: (v.ok, frame(v.reasons), v.decided_on)
              for cid, v in judge(select(PenaltyCase.id), session=session).items()}
    case_nos = {cid: no for cid, no in session.execute(select(PenaltyCase.id, PenaltyCase.case_no))}
    return [(cid, case_nos.get(cid, ""), stored.get(cid), judged.get(cid))
            for cid in sorted(stored.keys() | judged.keys()) if stored.get(cid) != judged.get(cid)]


# --- keeping it current ---------------------------------------------------------------------------

_PENDING = "case_verdict_pending"
_DEFER = "case_verdict_deferred"
_CARD_FIELDS = ("number", "kind", "officer_id", "status", "issued_on", "expires_on")


def _pending(session: Session) -> dict[str, set]:
    return session.info.setdefault(_PENDING, {"cases": set(), "numbers": set(), "officers": set(), "certs": set(),
                                              "moved": set(), "unit_names": set()})


def _old_and_new(obj, attr: str) -> set:
    state = inspect(obj)
    values = {getattr(obj, attr, None)}
    values.update(state.attrs[attr].history.deleted)
    return {v for v in values if v is not None}


@event.listens_for(Session, "after_flush")
def _verdicts_after_flush(session: Session, _ctx) -> None:
    """Collect what this flush touched; re-judge those cases now (unless deferred)."""
    p = _pending(session)
    touched = False
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, PenaltyCase):
            p["cases"].add(obj.id)
            touched = True
        elif isinstance(obj, CaseCertificate):
            p["cases"].update(_old_and_new(obj, "case_id"))
            touched = True
        elif isinstance(obj, Certificate):
            if obj in session.dirty and not any(inspect(obj).attrs[f].history.has_changes() for f in _CARD_FIELDS):
                continue
            p["numbers"].update(_old_and_new(obj, "number"))
            p["officers"].update(_old_and_new(obj, "officer_id"))
            touched = True
        elif isinstance(obj, CertificateEvent):
            p["certs"].update(_old_and_new(obj, "certificate_id"))
            touched = True
        elif isinstance(obj, Officer):  # only the cases' units depend on where an officer works
            if obj in session.dirty and inspect(obj).attrs["unit_id"].history.has_changes():
                p["moved"].add(obj.id)
                touched = True
        elif isinstance(obj, Unit):  # a 承办单位 naming a unit (or no longer naming one)
            if obj not in session.dirty or inspect(obj).attrs["name"].history.has_changes():
                p["unit_names"].update(_old_and_new(obj, "name"))
                touched = True
    if touched and not session.info.get(_DEFER):
        flush_pending(session)


def flush_pending(session: Session) -> None:
    p = session.info.pop(_PENDING, None)
    if not p or not any(p.values()):
        return
    officers, numbers = set(p["officers"]), set(p["numbers"])
    with scope.off(session):
        for chunk in _chunks(sorted(p["certs"])):
            for officer_id, number in session.execute(
                    select(Certificate.officer_id, Certificate.number).where(Certificate.id.in_(chunk))):
                officers.add(officer_id)
                numbers.add(number)
        refresh_verdicts(session, case_ids=p["cases"], numbers=numbers, officer_ids=officers)
        if p["moved"] or p["unit_names"]:
            refresh_case_units(session, (), officer_ids=p["moved"], unit_names=p["unit_names"])
        if p["moved"]:  # the audit rows about them follow them to their new unit
            refresh_subjects(session, officer_ids=p["moved"])


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Inside: flushes only collect what they touch; on leaving, one re-judging for all of it
    (an import of thousands of cases or certificates through the ORM)."""
    outer = session.info.get(_DEFER)
    session.info[_DEFER] = True
    try:
        yield
        if not outer:
            session.flush()
    finally:
        if not outer:
            session.info.pop(_DEFER, None)
    if not outer:
        flush_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
