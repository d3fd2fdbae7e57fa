"""Which units each case belongs to, stored in `case_unit` so that the unit scope reads one indexed
table (app/scope.case_clause) instead of resolving every case's certificate numbers on every
statement.

A case belongs to the unit its 承办单位 names when that is a unit of the tree; otherwise to the units
the officers its certificate numbers resolve to (any certificate with that number) worked in on the
case's 决定日期 (officer_unit_history, app/rules/transfers.py; the current unit where no interval
covers the date); a case spanning two branches belongs to both. So it depends on the case and its numbers, the
certificates' numbers and officers, the officers' units and the units' names. It is kept current in
the same transaction as the verdicts (rules/verdicts.py): every re-judging also re-resolves the same
cases; the flush hook there adds the cases touched by an officer moving to another unit and by a
unit being created, renamed or deleted. Bulk Core writes that move officers call
`refresh_case_units(session, officer_ids=…)` (which also moves their certificates' rows of
review_year: rules/review_years.py). `flask check cases` compares it with a fresh
resolution (`differences`) and `--fix` rewrites it.

Everything here reads and writes the bare tables: no unit scope applies (a case of another branch
that names a number of this branch must be re-resolved too).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, exists, func, insert, select, union
from sqlalchemy.orm import Session

from app.audit.services import sync_subjects
from app.extensions import db
from app.rules import review_years
from app.rules.transfers import covering

_CHUNK = 5000


def _tables():
    t = db.Model.metadata.tables
    return t["penalty_case"], t["case_certificate"], t["certificate"], t["officer"], t["unit"], t["case_unit"]


def _unit_then():
    return db.Model.metadata.tables["officer_unit_history"].alias("unit_then")


def resolved(case_ids: list[int] | None = None):
    """SELECT (case_id, unit_id) of what the cases resolve to now (all cases when None)."""
    pc, cc, c, o, u, _cu = _tables()
    h = _unit_then()
    named = select(pc.c.id.label("case_id"), u.c.id.label("unit_id")).join(u, u.c.name == pc.c.unit)
    by_number = (select(cc.c.case_id.label("case_id"), func.coalesce(h.c.unit_id, o.c.unit_id).label("unit_id"))
                 .join(pc, pc.c.id == cc.c.case_id)
                 .join(c, c.c.number == cc.c.number)
                 .join(o, o.c.id == c.c.officer_id)
                 .outerjoin(h, covering(h, o.c.id, pc.c.decided_on))
                 .where(~exists(select(u.c.id).where(u.c.name == pc.c.unit))))
    if case_ids is not None:
        named = named.where(pc.c.id.in_(case_ids))
        by_number = by_number.where(cc.c.case_id.in_(case_ids))
    return union(named, by_number)


def refresh_case_units(session: Session, case_ids: Iterable[int] | None = None, *,
                       officer_ids: Iterable[int] = (), unit_names: Iterable[str] = ()) -> None:
    """Re-resolve the given cases, those naming a certificate of the given officers and those whose
    承办单位 is one of the given unit names; every case when all three are left out."""
    _pc, cc, c, _o, _u, cu = _tables()
    opts = {"scope_all": True}
    if case_ids is None and not officer_ids and not unit_names:
        session.execute(delete(cu).execution_options(**opts))
        session.execute(insert(cu).from_select(["case_id", "unit_id"], resolved()).execution_options(**opts))
        sync_subjects(session, _audit_about_cases())
        return
    officer_ids = set(officer_ids)
    if officer_ids:  # officers moved: their cards' review rows take the new unit too
        review_years.refresh_units(session, officer_ids)
    ids = set(case_ids or ())
    ids.update(_cases_of(session, officer_ids, set(unit_names)))
    ordered = sorted(i for i in ids if i is not None)
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i:i + _CHUNK]
        session.execute(delete(cu).where(cu.c.case_id.in_(chunk)).execution_options(**opts))
        session.execute(insert(cu).from_select(["case_id", "unit_id"], resolved(chunk))
                        .execution_options(**opts))
        sync_subjects(session, _audit_about_cases(chunk))  # the audit rows about them follow


def _audit_about_cases(case_ids: list[int] | None = None):
    """WHERE clause on audit_event: the rows about these cases (every case when None)."""
    a = db.Model.metadata.tables["audit_event"]
    which = a.c.entity_type == "case"
    return which if case_ids is None else which & a.c.entity_id.in_(case_ids)


def _cases_of(session: Session, officer_ids: set[int], unit_names: set[str]) -> set[int]:
    pc, cc, c, _o, _u, _cu = _tables()
    found: set[int] = set()
    officers = sorted(i for i in officer_ids if i is not None)
    for i in range(0, len(officers), _CHUNK):
        numbers = select(c.c.number).where(c.c.officer_id.in_(officers[i:i + _CHUNK]))
        found.update(session.scalars(select(cc.c.case_id).where(cc.c.number.in_(numbers))
                                     .execution_options(scope_all=True)))
    names = sorted(n for n in unit_names if n)
    for i in range(0, len(names), _CHUNK):
        found.update(session.scalars(select(pc.c.id).where(pc.c.unit.in_(names[i:i + _CHUNK]))
                                     .execution_options(scope_all=True)))
    return found


def differences(session: Session) -> list[tuple[int, str, set[int], set[int]]]:
    """(case id, case_no, stored unit ids, resolved now) wherever case_unit disagrees."""
    pc, *_rest, u, cu = _tables()
    stored: dict[int, set[int]] = {}
    for cid, uid in session.execute(select(cu.c.case_id, cu.c.unit_id).execution_options(scope_all=True)):
        stored.setdefault(cid, set()).add(uid)
    now: dict[int, set[int]] = {}
    for cid, uid in session.execute(select(resolved().subquery()).execution_options(scope_all=True)):
        now.setdefault(cid, set()).add(uid)
    case_nos = dict(session.execute(select(pc.c.id, pc.c.case_no).execution_options(scope_all=True)).all())
    return [(cid, case_nos.get(cid, ""), stored.get(cid, set()), now.get(cid, set()))
            for cid in sorted(stored.keys() | now.keys()) if stored.get(cid, set()) != now.get(cid, set())]


def unit_names(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    u = _tables()[4]
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return dict(session.execute(select(u.c.id, u.c.name).where(u.c.id.in_(ids))
                                .execution_options(scope_all=True)).all())
