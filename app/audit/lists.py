"""The audit log as a list spec (app/web/lists.py): filters and export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from app.audit.models import AuditEvent
from app.audit.services import hide_sensitive
from app.formatting import cn_date
from app.labels import AUDIT_ACTIONS
from app.reports.exports import Column
from app.web.args import date_filter, text_arg
from app.web.lists import Filtered, ListSpec

BEIJING = timedelta(hours=8)  # stored in UTC; days are Beijing days


def audit_filters(args: Mapping[str, str], _d: date) -> Filtered:
    where: list = []
    active: dict[str, str] = {}
    words: list[str] = []
    problems: list[str] = []
    action = str(args.get("action", "") or "")
    if action in AUDIT_ACTIONS:
        where.append(AuditEvent.action == action)
        active["action"] = action
        words.append(f"操作：{AUDIT_ACTIONS[action]}")
    entity = text_arg(args, "entity")
    if entity:
        where.append(AuditEvent.entity_type == entity)
        active["entity"] = entity
        words.append(f"对象类型：{entity}")
    q = text_arg(args, "q", 100)
    if q:
        where.append(or_(AuditEvent.actor.contains(q, autoescape=True),
                         AuditEvent.summary.contains(q, autoescape=True)))
        active["q"] = q
        words.append(f"搜索：{q}")
    start = date_filter(args, "from", "开始日期", problems)
    end = date_filter(args, "to", "结束日期", problems)
    if start:
        where.append(AuditEvent.at >= datetime.combine(start, datetime.min.time()) - BEIJING)
        active["from"] = start.isoformat()
        words.append(f"自{cn_date(start)}")
    if end:
        where.append(AuditEvent.at < datetime.combine(end + timedelta(days=1), datetime.min.time()) - BEIJING)
        active["to"] = end.isoformat()
        words.append(f"至{cn_date(end)}")
    return Filtered(select(AuditEvent).where(*where), active, words,
                    select(func.count()).select_from(AuditEvent).where(*where), problems)


def _changes(e: AuditEvent) -> str:
    lines = []
    for k, v in (e.changes or {}).items():
        if isinstance(v, list | tuple) and len(v) == 2:
            old = "—" if v[0] is None else hide_sensitive(k, v[0])
            new = "—" if v[1] is None else hide_sensitive(k, v[1])
            lines.append(f"{k}：{old} → {new}")
        else:
            lines.append(f"{k}：{v}")
    return "\n".join(lines)


def audit_export_rows(rows: Sequence[Any], _d: date) -> list[dict[str, Any]]:
    return [{"at": r.AuditEvent.at.replace(tzinfo=None) + BEIJING, "actor": r.AuditEvent.actor,
             "action": AUDIT_ACTIONS.get(r.AuditEvent.action, r.AuditEvent.action),
             "entity": r.AuditEvent.entity_type + (f" #{r.AuditEvent.entity_id}" if r.AuditEvent.entity_id else ""),
             "summary": r.AuditEvent.summary, "changes": _changes(r.AuditEvent), "ip": r.AuditEvent.ip or ""}
            for r in rows]


AUDIT = ListSpec(
    title="审计日志", slug="audit", entity="audit",
    filtered=audit_filters, export_rows=audit_export_rows, per_page=50,
    columns=[Column("时间（北京时间）", lambda r: r["at"], 20), Column("操作人", lambda r: r["actor"], 12),
             Column("操作", lambda r: r["action"], 8), Column("对象", lambda r: r["entity"], 14),
             Column("内容", lambda r: r["summary"], 40), Column("变更", lambda r: r["changes"], 40),
             Column("IP", lambda r: r["ip"], 16)],
    sorts={"at": (AuditEvent.id,)}, default_sort="-at",
)
