"""Scans kept with an officer's file, and the officer's history of unit, post and status
changes (read from the audit log). Services: flush, never commit."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import labels as L
from app.audit.services import current_actor, record
from app.clock import to_local
from app.errors import DomainError
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.officers import Officer, OfficerAttachment, Unit

MAX_SIZE = 5 * 1024 * 1024
ATTACHMENT_KINDS = {"certificate_scan": "执法证扫描件", "appointment": "任命文件", "other": "其他材料"}
# What the bytes are, whatever the file is called (a renamed .exe is refused).
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if data.startswith(magic):
            return mime, ext
    return None


def _clean_name(filename: str, ext: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\\\:*?\"<>|]+", "_", (filename or "").strip()).strip(". ")[:150]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or '附件'}.{ext}"


def add_attachment(officer: Officer, kind: str, filename: str, data: bytes) -> OfficerAttachment:
    if kind not in ATTACHMENT_KINDS:
        raise DomainError("请选择附件类型")
    if not data:
        raise DomainError("请选择要上传的文件")
    if len(data) > MAX_SIZE:
        raise DomainError(f"文件太大（{len(data) / 1024 / 1024:.1f} MB），附件不能超过 5 MB")
    found = sniff(data)
    if found is None:
        raise DomainError("只能上传 PDF、JPG 或 PNG 文件（按文件内容判断，不看扩展名）")
    mime, ext = found
    att = OfficerAttachment(officer_id=officer.id, kind=kind, filename=_clean_name(filename, ext),
                            mime=mime, size=len(data), data=data, uploaded_by=current_actor()[0])
    db.session.add(att)
    db.session.flush()
    record("create", "officer", officer.id, f"上传附件：{officer.name} {ATTACHMENT_KINDS[kind]}《{att.filename}》",
           {"attachment": [None, att.filename]})
    return att


def delete_attachment(officer: Officer, att: OfficerAttachment) -> None:
    record("delete", "officer", officer.id,
           f"删除附件：{officer.name} {ATTACHMENT_KINDS.get(att.kind, '')}《{att.filename}》",
           {"attachment": [att.filename, None]})
    db.session.delete(att)
    db.session.flush()


def attachments_of(officer_id: int) -> list[OfficerAttachment]:
    return list(db.session.scalars(select(OfficerAttachment).where(OfficerAttachment.officer_id == officer_id)
                                   .order_by(OfficerAttachment.created_at.desc(), OfficerAttachment.id.desc())))


# ---------------------------------------------------------------- history

HISTORY_FIELDS = {"unit_id": "单位", "on_enforcement_post": "执法岗位", "employment_status": "在职状态",
                  "position": "职务"}


def history(officer_id: int) -> list[dict[str, Any]]:
    """Unit, post, position and employment-status changes of one officer, newest first, in words."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "officer", AuditEvent.entity_id == officer_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
    unit_ids: set[int] = set()
    rows = []
    for e in events:
        for field, label in HISTORY_FIELDS.items():
            change = (e.changes or {}).get(field)
            if not isinstance(change, list | tuple) or len(change) != 2 or e.action not in ("update", "import"):
                continue
            old, new = change
            if field == "unit_id":
                unit_ids.update(v for v in (old, new) if isinstance(v, int))
            rows.append({"at": e.at, "field": field, "label": label, "old": old, "new": new,
                         "actor": e.actor, "summary": e.summary})
    units = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}

    def words(field: str, v: Any) -> str:
        if v is None or v == "":
            return "—"
        if field == "unit_id":
            return units.get(v, "（已删除的单位）")
        if field == "on_enforcement_post":
            return "是" if v in (True, 1, "True", "true") else "否"
        if field == "employment_status":
            return L.EMPLOYMENT_STATUSES.get(v, str(v))
        return str(v)

    for r in rows:
        r["old_text"], r["new_text"] = words(r["field"], r["old"]), words(r["field"], r["new"])
        r["at_local"] = to_local(r["at"]) if isinstance(r["at"], datetime) else r["at"]
    return rows
