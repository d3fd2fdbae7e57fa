"""The one helper that writes audit rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import delete, event, insert, select, union, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.idnumber import mask
from app.models.audit import AuditEvent, AuditSubject
from app.models_base import utcnow
from app.scope import scope_unit_id


def _birth_year(value: Any) -> str:
    return f"{str(value.isoformat() if isinstance(value, date) else value)[:4]}年"


# Personal data kept in the log only in part: the masked ID number, and of the birth date (the
# masked middle of that number) the year alone, so the log cannot rebuild a number.
SENSITIVE = {"id_number": mask, "birth_date": _birth_year}


def hide_sensitive(field: str, value: Any) -> Any:
    return SENSITIVE[field](value) if field in SENSITIVE and value not in (None, "") else value


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def changes_of(obj: Any, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed, ID numbers masked."""
    out: dict[str, list[Any]] = {}
    for f in fields:
        old, new = before.get(f), getattr(obj, f)
        if old != new:
            out[f] = [_plain(hide_sensitive(f, old)), _plain(hide_sensitive(f, new))]
    return out


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def new_or_snapshot(obj: Any, model: type, fields: list[str]) -> tuple[Any, dict[str, Any]]:
    """A create-or-edit's start: (a new `model` added to the session, every field None before) when
    `obj` is None, else (obj, its fields as they are)."""
    if obj is None:
        obj = model()
        db.session.add(obj)
        return obj, dict.fromkeys(fields)
    return obj, snapshot(obj, fields)


def record_saved(entity: str, obj: Any, before: dict[str, Any], fields: list[str], what: str,
                 creating: bool, *, even_unchanged: bool = False) -> None:
    """A create-or-edit's audit row ("新增/修改" + `what`) with the fields that changed; none when
    nothing changed unless `even_unchanged`."""
    changes = changes_of(obj, before, fields)
    if changes or even_unchanged:
        record("create" if creating else "update", entity, obj.id,
               f"{'新增' if creating else '修改'}{what}", changes)


def add_officer_rows(officers: list[Any], have: set[int], new_row: Callable[[Any], Any], entity: str,
                     entity_id: int, message: Callable[[int], str]) -> int:
    """Put each officer not yet on a list (`have`: the officer ids on it) on it once, as `new_row(officer)`;
    when any was added, one audit row `message(how many)` on the list's entity. Returns how many."""
    added = 0
    for o in officers:
        if o.id not in have:
            db.session.add(new_row(o))
            have.add(o.id)
            added += 1
    db.session.flush()
    if added:
        record("update", entity, entity_id, message(added))
    return added


def record_joined(officers: list[Any], have: set[int], what: str, entity: str, title: str) -> None:
    """A bulk selection's audit rows: one per officer that was not on the list (`have`) before."""
    have = set(have)
    for o in officers:
        if o.id not in have:
            have.add(o.id)
            record("update", "officer", o.id, f"{what}：{o.name} 加入“{title}”", {entity: [None, title]})


def current_actor() -> tuple[str, int | None, str]:
    """(actor, user_id, ip) from the request when there is one, else the CLI."""
    if has_request_context():
        # The client address as werkzeug's ProxyFix sets it (PROXY_FIX_X_FOR, app/security.py):
        # an X-Forwarded-For header is believed only from the proxies configured.
        ip = request.remote_addr or ""
        if current_user and current_user.is_authenticated:
            return current_user.username, current_user.id, ip
        return "anonymous", None, ip
    ctx = click.get_current_context(silent=True)
    # "flask settings set" -> "cli:settings set", whatever the root is called
    # ("flask", "python -m flask", a test runner).
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return f"cli:{' '.join(reversed(names)) or 'shell'}", None, ""


def _acting_scope() -> int | None:
    """The unit whose subtree the acting user works in (None: the whole organisation, the CLI)."""
    return scope_unit_id()


# --- what a row is about: the unit a scoped user's audit page goes by (app/scope.py audit_clause) ---

SUBJECT_KINDS = ("unit", "officer", "certificate", "user")
_CHUNK = 500


def _subject_select(entity_type: str, ids):
    """SELECT (entity id, unit id) of the rows about `entity_type` whose id `ids` (a list or a
    SELECT of ids) holds; None for an entity type with no unit (cases go by case_unit)."""
    meta = db.Model.metadata
    o, c, u = meta.tables["officer"], meta.tables["certificate"], meta.tables["user_account"]
    if entity_type == "officer":
        return select(o.c.id, o.c.unit_id).where(o.c.id.in_(ids))
    if entity_type == "certificate":
        return select(c.c.id, o.c.unit_id).join(o, o.c.id == c.c.officer_id).where(c.c.id.in_(ids))
    if entity_type == "user":
        return select(u.c.id, u.c.unit_id).where(u.c.id.in_(ids))
    return None


def _subject_units(entity_type: str, ids: list[int]) -> dict[int, int | None]:
    """{entity id: the unit it belongs to now}: one statement (on the session's connection: no
    flush, no scope — the row is written whoever may read it)."""
    ids = [i for i in ids if i is not None]
    if not ids or entity_type not in SUBJECT_KINDS:
        return {}
    if entity_type == "unit":
        return {i: i for i in ids}
    conn = db.session.connection()
    out: dict[int, int | None] = {}
    for i in range(0, len(ids), _CHUNK):
        out.update(conn.execute(_subject_select(entity_type, ids[i:i + _CHUNK])).all())
    return out


def subjects_select(which=None):
    """SELECT (audit id, unit id) of the units the audit rows `which` (a WHERE clause on
    audit_event; None: every row) belong to: the acting user's scope unit, the unit of what the row
    is about and, for a row about a case, each unit of the case (case_unit)."""
    a, cu = AuditEvent.__table__, db.Model.metadata.tables["case_unit"]
    arms = [select(a.c.id, a.c.scope_unit_id).where(a.c.scope_unit_id.is_not(None)),
            select(a.c.id, a.c.subject_unit_id).where(a.c.subject_unit_id.is_not(None)),
            select(a.c.id, cu.c.unit_id).join(cu, cu.c.case_id == a.c.entity_id).where(a.c.entity_type == "case")]
    if which is not None:
        arms = [arm.where(which) for arm in arms]
    return union(*arms)


def sync_subjects(session, which=None, *, fresh: bool = False) -> None:
    """Rewrite the audit_subject rows of the audit rows `which` (a WHERE clause on audit_event;
    None: every row) from what they are derived from (`subjects_select`). `fresh`: rows just
    inserted, with none yet. On the session's connection: no ORM event, no unit scope."""
    a, s = AuditEvent.__table__, AuditSubject.__table__
    conn = session.connection()
    if not fresh:
        conn.execute(delete(s) if which is None else
                     delete(s).where(s.c.audit_id.in_(select(a.c.id).where(which))))
    conn.execute(insert(s).from_select(["audit_id", "unit_id"], subjects_select(which)))


@event.listens_for(Session, "after_flush")
def _subjects_after_flush(session: Session, _ctx) -> None:
    """The audit rows this flush inserted (`record`) get their audit_subject rows."""
    ids = [obj.id for obj in session.new if isinstance(obj, AuditEvent)]
    a = AuditEvent.__table__
    for i in range(0, len(ids), _CHUNK):
        sync_subjects(session, a.c.id.in_(ids[i:i + _CHUNK]), fresh=True)


def refresh_subjects(session, *, officer_ids=None, user_ids=None) -> None:
    """Set the subject unit of the rows about these officers (and their certificates) and users to
    where they are now (after a move; both None: of every row — a backfill), and their
    audit_subject rows with it. Set-wise."""
    a = AuditEvent.__table__
    meta = db.Model.metadata
    o, c, u = meta.tables["officer"], meta.tables["certificate"], meta.tables["user_account"]
    everything = officer_ids is None and user_ids is None
    if everything:
        session.execute(update(a).where(a.c.entity_type == "unit").values(subject_unit_id=a.c.entity_id))
    now_in = {
        "officer": select(o.c.unit_id).where(o.c.id == a.c.entity_id),
        "certificate": select(o.c.unit_id).join(c, c.c.officer_id == o.c.id).where(c.c.id == a.c.entity_id),
        "user": select(u.c.unit_id).where(u.c.id == a.c.entity_id),
    }
    for kind, ids in (("officer", officer_ids), ("certificate", officer_ids), ("user", user_ids)):
        if everything:
            chunks: list = [None]
        elif ids:
            ids = sorted(ids)
            chunks = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
        else:
            continue
        for chunk in chunks:
            which = a.c.entity_type == kind
            if chunk is not None:
                which &= a.c.entity_id.in_(select(c.c.id).where(c.c.officer_id.in_(chunk))
                                           if kind == "certificate" else chunk)
            session.execute(update(a).where(which).values(subject_unit_id=now_in[kind].scalar_subquery()))
            if chunk is not None:
                sync_subjects(session, which)
    if everything:
        sync_subjects(session)


def record(
    action: str,
    entity_type: str = "",
    entity_id: int | None = None,
    summary: str = "",
    changes: dict | None = None,
    *,
    actor: str | None = None,
    user_id: int | None = None,
    ip: str | None = None,
) -> AuditEvent:
    ctx_actor, uid, req_ip = current_actor()
    actor = actor or ctx_actor
    user_id = user_id if user_id is not None else uid
    ip = ip if ip is not None else req_ip
    event = AuditEvent(
        actor=actor, user_id=user_id, action=action, entity_type=entity_type,
        entity_id=entity_id, summary=summary, changes=changes or None, ip=ip or "",
        scope_unit_id=_acting_scope(), subject_unit_id=_subject_units(entity_type, [entity_id]).get(entity_id),
    )
    db.session.add(event)
    return event


def record_many(action: str, entity_type: str, entries: list[tuple[int, str, dict]]) -> None:
    """One audit row per (entity_id, summary, values) in a single INSERT — for bulk imports, so
    that every created row is audited like a one-by-one create. `values` are the new values."""
    record_changes_many(action, entity_type, [
        (entity_id, summary, {k: [None, _plain(hide_sensitive(k, v))] for k, v in values.items()
                              if v not in (None, "")})
        for entity_id, summary, values in entries])


def record_changes_many(action: str, entity_type: str, entries: list[tuple[int, str, dict]]) -> None:
    """One audit row per (entity_id, summary, changes) in a single INSERT — `changes` as
    `changes_of` gives them ({field: [old, new]}, already masked): what `record` would write for
    each, for bulk updates (imports)."""
    if not entries:
        return
    actor, user_id, ip = current_actor()
    now = utcnow()
    scope_unit_id = _acting_scope()
    subjects = _subject_units(entity_type, [e[0] for e in entries])
    ids = db.session.execute(insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id), [
        {"at": now, "actor": actor, "user_id": user_id, "scope_unit_id": scope_unit_id,
         "subject_unit_id": subjects.get(entity_id),
         "action": action, "entity_type": entity_type,
         "entity_id": entity_id, "summary": summary, "ip": ip or "", "created_at": now, "updated_at": now,
         "changes": changes or None}
        for entity_id, summary, changes in entries]).scalars().all()
    a = AuditEvent.__table__
    for i in range(0, len(ids), _CHUNK):
        sync_subjects(db.session, a.c.id.in_(ids[i:i + _CHUNK]), fresh=True)
