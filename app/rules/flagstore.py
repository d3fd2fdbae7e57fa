"""The flag store: one day's flags (`flag_row`, `flag_meta`), kept current by every write.

The compliance engine (app/rules/compliance.py) stays the reference: it fills the store with one
INSERT … SELECT of its own flags_select, and answers whatever the store does not hold (another
day, one officer's flags, other parameters, a window wider than the stored one).

- **What is stored**: flags_select(p) for the day `flag_meta.day` with the settings' parameters
  (Params.from_settings), EXPIRING for the window W = max(setting, 90) — readers cut it to theirs
  (`expires_on <= today + within`), so the dashboard's 30/60/90 figures come from it too.
  flag_meta keeps the day, W and two fingerprints: the eligible establishments (INELIGIBLE) and
  the training rule (TRAINING_SHORTFALL: hours required, the years' rules, the first year judged
  — FIRST_SESSION resolved to the year of the earliest session, read with the meta row).
- **Reading** (`serves`, installed into compliance): the store answers `p` when its day is
  `p.today` and today, and the fingerprints of the flags asked match `p`'s. The first read of a
  new day (or after a settings change) rebuilds the whole store once — in a transaction of its
  own (`ensure`: another connection, committed at once, so that a GET leaves nothing uncommitted),
  unscoped (a scoped user's first read builds every branch's rows), under a lock (the meta row
  updated first: PostgreSQL's row lock, SQLite's write lock; a short lock timeout, then the
  engine answers instead). It is not built from inside a transaction that wrote (the build could
  not see those writes, and on SQLite it would wait for them): the engine answers then. The job
  worker's `maintain` runs `ensure` every minute, so a new day's store is built just after midnight.
- **Writes** (`refresh`): the after_flush hook below collects the officers whose flags a flush may
  change (officers, their cards, a unit's 执法类别, a unit deleted) and rewrites their rows — DELETE
  + INSERT … SELECT of the engine restricted to them (Params.officer_ids) — and UNIT_UNDERSTAFFED
  of their old and new units (Params.unit_ids), in the same transaction (a rollback takes it back).
  training_hours changes arrive from hours.refresh_hours (after the hours). Bulk Core writes call
  `refresh` themselves; past _MANY officers one full rebuild statement. A store that is not
  current for today under today's settings is marked unusable (day NULL) by the first write.
- `flask check flags [--fix]` (app/training/cli.py) compares the store with the engine.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from flask import current_app, g, has_app_context
from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import clock, scope, uow
from app.extensions import db
from app.jobs.services import register_maintenance
from app.models.certificates import Certificate
from app.models.flags import FlagMeta, FlagRow
from app.models.officers import Officer, Unit
from app.models.training import TrainingSession
from app.models_base import utcnow
from app.rules import compliance, hours
from app.rules.compliance import Params
from app.settings import services as settings

log = logging.getLogger(__name__)

WINDOW = 90  # the narrowest EXPIRING window stored: the dashboard's 30/60/90
_CHUNK = 5000  # officer ids per IN list
_MANY = 20000  # beyond this many officers touched, one full rebuild
_META_ID = 1
_COLS = ["flag", "reason", "officer_id", "unit_id", "certificate_id", "expires_on"]
_G = "_flag_store_state"
# the settings the stored flags depend on: a change marks the store unusable until rebuilt
SETTINGS = ("eligible_establishments", "training_hours_required", "training_records_since", "reminder_windows")


@dataclass(frozen=True)
class State:
    day: date | None
    within: int
    eligible_fp: str
    training_fp: str
    first_held: date | None  # MIN(training_session.held_on): FIRST_SESSION's year


def _fp(*parts) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:32]


def fingerprints(p: Params, first_held: date | None) -> tuple[str, str]:
    """(eligible, training) fingerprints of `p` (the first session held on `first_held`)."""
    since = p.records_since
    if since == hours.FIRST_SESSION:
        since = first_held.year if first_held else p.today.year
    training = _fp(compliance.has_builders(), float(p.hours_required), tuple(p.rules), since)
    return _fp(tuple(sorted(p.eligible))), training


def settings_params(day: date) -> Params:
    """What the store holds for `day`: the settings' parameters, EXPIRING for W = max(setting, 90)."""
    p = Params.from_settings(day)
    return replace(p, within=max(p.within, WINDOW))


# --- the meta row ------------------------------------------------------------------------------

def _read(execute, lock: bool = False) -> State:
    m, ts = FlagMeta.__table__, TrainingSession.__table__
    first = select(func.min(ts.c.held_on)).scalar_subquery()
    q = select(m.c.day, m.c.within, m.c.eligible_fp, m.c.training_fp, first.label("first")).where(m.c.id == _META_ID)
    if lock:
        q = q.with_for_update(read=True)  # PostgreSQL: no rebuild until this transaction ends
    row = execute(q).first()
    if row is None:
        return State(None, WINDOW, "", "", execute(select(first)).scalar())
    return State(row.day, row.within, row.eligible_fp, row.training_fp, row.first)


def state() -> State:
    """The store's state, read once per request (app context) — dropped when the store changes."""
    cached = g.get(_G) if has_app_context() else None
    if cached is None:
        cached = _read(lambda q: db.session.execute(q, execution_options=scope.UNSCOPED))
        if has_app_context():
            setattr(g, _G, cached)
    return cached


def forget() -> None:
    if has_app_context():
        g.pop(_G, None)


def current(st: State, day: date) -> bool:
    """The store holds `day` (today) under today's settings."""
    if st.day is None or st.day != day or day != clock.today():
        return False
    p0 = settings_params(day)
    return st.within >= p0.within and (st.eligible_fp, st.training_fp) == fingerprints(p0, st.first_held)


def _fits(st: State, p: Params, flags) -> bool:
    if st.day is None or st.day != p.today or p.today != clock.today():
        return False
    wanted = set(compliance.wanted_flags(p, flags))
    eligible_fp, training_fp = fingerprints(p, st.first_held)
    if "INELIGIBLE" in wanted and eligible_fp != st.eligible_fp:
        return False
    if "TRAINING_SHORTFALL" in wanted and training_fp != st.training_fp:
        return False
    return not ("EXPIRING" in wanted and p.within > st.within)


def peek(p: Params, flags, parts: list) -> list | None:
    """The rows of `parts` (SELECTs of (name, count) from flag_row) when the store serves `p`,
    else None — read in ONE statement with the meta row when this request has not read it yet
    (the dashboard: no statement of its own for the store's state)."""
    if has_app_context() and g.get(_G) is None:
        m, ts = FlagMeta.__table__, TrainingSession.__table__
        pad = (cast(null(), Integer), cast(null(), Date), cast(null(), String), cast(null(), String),
               cast(null(), Date))
        meta = select(literal("_flag_meta"), literal(0), m.c.within, m.c.day, m.c.eligible_fp, m.c.training_fp,
                      select(func.min(ts.c.held_on)).scalar_subquery()).where(m.c.id == _META_ID)
        rows = db.session.execute(union_all(meta, *(q.add_columns(*pad) for q in parts))).all()
        found = [r for r in rows if r[0] == "_flag_meta"]
        if found:
            st = State(found[0][3], found[0][2], found[0][4], found[0][5], found[0][6])
        else:
            st = _read(lambda q: db.session.execute(q, execution_options=scope.UNSCOPED))
        setattr(g, _G, st)
        if _fits(st, p, flags):
            return [tuple(r[:2]) for r in rows if r[0] != "_flag_meta"]
    if not serves(p, flags):
        return None
    return [tuple(r) for r in db.session.execute(union_all(*parts)).all()]


def serves(p: Params, flags=None) -> bool:
    """Whether flag_row holds what the engine computes for `p` (and `flags`); builds today's store
    first when it is missing or out of date (once: later requests find it built)."""
    st = state()
    if not _fits(st, p, flags) and p.today == clock.today() and not current(st, p.today):
        st = ensure(p.today) or st
    return _fits(st, p, flags)


# --- building -----------------------------------------------------------------------------------

def filled(p: Params, flags=None):
    """The engine's flags for `p` with the expiry of their card: what flag_row stores."""
    sub = compliance.flags_select(p, flags, store=False)
    c = Certificate.__table__
    return (select(sub.c.flag, sub.c.reason, sub.c.officer_id, sub.c.unit_id, sub.c.certificate_id,
                   c.c.expires_on)
            .select_from(sub).outerjoin(c, c.c.id == sub.c.certificate_id))


def _write_all(execute, day: date, first_held: date | None) -> State:
    """Every row for `day` (one DELETE, one INSERT … SELECT) and the meta row."""
    p0 = settings_params(day)
    execute(delete(FlagRow.__table__))
    execute(insert(FlagRow.__table__).from_select(_COLS, filled(p0)))
    eligible_fp, training_fp = fingerprints(p0, first_held)
    execute(update(FlagMeta.__table__).where(FlagMeta.__table__.c.id == _META_ID).values(
        day=day, within=p0.within, eligible_fp=eligible_fp, training_fp=training_fp, built_at=utcnow()))
    return State(day, p0.within, eligible_fp, training_fp, first_held)


def _may_build_apart() -> bool:
    """A build on another connection sees only committed rows, and on SQLite waits for this
    session's write lock: not from a transaction that wrote (the engine answers instead)."""
    session = db.session()
    if uow.has_writes(session):
        return False
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        raw = session.connection().connection.driver_connection
        if getattr(raw, "in_transaction", False):
            return False
    return True


def _lock_meta(conn) -> None:
    """Take the meta row (creating it): PostgreSQL's row lock, SQLite's write lock — a second
    builder waits at most the lock timeout, then finds the store built (or gives up)."""
    m = FlagMeta.__table__
    if conn.execute(update(m).where(m.c.id == _META_ID).values(id=m.c.id)).rowcount == 0:
        conn.execute(insert(m).values(id=_META_ID, day=None, within=WINDOW, eligible_fp="", training_fp=""))


def ensure(day: date | None = None) -> State | None:
    """Build the store for `day` (today) in a transaction of its own unless it is current; the
    new state, or None when it could not be built now (a lock held elsewhere, a write pending)."""
    day = day or clock.today()
    if not _may_build_apart():
        return None
    try:
        with db.engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout = 2000")
            else:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            try:
                _lock_meta(conn)
                st = _read(conn.execute)
                if not current(st, day):
                    st = _write_all(conn.execute, day, st.first_held)
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA busy_timeout = 5000")
    except DBAPIError as exc:  # locked by another builder or a long write: the engine answers
        log.warning("flag store not built for %s: %s", day, exc)
        return None
    forget()
    if has_app_context():
        setattr(g, _G, st)
    return st


def ensure_today() -> None:
    """The worker's periodic task: today's store, built just after midnight."""
    ensure(clock.today())


register_maintenance(ensure_today)


def rebuild(session: Session, day: date | None = None) -> State:
    """Rebuild every row for `day` (default today) in `session`'s transaction (`flask check flags
    --fix`, bulk writes)."""
    day = day or clock.today()
    with scope.off(session):
        execute = _executor(session)
        _lock_meta(session.connection())
        st = _write_all(execute, day, _read(execute).first_held)
    forget()
    return st


def _executor(session):
    return lambda q: session.execute(q, execution_options=scope.UNSCOPED)


# --- keeping it current -------------------------------------------------------------------------

def _eager() -> bool:
    return has_app_context() and bool(current_app.config.get("FLAG_STORE_EAGER"))


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def refresh(session: Session, officer_ids: Iterable[int] | None = (), unit_ids: Iterable[int] = (),
            units_whole: Iterable[int] = (), everything: bool = False) -> None:
    """Rewrite the stored rows of `officer_ids` (None or `everything`: every officer), the
    UNIT_UNDERSTAFFED rows of `unit_ids` and of the officers' old and new units, and every row of
    `units_whole` (their 执法类别 changed), in `session`'s transaction. A store not current for
    today is marked unusable instead (it is rebuilt at the next read)."""
    forget()
    with scope.off(session):
        execute = _executor(session)
        st = _read(execute)
        if _eager() and not current(st, clock.today()):
            # a test mode (config FLAG_STORE_EAGER): built at the first write, in its transaction,
            # so that every later write of the test must keep it (tests/conftest.py compares)
            _lock_meta(session.connection())
            _write_all(execute, clock.today(), st.first_held)
            return
        if st.day is not None and not current(st, st.day):
            execute(update(FlagMeta.__table__).where(FlagMeta.__table__.c.id == _META_ID).values(day=None))
            return
        if session.get_bind().dialect.name != "sqlite":
            # PostgreSQL: a build waits for this transaction (it would not see these writes); one
            # that finished meanwhile is seen (SQLite: builders wait for this write lock anyway)
            st = _read(execute, lock=True)
        if st.day is None or not current(st, st.day):
            return
        officers = None if (everything or officer_ids is None) else {i for i in officer_ids if i is not None}
        units = {i for i in unit_ids if i is not None}
        whole = sorted({i for i in units_whole if i is not None})
        if officers is not None and whole:
            o = Officer.__table__
            for chunk in _chunks(whole):
                officers.update(session.scalars(select(o.c.id).where(o.c.unit_id.in_(chunk)),
                                                execution_options=scope.UNSCOPED))
        if officers is None or len(officers) > _MANY:
            _write_all(execute, st.day, st.first_held)
            return
        if officers or units:
            _refresh_rows(session, execute, settings_params(st.day), officers, units)


@functools.lru_cache(maxsize=8)
def _refresh_statements(p0: Params):
    """The INSERT … SELECTs of some officers' rows and of some units' UNIT_UNDERSTAFFED under
    `p0`, their ids an expanding parameter `ids`: built once per day and settings (building the
    engine's statement costs more than running it for one officer)."""
    ids = bindparam("ids", expanding=True)
    table = FlagRow.__table__
    return (insert(table).from_select(_COLS, filled(replace(p0, officer_ids=ids))),
            insert(table).from_select(_COLS, filled(replace(p0, unit_ids=ids), ["UNIT_UNDERSTAFFED"])))


def _refresh_rows(session, execute, p0: Params, officers: set[int], units: set[int]) -> None:
    fr, o = FlagRow.__table__, Officer.__table__
    by_officers, by_units = _refresh_statements(p0)
    for chunk in _chunks(sorted(officers)):
        units.update(session.scalars(union(select(o.c.unit_id).where(o.c.id.in_(chunk)),
                                           select(fr.c.unit_id).where(fr.c.officer_id.in_(chunk))),
                                     execution_options=scope.UNSCOPED))
        execute(delete(fr).where(fr.c.officer_id.in_(chunk)))
        session.execute(by_officers, {"ids": chunk}, execution_options=scope.UNSCOPED)
    units.discard(None)
    for chunk in _chunks(sorted(units)):
        execute(delete(fr).where(fr.c.flag == "UNIT_UNDERSTAFFED", fr.c.unit_id.in_(chunk)))
        session.execute(by_units, {"ids": chunk}, execution_options=scope.UNSCOPED)


_OFFICER_FIELDS = ("employment_status", "on_enforcement_post", "establishment", "unit_id", "post_since")
_CARD_FIELDS = ("officer_id", "kind", "status", "issued_on", "expires_on", "categories")


def _changed(session, obj, fields) -> bool:
    if obj not in session.dirty:
        return True
    attrs = inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _old_and_new(obj, attr: str) -> set:
    """The attribute's value and the one it replaced, without loading anything (a deleted row's
    unloaded value: its stored rows still name its unit, see _refresh_rows)."""
    state = inspect(obj)
    values = {state.dict.get(attr)}
    values.update(state.attrs[attr].history.deleted)
    return {v for v in values if v is not None}


@event.listens_for(Session, "after_flush")
def _flags_after_flush(session: Session, _ctx) -> None:
    """Rewrite the stored flags of the officers this flush touched (after the hours' hook: its
    refresh_hours calls `refresh` for the officers whose hours changed)."""
    officers: set[int] = set()
    units: set[int] = set()
    whole: set[int] = set()
    sessions = False
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Officer):
            if _changed(session, obj, _OFFICER_FIELDS):
                officers.add(obj.id)
                units.update(_old_and_new(obj, "unit_id"))
        elif isinstance(obj, Certificate):
            if _changed(session, obj, _CARD_FIELDS):
                officers.update(_old_and_new(obj, "officer_id"))
        elif isinstance(obj, Unit):
            if obj in session.deleted:
                units.add(obj.id)
            elif obj in session.dirty and inspect(obj).attrs["enforcement_fields"].history.has_changes():
                whole.add(obj.id)
        elif isinstance(obj, TrainingSession):
            if _changed(session, obj, ("held_on",)):
                sessions = True  # the first session's year (FIRST_SESSION) may have moved
    if officers or units or whole or sessions:
        refresh(session, officers, units, whole)


@event.listens_for(Session, "after_rollback")
def _forget(_session: Session) -> None:
    forget()


def _after_hours(session, officer_ids, _years, _years_from) -> None:
    refresh(session, officer_ids)


hours.AFTER_REFRESH.append(_after_hours)
compliance.install_store(serves, peek)
for _name in SETTINGS:
    settings.on_change(_name, lambda: refresh(db.session, ()))


# --- the check ----------------------------------------------------------------------------------

def differences(session: Session, day: date | None = None) -> list[tuple[str, tuple, int, int]]:
    """[(what, row, stored, computed)] wherever flag_row disagrees with the engine for `day` (the
    store's): each row (flag, reason, officer_id, unit_id, certificate_id, expires_on) counted in
    both. No store: [] (nothing stored to disagree)."""
    with scope.off(session):
        execute = _executor(session)
        st = _read(execute)
        day = day or st.day
        if day is None:
            return []
        fr = FlagRow.__table__
        stored: dict[tuple, int] = {}
        for r in execute(select(*(fr.c[c] for c in _COLS))):
            stored[tuple(r)] = stored.get(tuple(r), 0) + 1
        computed: dict[tuple, int] = {}
        p0 = settings_params(day)
        p0 = replace(p0, within=st.within if st.day == day else p0.within)
        for r in execute(filled(p0)):
            computed[tuple(r)] = computed.get(tuple(r), 0) + 1
    out = []
    for key in sorted(stored.keys() | computed.keys(), key=repr):
        a, b = stored.get(key, 0), computed.get(key, 0)
        if a != b:
            out.append(("多余" if a > b else "缺少", key, a, b))
    return out


def held_differences(session: Session) -> list[tuple[str, tuple, int, int]]:
    """differences() when the store claims to hold its day under the settings (day set, same
    fingerprints), whatever today is; else [] — the test suite's check after every test."""
    with scope.off(session):
        st = _read(_executor(session))
    if st.day is None:
        return []
    p0 = settings_params(st.day)
    if (st.eligible_fp, st.training_fp) != fingerprints(p0, st.first_held) or st.within < p0.within:
        return []
    return differences(session, st.day)
