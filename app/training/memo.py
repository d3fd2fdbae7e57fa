"""Figures over the whole register kept until the next write (docs/architecture.md, Cost: the
training pages at 100,000 officers).

The year's statistics (年度统计: certificates effective at the year's end, units below two
holders, the year's rule applied to every officer …) and the ledger's counts per unit and status
read the whole register: 300–700 ms at 100,000 officers. They change only when data changes, so
they are kept in `figure_memo` under the **write stamp** they were computed at, and read back (one
primary-key read) while the stamp is the same.

The write stamp: a transaction that writes a table other than those written by merely using the
system (`IGNORED`: sign-ins, sessions, jobs, locks, the audit log, these two tables) adds a row
to `data_change` in the same transaction — seen at the engine (`after_cursor_execute`: ORM
flushes, Core statements, text(), bulk imports on the session's connection alike), written after
each flush and before the commit (and before a memo is read: the transaction's own writes move its
stamp too). The stamp is count, sum and max of those ids: any commit of a write changes it,
whatever order concurrent transactions commit in. Old rows are pruned as new ones come (the stamp
changes with them). Writes outside the application (psql, a restore) are not seen: `flask check
hours --fix`.

A memo is keyed by what the figures are computed for — its kind, its arguments, today's date and
the user's unit scope (the figures of a branch are the branch's) — and holds the stamp read
*before* computing (a write committed while computing gives a new stamp: recomputed next time).
`flask check hours` recomputes every memo of the current stamp and today and lists those that
differ (`--fix` drops them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from flask import g
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from app import clock, scope
from app.extensions import db
from app.models.training import DataChange, FigureMemo
from app.models_base import utcnow
from app.uow import has_writes

VERSION = "1"  # raise when what a kind computes changes: every memo is computed again

# written by using the system, not by changing its data: never a reason to recompute figures
IGNORED = frozenset({"data_change", "figure_memo", "user_session", "user_account", "login_throttle",
                     "job", "run_lock", "verify_hit", "audit_event", "audit_subject",
                     "notification", "reminder_run", "reminder_delivery", "api_token"})
PRUNE = 200  # keep about this many stamp rows; drop the stale memos as often

_CHANGED, _LOGGING, _PURGED, _WROTE = "memo_changed", "memo_logging", "memo_purged", "memo_wrote"
_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|REPLACE\s+INTO|'
                    r'TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"?(\w+)', re.IGNORECASE)
_OTHER_WRITE = re.compile(r"\s*(?:CREATE|DROP|ALTER|WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b)", re.IGNORECASE | re.DOTALL)


@event.listens_for(Engine, "after_cursor_execute")
def _note_write(conn, _cursor, statement, _params, _context, _many) -> None:
    """A statement that wrote a table that counts: the transaction will log a stamp row."""
    info = conn.info
    if info.get(_LOGGING):
        return
    m = _WRITE.match(statement)
    if m is not None:
        info[_WROTE] = True  # this transaction holds a write (SQLite: the database's write lock)
        table = m.group(1).lower()
        if table == "data_change":
            info[_PURGED] = True  # emptied by someone else (a test's clean-up, a restore): the stamp moves anyway
        elif table not in IGNORED:
            info[_CHANGED] = True
    elif not info.get(_CHANGED) and _OTHER_WRITE.match(statement):
        info[_CHANGED] = info[_WROTE] = True


def _log(session) -> None:
    """Writes since the last stamp row of this transaction: one more row (so that the stamp moves
    for this transaction's own later reads too, and for everyone at its commit)."""
    conn = session.connection()
    info = conn.info
    if not info.get(_CHANGED) or info.get(_PURGED):
        return
    info[_LOGGING] = True
    try:
        new_id = conn.execute(insert(DataChange).values(at=utcnow())).inserted_primary_key[0]
        if new_id % PRUNE == 0:
            conn.execute(delete(DataChange).where(DataChange.id <= new_id - PRUNE))
            _prune_memos(conn)
    finally:
        info.pop(_LOGGING, None)
    info.pop(_CHANGED, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _ctx) -> None:
    _log(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    _log(session)  # Core writes outside a flush (the final flush, if any, logs in after_flush)


def _clear(info) -> None:
    for k in (_CHANGED, _LOGGING, _PURGED, _WROTE):
        info.pop(k, None)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _end(conn) -> None:
    _clear(conn.info)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_back(conn, _name, _context) -> None:
    conn.info[_CHANGED] = True  # a stamp row may have gone with the savepoint: one more


@event.listens_for(Pool, "reset")
def _reset(_dbapi_conn, record, _state=None) -> None:
    _clear(record.info)


def current_stamp() -> str:
    count, total, top = db.session.execute(
        select(func.count(DataChange.id), func.coalesce(func.sum(DataChange.id), 0),
               func.coalesce(func.max(DataChange.id), 0))).one()
    return f"{VERSION}:{count}:{total}:{top}"


def scope_key() -> int | None:
    """The unit at the top of the signed-in user's branch; None: the whole organisation."""
    return None if scope.scope_ids() is None else scope.scope_unit_id()


def memo_key(kind: str, params: dict[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


KINDS: dict[str, Callable[..., Any]] = {}  # kind → compute(**params without today and unit)


def register(kind: str, compute: Callable[..., Any]) -> None:
    KINDS[kind] = compute


def remembered(kind: str, compute: Callable[[], Any], **params: Any) -> Any:
    """compute()'s JSON-shaped answer for `params`, today and the user's scope: the memo of the
    current write stamp (one read), else computed now and kept (in the caller's transaction:
    a page's request commits it). Dicts and lists only: what comes back is what JSON gives."""
    params = {**params, "today": clock.today().isoformat(), "unit": scope_key()}
    key = memo_key(kind, params)
    _log(db.session)  # this transaction's own writes not yet stamped
    m = FigureMemo
    # the stamp first (see the module's docstring), and the memo, in one statement
    stamp_q = select(func.count(DataChange.id), func.coalesce(func.sum(DataChange.id), 0),
                     func.coalesce(func.max(DataChange.id), 0)).subquery("stamp")
    count, total, top, kept, data = db.session.execute(select(
        stamp_q.c[0], stamp_q.c[1], stamp_q.c[2],
        select(m.stamp).where(m.key == key).scalar_subquery(),
        select(m.data).where(m.key == key).scalar_subquery())).one()
    stamp = f"{VERSION}:{count}:{total}:{top}"
    if kept == stamp and data is not None:
        return json.loads(data)
    value = json.loads(json.dumps(compute(), ensure_ascii=False))
    _keep(key, kind, params, stamp, value)
    return value


def _prune_memos(conn) -> None:
    """Every memo is stale once the writing transaction commits (a stamp never comes back): all
    deleted, every PRUNE-th write. PostgreSQL: in a short transaction of its own that skips the
    rows a reader is writing (a long import must not hold them: readers would wait for it);
    SQLite (one writer at a time anyway): in the writer's transaction."""
    t = FigureMemo.__table__
    if conn.dialect.name != "postgresql":
        conn.execute(delete(t))
        return
    with db.engine.begin() as own:
        own.execute(delete(t).where(t.c.key.in_(select(t.c.key).with_for_update(skip_locked=True))))


def _keep(key: str, kind: str, params: dict, stamp: str, value: Any) -> None:
    """Upsert the memo (one row: two requests computing the same key wait for each other a
    moment, never deadlock) in a short transaction of its own — a page that only reads stays a
    read (no COMMIT, nothing expired) — or, when the caller's transaction has written (SQLite: it
    holds the write lock a second connection would wait for), in the caller's transaction."""
    t = FigureMemo.__table__
    row = {"key": key, "kind": kind, "params": json.dumps(params, sort_keys=True, ensure_ascii=False),
           "stamp": stamp, "data": json.dumps(value, ensure_ascii=False)}
    session = db.session
    ins = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(t).values(**row)
    ins = ins.on_conflict_do_update(index_elements=[t.c.key], set_={
        k: ins.excluded[k] for k in ("stamp", "data", "params", "kind")})
    if has_writes(session) or session.connection().info.get(_WROTE):
        session.connection().execute(ins)
        return
    with db.engine.begin() as conn:
        conn.execute(ins)


def differences() -> list[tuple[str, str]]:
    """(key, what differs) for every memo of the current stamp and today whose figures differ from
    a fresh computation under the same arguments and scope."""
    stamp, today = current_stamp(), clock.today().isoformat()
    out = []
    for key, kind, params, data in db.session.execute(
            select(FigureMemo.key, FigureMemo.kind, FigureMemo.params, FigureMemo.data)
            .where(FigureMemo.stamp == stamp).order_by(FigureMemo.key)).all():
        args = json.loads(params)
        if args.pop("today", None) != today or kind not in KINDS:
            continue
        unit = args.pop("unit", None)
        fresh = json.loads(json.dumps(_as_scope(unit, KINDS[kind], args), ensure_ascii=False))
        kept = json.loads(data)
        if fresh != kept:
            diff = sorted(k for k in (fresh.keys() | kept.keys()) if fresh.get(k) != kept.get(k)) \
                if isinstance(fresh, dict) and isinstance(kept, dict) else ["全部"]
            out.append((key, "、".join(diff)))
    return out


class _ScopeUser:
    def __init__(self, unit_id: int | None) -> None:
        self.unit_id = unit_id


def _as_scope(unit_id: int | None, compute: Callable[..., Any], args: dict[str, Any]) -> Any:
    before = g.get("_scope_user")
    scope.forget()
    g.pop("_scope_unit", None)
    scope.activate(_ScopeUser(unit_id))
    try:
        return compute(**args)
    finally:
        g._scope_user = before
        g.pop("_scope_unit", None)
        scope.forget()


def drop(keys: list[str]) -> None:
    db.session.execute(delete(FigureMemo).where(FigureMemo.key.in_(keys)))
