"""The annual review's (年审) certificates of each year, stored in `review_year` and kept current by
the writes themselves.

A certificate is reviewed in year Y when it is an enforcement certificate whose dates overlap Y
and whose history shows it valid on 1 January of Y or made valid during Y (`in_year_where`, the
reference: the review page's query-time engine). That depends on no "today", only on the card
(kind, dates, officer) and its status events; the stored row also carries the officer's unit (the
page's order and filter, the scope). So:

- every re-judging of case verdicts (rules/verdicts.py `refresh_verdicts`: the flush hook over
  every ORM write of certificates and events, and the bulk Core writes — the certificate import,
  an officer merge, an import's undo) re-derives the rows of the same certificates (those of the
  numbers and officers it was given; every certificate with `everything`);
- an officer's move (the verdicts' flush hook and the officer imports' Core updates, both through
  rules/case_units.refresh_case_units) rewrites the unit of their rows.

`differences` compares the table with a fresh computation (`flask check reviews`), `refresh`
with `everything` rewrites it. Everything here runs unscoped (a scoped user's write may touch
another branch's certificates).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app import scope
from app.models.certificates import Certificate, ReviewYear
from app.models.officers import Officer
from app.rules.timeline import valid_during

_CHUNK = 5000


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def in_year_where(year: int, few: bool = False) -> list:
    """Conditions on Certificate: an enforcement certificate effective on at least one day of
    `year` (dates overlapping the year, valid on 1 January or made valid during it)."""
    start, end = year_bounds(year)
    return [Certificate.kind == "enforcement", Certificate.issued_on <= end, Certificate.expires_on >= start,
            valid_during(start, end, few)]


def fresh(year: int, certificate_ids: list[int] | None = None):
    """SELECT (certificate_id, year, unit_id): the rows `year` should hold now (for these
    certificates only when given)."""
    q = (select(Certificate.id, literal(year), Officer.unit_id)
         .join(Officer, Officer.id == Certificate.officer_id)
         .where(*in_year_where(year, few=certificate_ids is not None)))
    if certificate_ids is not None:
        q = q.where(Certificate.id.in_(certificate_ids))
    return q


def _years(session: Session, certificate_ids: list[int] | None) -> range:
    q = select(func.min(Certificate.issued_on), func.max(Certificate.expires_on)).where(
        Certificate.kind == "enforcement")
    if certificate_ids is not None:
        q = q.where(Certificate.id.in_(certificate_ids))
    first, last = session.execute(q).one()
    return range(first.year, last.year + 1) if first and last and first <= last else range(0)


def _derive(session: Session, certificate_ids: list[int] | None) -> None:
    ry = ReviewYear.__table__
    for year in _years(session, certificate_ids):
        session.execute(insert(ry).from_select(["certificate_id", "year", "unit_id"],
                                               fresh(year, certificate_ids)))


def refresh(session: Session, *, certificate_ids: Iterable[int] = (), numbers: Iterable[str] = (),
            officer_ids: Iterable[int] = (), everything: bool = False) -> None:
    """Re-derive the rows of these certificates, of the certificates with these numbers and of
    every certificate of these officers (every row with `everything`), in the caller's transaction."""
    ry = ReviewYear.__table__
    with scope.off(session):
        if everything:
            session.execute(delete(ry))
            _derive(session, None)
            return
        ids = {i for i in certificate_ids if i is not None}
        wanted_numbers = sorted({n for n in numbers if n})
        officers = sorted({i for i in officer_ids if i is not None})
        c = Certificate.__table__
        for i in range(0, len(wanted_numbers), _CHUNK):
            ids.update(session.scalars(select(c.c.id).where(c.c.number.in_(wanted_numbers[i:i + _CHUNK]))))
        for i in range(0, len(officers), _CHUNK):
            ids.update(session.scalars(select(c.c.id).where(c.c.officer_id.in_(officers[i:i + _CHUNK]))))
        ordered = sorted(ids)
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i:i + _CHUNK]
            session.execute(delete(ry).where(ry.c.certificate_id.in_(chunk)))
            _derive(session, chunk)


def refresh_units(session: Session, officer_ids: Iterable[int]) -> None:
    """The officers moved: their certificates' rows take their unit now."""
    ry, c, o = ReviewYear.__table__, Certificate.__table__, Officer.__table__
    officers = sorted({i for i in officer_ids if i is not None})
    with scope.off(session):
        for i in range(0, len(officers), _CHUNK):
            chunk = officers[i:i + _CHUNK]
            unit = (select(o.c.unit_id).join(c, c.c.officer_id == o.c.id)
                    .where(c.c.id == ry.c.certificate_id).scalar_subquery())
            session.execute(update(ry).where(ry.c.certificate_id.in_(
                select(c.c.id).where(c.c.officer_id.in_(chunk)))).values(unit_id=unit)
                .execution_options(synchronize_session=False))


def differences(session: Session) -> list[tuple[int, int, int | None, int | None]]:
    """(year, certificate id, stored unit, unit now) wherever review_year disagrees with a fresh
    computation (None: no row)."""
    ry = ReviewYear.__table__
    with scope.off(session):
        stored = {(y, cid): u for cid, y, u in session.execute(select(ry.c.certificate_id, ry.c.year, ry.c.unit_id))}
        now: dict[tuple[int, int], int] = {}
        for year in _years(session, None):
            now.update({(y, cid): u for cid, y, u in session.execute(fresh(year))})
    return [(y, cid, stored.get((y, cid)), now.get((y, cid)))
            for y, cid in sorted(stored.keys() | now.keys()) if stored.get((y, cid)) != now.get((y, cid))]
