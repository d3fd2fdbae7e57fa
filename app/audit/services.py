"""The one helper that writes audit rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.audit.models import AuditEvent
from app.extensions import db
from app.officers.idnumber import mask


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


def current_actor() -> tuple[str, int | None, str]:
    """(actor, user_id, ip) from the request when there is one, else the CLI."""
    from flask import has_request_context, request
    from flask_login import current_user

    if has_request_context():
        # The client address as werkzeug's ProxyFix sets it (PROXY_FIX_X_FOR, app/security.py):
        # an X-Forwarded-For header is believed only from the proxies configured.
        ip = request.remote_addr or ""
        if current_user and current_user.is_authenticated:
            return current_user.username, current_user.id, ip
        return "anonymous", None, ip
    import click

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
    from app.scope import scope_unit_id

    return scope_unit_id()


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
        scope_unit_id=_acting_scope(),
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
    from sqlalchemy import insert

    from app.models_base import utcnow

    actor, user_id, ip = current_actor()
    now = utcnow()
    scope_unit_id = _acting_scope()
    db.session.execute(insert(AuditEvent.__table__), [
        {"at": now, "actor": actor, "user_id": user_id, "scope_unit_id": scope_unit_id,
         "action": action, "entity_type": entity_type,
         "entity_id": entity_id, "summary": summary, "ip": ip or "", "created_at": now, "updated_at": now,
         "changes": changes or None}
        for entity_id, summary, changes in entries])
