"""调动: an officer moves to another unit on a date, with a 文号 — an action of its own, not an edit
of the unit field. Each move closes the open interval of officer_unit_history and opens the next one;
Officer.unit_id stays the current unit, so everything that reads "where the officer works now"
keeps working. What happened on a past date (a case, a year's figures) reads the unit of that date
through `unit_on` (docs/domain.md "调动与单位履历").

Intervals run from `from_on` (inclusive) to `to_on` (exclusive, the next transfer's date). An
officer with no row (created after the history began, or by a bulk import) gets the interval of
their current unit written on their first transfer; a date no interval covers reads the current
unit.

Leaving the organisation (调出) is a departure (app/officers/departures.py), not a transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from app.audit.services import current_actor, record
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date
from app.models.officers import Officer, OfficerUnitHistory, Unit
from app.models_base import utcnow

# The start of an interval whose beginning nobody knows (the seeded history of officers without
# 任执法岗位日期; an officer's first transfer when they had no history row).
SINCE_EVER = date(1900, 1, 1)


def transfer(officer: Officer, to_unit: Unit | None, on: date | None, *, today: date,
             document_no: str = "", reason: str = "", expected_version: int | None = None) -> OfficerUnitHistory:
    """Move the officer to `to_unit` from `on`; flush, never commit. Refuses in Chinese what cannot
    be recorded (the caller checks that the user's scope holds both units)."""
    document_no, reason = (document_no or "").strip(), (reason or "").strip()
    if to_unit is None:
        raise DomainError("请选择调入单位", fields={"to_unit": "请选择调入单位"})
    if on is None:
        raise DomainError("请填写调动日期", fields={"on": "请填写调动日期"})
    if on > today:
        raise DomainError(f"调动日期{cn_date(on)}晚于今天，请在调动生效后登记", fields={"on": "调动日期不能晚于今天"})
    if len(document_no) > 100:
        raise DomainError("文号不能超过100个字", fields={"document_no": "文号不能超过100个字"})
    if len(reason) > 200:
        raise DomainError("原因不能超过200个字", fields={"reason": "原因不能超过200个字"})
    if officer.employment_status != "active":
        raise DomainError(f"“{officer.name}”已不在职，不能登记调动")
    if to_unit.id == officer.unit_id:
        raise DomainError(f"“{officer.name}”已在“{to_unit.name}”，无需调动", fields={"to_unit": "调入单位与现单位相同"})
    if expected_version is not None and officer.version != expected_version:
        raise DomainError(f"“{officer.name}”的信息已被他人修改，请刷新页面后重新登记")
    current = db.session.scalars(
        select(OfficerUnitHistory).where(OfficerUnitHistory.officer_id == officer.id,
                                         OfficerUnitHistory.to_on.is_(None))
        .order_by(OfficerUnitHistory.from_on.desc(), OfficerUnitHistory.id.desc())).first()
    if current is None:  # no history yet: the current unit since ever (or since the post began)
        since = officer.post_since if officer.post_since and officer.post_since < on else SINCE_EVER
        current = OfficerUnitHistory(officer_id=officer.id, unit_id=officer.unit_id, from_on=since)
        db.session.add(current)
    if on <= current.from_on:
        raise DomainError(f"调动日期须晚于调入现单位的日期{cn_date(current.from_on)}",
                          fields={"on": f"须晚于{cn_date(current.from_on)}"})
    from_unit = db.session.get(Unit, officer.unit_id)
    current.to_on = on
    moved = OfficerUnitHistory(officer_id=officer.id, unit_id=to_unit.id, from_on=on, document_no=document_no,
                               reason=reason, created_by=current_actor()[0])
    db.session.add(moved)
    officer.unit_id = to_unit.id
    officer.unit = to_unit
    db.session.flush()
    record("update", "officer", officer.id,
           f"调动：{officer.name}，{from_unit.name if from_unit else ''} → {to_unit.name}，{cn_date(on)}"
           + (f"，文号 {document_no}" if document_no else "") + (f"，原因：{reason}" if reason else ""),
           {"unit_id": [from_unit.id if from_unit else None, to_unit.id], "from_on": [None, on.isoformat()],
            **({"document_no": [None, document_no]} if document_no else {})})
    return moved


@dataclass
class Spell:
    unit: str
    from_on: date | None  # None: since the record began
    to_on: date | None
    document_no: str
    reason: str
    created_by: str


def history(officer_id: int) -> list[Spell]:
    """The officer's units, latest first (one statement)."""
    h = OfficerUnitHistory
    rows = db.session.execute(
        select(Unit.name, h.from_on, h.to_on, h.document_no, h.reason, h.created_by)
        .join(Unit, Unit.id == h.unit_id).where(h.officer_id == officer_id)
        .order_by(h.from_on.desc(), h.id.desc()))
    return [Spell(r.name, None if r.from_on == SINCE_EVER else r.from_on, r.to_on, r.document_no, r.reason,
                  r.created_by) for r in rows]


def spells_of(officer: Officer) -> list[Spell]:
    """history() from the loaded `officer.unit_spells` (the detail page joins them: no statement)."""
    return [Spell(h.unit.name, None if h.from_on == SINCE_EVER else h.from_on, h.to_on, h.document_no, h.reason,
                  h.created_by) for h in officer.unit_spells]


def covering(history_table, officer_id_col, day):
    """The join condition of `history_table` (the ORM entity or its Table) on the interval holding
    `day` (a column or a date) of the officer `officer_id_col`."""
    c = getattr(history_table, "c", history_table)
    return and_(c.officer_id == officer_id_col, c.from_on <= day, or_(c.to_on.is_(None), c.to_on > day))


def unit_on(q, officer=Officer, day=None):
    """Add the officer's unit on `day` to select `q` (which has `officer` in its FROM): returns
    (q outer-joined to the history interval, the unit id expression) — the history's unit where an
    interval covers the day, else the current one. Set-wise: one join, no query per officer."""
    h = aliased(OfficerUnitHistory, name="unit_then")
    q = q.outerjoin(h, covering(h, officer.id, day))
    return q, func.coalesce(h.unit_id, officer.unit_id)


@dataclass(frozen=True)
class Move:
    officer_id: int
    from_unit: int
    to_unit: int
    on: date
    document_no: str = ""
    reason: str = ""


def record_moves(moves: dict[int, tuple[int, int]], *, on: date, reason: str) -> None:
    """Unit changes made outside the 调动 action (the officer form, the list's bulk move, an officer
    import, the API), each recorded as a transfer dated `on` (today) without 文号:
    {officer id: (old unit id, new unit id)}. Call it before the officers' unit_id changes."""
    write_moves([Move(oid, old, new, on, "", reason) for oid, (old, new) in moves.items() if old != new])


def write_moves(moves: list[Move]) -> None:
    """The history rows of these moves (several of one officer in date order, each after the
    previous): the open interval closed on the move's date, the next one opened. A few statements
    per 1,000 officers, none per officer. An interval opened on the move's date itself (created
    or moved earlier the same day) is corrected in place. Officer.unit_id is the caller's."""
    h = OfficerUnitHistory
    actor = current_actor()[0]
    by_officer: dict[int, list[Move]] = {}
    for m in moves:
        by_officer.setdefault(m.officer_id, []).append(m)
    ids = sorted(by_officer)
    t = h.__table__
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        open_rows = {r.officer_id: r for r in db.session.execute(
            select(h.id, h.officer_id, h.from_on).where(h.officer_id.in_(chunk), h.to_on.is_(None)))}
        since = dict(db.session.execute(select(Officer.id, Officer.post_since).where(Officer.id.in_(chunk))
                                        .execution_options(scope_all=True)).all())
        close, fix, new = [], [], []
        for oid in chunk:
            row = open_rows.get(oid)
            prev: dict | None = None  # the officer's open interval: a new row of this list, or None (`row`)
            for k, m in enumerate(sorted(by_officer[oid], key=lambda m: m.on)):
                if k == 0 and row is not None and row.from_on >= m.on:
                    fix.append({"_id": row.id, "unit_id": m.to_unit, "document_no": m.document_no,
                                "reason": m.reason})
                    continue
                if prev is not None:
                    prev["to_on"] = m.on
                elif row is not None:
                    close.append({"_id": row.id, "_to": m.on})
                else:
                    start = since.get(oid)
                    new.append({"officer_id": oid, "unit_id": m.from_unit, "to_on": m.on, "document_no": "",
                                "from_on": start if start and start < m.on else SINCE_EVER, "reason": "",
                                "created_by": ""})
                prev = {"officer_id": oid, "unit_id": m.to_unit, "from_on": m.on, "to_on": None,
                        "document_no": m.document_no, "reason": m.reason, "created_by": actor}
                new.append(prev)
        if close:
            db.session.execute(t.update().where(t.c.id == bindparam("_id")).values(to_on=bindparam("_to")), close)
        if fix:
            db.session.execute(t.update().where(t.c.id == bindparam("_id")).values(
                unit_id=bindparam("unit_id"), document_no=bindparam("document_no"), reason=bindparam("reason")), fix)
        if new:
            now = utcnow()
            db.session.execute(t.insert(), [{**r, "created_at": now, "updated_at": now} for r in new])
