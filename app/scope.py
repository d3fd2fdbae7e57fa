"""Unit scope: the officers, certificates, cases and units a signed-in user may see and touch.

A user belongs to a unit of the tree (`User.unit_id`) or to none: the whole organisation. Everything
a scoped user reads or writes is limited to that unit's subtree. It is built once, here:

- `subtree_ids(unit_id)`: the unit and every unit below it — one recursive CTE over `unit.parent_id`
  (a tree of 30–60 units: one small query, kept for the rest of the request in `g`).
- `install()` hooks the session's `do_orm_execute`: while a scoped user is signed in (a request, a
  background job replaying one, or an API call that called `activate(user)`), every ORM SELECT,
  UPDATE and DELETE gets `with_loader_criteria` for Unit (its id in the subtree), Officer (its unit in
  the subtree) and every model with an `officer_id` or `certificate_id` column (their officer in the
  subtree) — wherever the entity occurs: in joins, subqueries, CTEs (the flag engine's officer_state)
  and relationship loads. Routes and services need no filter of their own, and a record outside the
  subtree is simply not found: `get_or_404` answers 404 and its existence is not revealed.
- `unit_clause`, `officer_clause`, `certificate_clause`: the same rule as WHERE clauses, for Core
  statements on bare tables and for code acting for a user who is not the signed-in one.

`unscoped()` (an execution option) lets a statement see everything: only for checks that must know
a record exists elsewhere (a unit name an import row names, a unique ID number).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from flask import abort, g, has_app_context, has_request_context, request
from sqlalchemy import ColumnElement, event, false, inspect, or_, select, true
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.sql.functions import FunctionElement

from app.errors import DomainError
from app.extensions import db
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.roles import PUBLIC_ENDPOINTS
from app.units import unit_list

UNSCOPED = {"scope_all": True}
_OFF = "scope_off"


@contextmanager
def off(session):
    """Inside: no statement of `session` is scoped (keeping stored derived data — verdicts, case
    units — current for every case a write touches, seen or not by the user who wrote)."""
    outer = session.info.get(_OFF)
    session.info[_OFF] = True
    try:
        yield
    finally:
        if not outer:
            session.info.pop(_OFF, None)


def _user(user=None):
    """The user whose scope applies: the one given, else the one activated for this context (API),
    else the signed-in user — read from Flask-Login's cache without loading it (no query here)."""
    if user is not None:
        return user
    if not has_app_context():
        return None
    return g.get("_scope_user") or g.get("_login_user")


def scope_unit_id(user=None) -> int | None:
    """The unit at the top of the user's subtree; None for the whole organisation. Read without
    loading anything through the ORM (this runs inside the session's execute event): an expired
    user object (after a commit) is read with one Core query, then kept for the request."""
    u = _user(user)
    if u is None:
        return None
    if has_app_context():
        cached = g.get("_scope_unit")
        if cached is not None and cached[0] is u:
            return cached[1]
    unit_id = _unit_of(u)
    if has_app_context():
        g._scope_unit = (u, unit_id)
    return unit_id


def _unit_of(u) -> int | None:
    try:
        state = inspect(u)
    except NoInspectionAvailable:  # the anonymous user
        return getattr(u, "unit_id", None)
    if "unit_id" in state.dict or state.identity is None:
        return state.dict.get("unit_id")
    t = db.Model.metadata.tables["user_account"]
    return db.session.connection().execute(select(t.c.unit_id).where(t.c.id == state.identity[0])).scalar()


def activate(user) -> None:
    """Make `user`'s scope apply to every query in this app context (token API requests, jobs)."""
    g._scope_user = user


def _unit_table():
    return Unit.__table__


def subtree_select(unit_id: int):
    """SELECT of the ids of `unit_id` and every unit below it (a recursive CTE; both databases)."""
    u = _unit_table()
    tree = select(u.c.id).where(u.c.id == unit_id).cte("subtree", recursive=True)
    tree = tree.union_all(select(u.c.id).where(u.c.parent_id == tree.c.id))
    return select(tree.c.id)


def _parents() -> dict[int, int | None]:
    """{unit id: parent id} of the whole tree (30–60 rows), read once per request (app context) on
    the session's connection: no ORM event, so no scope applied to itself. The subtree and the
    ancestors of a unit are both worked out from it."""
    cached = g.get("_scope_parents") if has_app_context() else None
    if cached is None:
        u = _unit_table()
        cached = dict(db.session.connection().execute(select(u.c.id, u.c.parent_id)).all())
        if has_app_context():
            g._scope_parents = cached
    return cached


def subtree_ids(unit_id: int) -> list[int]:
    """The ids of `unit_id`'s subtree (the unit and every unit below it), read once per request."""
    cache = g.setdefault("_scope_subtrees", {}) if has_app_context() else {}
    if unit_id not in cache:
        parents = _parents()
        children: dict[int | None, list[int]] = {}
        for uid, parent in parents.items():
            children.setdefault(parent, []).append(uid)
        found, todo = set(), [unit_id] if unit_id in parents else []
        while todo:
            uid = todo.pop()
            if uid not in found:
                found.add(uid)
                todo.extend(children.get(uid, ()))
        cache[unit_id] = sorted(found)
    return cache[unit_id]


def forget() -> None:
    """Drop the tree read in this context (after a unit moved)."""
    if has_app_context():
        for key in ("_scope_subtrees", "_scope_parents", "_scope_opts"):
            g.pop(key, None)


def scope_ids(user=None) -> list[int] | None:
    """The unit ids the user may see; None: all of them."""
    uid = scope_unit_id(user)
    return None if uid is None else subtree_ids(uid)


def covers(unit_id: int | None, user=None) -> bool:
    """Whether the unit lies in the user's subtree (None — no unit, the whole organisation — only
    for a user of the whole organisation)."""
    ids = scope_ids(user)
    if ids is None:
        return True
    return unit_id is not None and unit_id in ids


def unit_clause(unit_id_column, user=None) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows whose unit (the given column) lies in the user's subtree."""
    ids = scope_ids(user)
    if ids is None:
        return true()
    return unit_id_column.in_(ids) if ids else false()


def ancestor_ids(unit_id: int) -> list[int]:
    """The ids of the units above `unit_id` (its parent, its parent's parent…)."""
    parents, found = _parents(), []
    uid = parents.get(unit_id)
    while uid is not None and uid not in found:
        found.append(uid)
        uid = parents.get(uid)
    return sorted(found)


def shared_ids(user=None) -> list[int] | None:
    """The units whose shared things (training sessions, exams) the user sees: their subtree and the
    units above it; None: all of them. Things organised by no unit (NULL) are seen by everyone."""
    uid = scope_unit_id(user)
    return None if uid is None else sorted(set(subtree_ids(uid)) | set(ancestor_ids(uid)))


def holds(unit_id: int | None, user=None) -> bool:
    """Whether the user may change something organised by `unit_id` (a training session, an exam):
    their subtree holds it; something of the whole organisation (None) only a user of the whole
    organisation."""
    return covers(unit_id, user)


def require_holds(record, user=None) -> None:
    """403 unless the user's scope holds the unit that organises `record` (its `unit_id`)."""
    if not holds(record.unit_id, user):
        abort(403)


SHARED_TABLES = ("training_session", "exam")
# Scoped by their own unit column (the stored flags: an officer's row and a unit's
# UNIT_UNDERSTAFFED alike carry the unit, app/rules/flagstore.py).
UNIT_TABLES = ("flag_row",)
# Keyed by officer_id but not an officer's record: a user account (an officer's own login, app/me)
# is scoped by the user's own unit where users are listed (auth/routes._managed_users).
UNSCOPED_TABLES = ("user_account",)
# Keyed by officer_id but reached through another key (attendance: a session's rows, the counts of
# a page of sessions): on SQLite the scope's `officer_id IN (…)` is written `+officer_id IN (…)` so
# that the planner keeps that key's index instead of driving the statement from the branch's
# officers through the officer_id index (/training: 47 → 14 ms, docs/architecture.md).
UNINDEXED_SCOPE_TABLES = ("attendance",)


class unindexed(FunctionElement):
    """`column` itself; on SQLite written `+column` — the same value for an integer column, but
    not a term the planner answers with an index on that column."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


def _officer_ids(ids):
    o = Officer.__table__
    return select(o.c.id).where(o.c.unit_id.in_(ids))


def case_clause(case, ids):
    """A case belongs to the branch of its 承办单位 when that names a unit of the tree; otherwise to
    the units of the officers its certificate numbers resolve to (a case spanning two branches is
    seen by both) — as stored in `case_unit` (kept current by rules/case_units.py).
    `case`: the PenaltyCase entity or an alias of it."""
    return case.id.in_(_case_ids(ids))


def _case_ids(ids):
    cu = db.Model.metadata.tables["case_unit"]
    return select(cu.c.case_id).where(cu.c.unit_id.in_(ids))


def audit_clause(a, ids):
    """The audit rows a scoped user reads: those written by users of the subtree, those about its
    units, officers, certificates and users, and those about its cases (a case may belong to two
    branches) — as stored in `audit_subject` (kept current by app/audit/services.py
    `sync_subjects`): one indexed semi-join instead of three conditions (one of them a subquery over
    case_unit); see docs/architecture.md for the figures. The per-row form (SQLite, the audit
    page's rows: `PER_ROW_OPTION`) is a correlated EXISTS on the row's id, `+unit_id` so that the
    primary key (audit_id, unit_id) answers it: SQLite then reads the log newest first and stops
    at the page, instead of building the branch's ~30,000 ids and sorting them (17 → 0.2 ms)."""
    s = db.Model.metadata.tables["audit_subject"]
    return a.id.in_(select(s.c.audit_id).where(s.c.unit_id.in_(ids)))


def officer_clause(user=None) -> ColumnElement[bool]:
    """A WHERE clause on Officer for the officers the user may see."""
    return unit_clause(Officer.unit_id, user)


def certificate_clause(user=None) -> ColumnElement[bool]:
    """A WHERE clause on Certificate (joined to nothing) for the cards of visible officers."""
    ids = scope_ids(user)
    if ids is None:
        return true()
    return Certificate.officer_id.in_(_officer_ids(ids))


def get_or_404(model, record_id, user=None):
    """`model`'s row with this id if it lies in the user's scope; 404 otherwise."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        abort(404)
    criteria = _criteria_for(model, scope_ids(user), shared_ids(user))
    q = select(model).where(model.id == record_id)
    if criteria is not None:
        q = q.where(criteria)
    row = db.session.scalar(q)
    if row is None:
        abort(404)
    return row


def get_officer_or_404(officer_id, user=None):
    """The officer with this id if the user may see them; 404 otherwise (existence not revealed)."""
    return get_or_404(Officer, officer_id, user)


# --- the one mechanism: criteria on every ORM statement ------------------------------------------

def _criteria_for(model, ids, shared=None):
    """The scope's WHERE clause on `model` (None: the model is not scoped, or no scope)."""
    if ids is None:
        return None

    if model is Unit:
        return Unit.id.in_(ids)
    if model is Officer:
        return Officer.unit_id.in_(ids)
    if model.__tablename__ == "penalty_case":
        return case_clause(model, ids)
    if model.__tablename__ in UNIT_TABLES:
        return model.unit_id.in_(ids)
    if model.__tablename__ == "audit_event":
        return audit_clause(model, ids)
    if model.__tablename__ in SHARED_TABLES:
        return shared_clause(model, ids if shared is None else shared)
    if model.__tablename__ in UNSCOPED_TABLES:
        return None
    cols = model.__table__.c
    if "case_id" in cols and _refers_to(cols.case_id, "penalty_case"):
        return model.case_id.in_(_case_ids(ids))
    if "officer_id" in cols and _refers_to(cols.officer_id, "officer"):
        return model.officer_id.in_(_officer_ids(ids))
    if "certificate_id" in cols and _refers_to(cols.certificate_id, "certificate"):
        c = Certificate.__table__
        return model.certificate_id.in_(
            select(c.c.id).where(c.c.officer_id.in_(_officer_ids(ids))))
    return None


def shared_clause(thing, shared):
    """A training session or exam is seen when organised by no unit (the whole organisation) or by a
    unit of the user's subtree or above it."""
    return or_(thing.unit_id.is_(None), thing.unit_id.in_(shared))


def _refers_to(column, table: str) -> bool:
    return any(fk.column.table.name == table for fk in column.foreign_keys)


_SCOPED_MODELS: list | None = None


def scoped_models() -> list:
    """Every mapped class the scope filters: Unit, Officer and those keyed by officer/certificate."""
    global _SCOPED_MODELS
    if _SCOPED_MODELS is None:
        found = []
        for mapper in db.Model.registry.mappers:
            cls = mapper.class_
            if getattr(cls, "__table__", None) is not None and _criteria_for(cls, [0]) is not None:
                found.append(cls)
        _SCOPED_MODELS = found
    return _SCOPED_MODELS


def _scope_lambda(model, ids, shared, per_row: bool = False):
    """The criteria of `with_loader_criteria`, as a lambda of the entity: applied to aliases too
    (the flag engine joins training_hours twice under two names). `ids` is a bound parameter.
    `per_row` (SQLite, see `PER_ROW`): a row keyed by officer or certificate is checked by a
    correlated EXISTS on its officer (one primary-key lookup per row read) instead of
    `officer_id IN (the branch's officers)`."""
    o = Officer.__table__
    c = Unit.metadata.tables["certificate"]
    if model is Unit:
        return lambda cls: cls.id.in_(ids)
    if model is Officer:
        return lambda cls: cls.unit_id.in_(ids)
    if model.__tablename__ == "penalty_case":
        return lambda cls: case_clause(cls, ids)
    if model.__tablename__ in UNIT_TABLES:
        return lambda cls: cls.unit_id.in_(ids)
    if model.__tablename__ == "audit_event":
        if per_row:  # the audit page's rows: newest first, stop at the page (see audit_clause)
            s = Unit.metadata.tables["audit_subject"]
            return lambda cls: select(s.c.audit_id).where(
                s.c.audit_id == cls.id, unindexed(s.c.unit_id).in_(ids)).exists()
        return lambda cls: audit_clause(cls, ids)
    if model.__tablename__ in SHARED_TABLES:
        return lambda cls: shared_clause(cls, shared)
    cols = model.__table__.c
    if per_row and not ("case_id" in cols and _refers_to(cols.case_id, "penalty_case")):
        so, sc = o.alias("scope_officer"), c.alias("scope_certificate")
        if "officer_id" in cols and _refers_to(cols.officer_id, "officer"):
            return lambda cls: select(so.c.id).where(
                so.c.id == cls.officer_id, so.c.unit_id.in_(ids)).correlate_except(so).exists()
        if ("certificate_id" in cols and _refers_to(cols.certificate_id, "certificate")
                and not ("officer_id" in cols and _refers_to(cols.officer_id, "officer"))):
            return lambda cls: select(sc.c.id).join(so, so.c.id == sc.c.officer_id).where(
                sc.c.id == cls.certificate_id, so.c.unit_id.in_(ids)).correlate_except(sc, so).exists()
    if "case_id" in cols and _refers_to(cols.case_id, "penalty_case"):
        return lambda cls: cls.case_id.in_(_case_ids(ids))
    if "officer_id" in cols and _refers_to(cols.officer_id, "officer"):
        if model.__tablename__ in UNINDEXED_SCOPE_TABLES:
            return lambda cls: unindexed(cls.officer_id).in_(select(o.c.id).where(o.c.unit_id.in_(ids)))
        return lambda cls: cls.officer_id.in_(select(o.c.id).where(o.c.unit_id.in_(ids)))
    return lambda cls: cls.certificate_id.in_(
        select(c.c.id).where(c.c.officer_id.in_(select(o.c.id).where(o.c.unit_id.in_(ids)))))


def _add_scope(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the statement that loaded the parent propagate to these
    if state.execution_options.get("scope_all") or state.session.info.get(_OFF):
        return
    if not has_app_context() or _public_request():
        return
    ids = scope_ids()
    if ids is None:
        return
    per_row = ((state.execution_options.get(_PER_ROW) or state.session.info.get(_PER_ROW))
               and PER_ROW.get(state.session.get_bind().dialect.name, False))
    state.statement = state.statement.options(*_options(ids, shared_ids(), bool(per_row)))


# A statement that reads a few rows (one officer's cards, a page of rows picked by id) but carries
# the scope's `officer_id IN (the branch's officers)` makes SQLite build that list of ~4,000
# officers (~8,000 certificates for `certificate_id IN …`) once per occurrence — and sometimes
# drive the statement from it. Such statements ask for the per-row form: the execution option
# `PER_ROW_OPTION`, or every statement of a view decorated with `per_row` (the officer page).
# Statements over a large part of the branch keep the set form (one list beats a lookup per row).
# PostgreSQL plans `IN (subquery)` and a correlated EXISTS alike (a semi-join): the set form there.
PER_ROW = {"sqlite": True}
_PER_ROW = "scope_per_row"
PER_ROW_OPTION = {_PER_ROW: True}


def per_row(view):
    """Decorator: the scope's conditions on rows keyed by officer or certificate are checked row by
    row (a correlated EXISTS on the row's officer) in every statement `view` runs."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        info = db.session.info
        outer = info.get(_PER_ROW)
        info[_PER_ROW] = True
        try:
            return view(*args, **kwargs)
        finally:
            if not outer:
                info.pop(_PER_ROW, None)

    return wrapper


_OPTIONS: dict[tuple, list] = {}


def _options(ids: list[int], shared: list[int], per_row: bool = False) -> list:
    """The criteria options of this scope, built once per process for each scope (subtree, shared
    units, form) and put on each of its statements: building the ~25 options cost 15–40 ms of CPU
    per request, more than most scoped pages' statements (the options hold only the unit ids, which
    are part of the key; at most a few hundred scopes: the cache is emptied beyond that)."""
    key = (tuple(ids), tuple(shared), per_row)
    opts = _OPTIONS.get(key)
    if opts is None:
        if len(_OPTIONS) >= 256:
            _OPTIONS.clear()
        opts = _OPTIONS[key] = [with_loader_criteria(cls, _scope_lambda(cls, ids, shared, per_row),
                                                     include_aliases=True) for cls in scoped_models()]
    return opts


def _public_request() -> bool:
    """The public pages (the published roster, the certificate check) show the same to everyone,
    signed in or not: the scope of whoever happens to be signed in does not apply to them."""

    return has_request_context() and request.endpoint in PUBLIC_ENDPOINTS and g.get("_scope_user") is None


def install() -> None:
    """Apply the signed-in user's scope to every ORM statement of every session."""
    if not event.contains(Session, "do_orm_execute", _add_scope):
        event.listen(Session, "do_orm_execute", _add_scope)


def subtree_clause(unit_id_column, unit_id: int) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows whose unit (the given column) is `unit_id` or lies below it.
    Combine it with unit_clause for the user's scope."""
    return unit_id_column.in_(subtree_select(unit_id))


# --- shared things (training sessions, exams): the unit that organises them ----------------------

WHOLE = 0  # the form's value for "organised by no unit: the whole organisation"


def organising_choices(user=None) -> list[tuple[int, str]]:
    """The units the user may name as a session's or exam's organiser: those of their subtree, and
    "the whole organisation" for a user of the whole organisation."""
    ids = scope_ids(user)
    units = [(u.id, u.name) for u in unit_list() if ids is None or u.id in ids]
    return ([(WHOLE, "全单位（不限）")] if ids is None else []) + units


def organising_unit(data: dict, current: int | None, creating: bool, user=None) -> int | None:
    """The organising unit a save gives a session or exam: the `unit_id` in `data` (0/None: the
    whole organisation) when given, else the current one — for a new one, the user's scope unit.
    Raises DomainError when the user's scope does not hold it."""
    if not creating and not holds(current, user):
        raise DomainError("这是上级单位组织的，只有主办单位能修改（本单位人员的出勤、成绩可以登记）")
    if "unit_id" in data:
        try:
            unit_id = int(data["unit_id"] or 0) or None
        except (TypeError, ValueError):
            unit_id = -1
    else:
        unit_id = scope_unit_id(user) if creating else current
    if unit_id == -1 or not holds(unit_id, user):
        msg = "主办单位只能选本单位或下级单位"
        raise DomainError(msg, fields={"unit_id": msg})
    return unit_id
