"""The audit log as a list spec (app/web/lists.py): filters and export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, or_, select

from app.audit_log.display import Translator, actor_label, entity_label
from app.clock import from_local, to_local
from app.formatting import cn_date
from app.labels import AUDIT_ACTIONS
from app.models.audit import AuditEvent, AuditSubject
from app.scope import PER_ROW_OPTION, scope_ids
from app.web.exports import Column
from app.web.lists import Criteria, Filter, FilterBar, Filtered, ListSpec


def _day_start(d: date) -> datetime:
    """Midnight of a local day, as the naive UTC the audit rows are stored in."""
    return from_local(datetime.combine(d, datetime.min.time()))


def audit_filters(args: Mapping[str, str], _d: date) -> Filtered:
    c = Criteria(args)
    c.choice("action", AUDIT_ACTIONS, AuditEvent.action, "操作")
    c.text("entity", lambda v: AuditEvent.entity_type == v, "对象类型")
    c.text("q", lambda q: or_(AuditEvent.actor.contains(q, autoescape=True),
                              AuditEvent.summary.contains(q, autoescape=True)), limit=100)
    c.day("from", "开始日期", lambda v: AuditEvent.at >= _day_start(v), lambda v: f"自{cn_date(v)}")
    c.day("to", "结束日期", lambda v: AuditEvent.at < _day_start(v + timedelta(days=1)), lambda v: f"至{cn_date(v)}")
    # the rows per row (a scoped user, SQLite: app/scope.py audit_clause); the count keeps the set form
    f = c.filtered(select(AuditEvent).execution_options(**PER_ROW_OPTION), count_from=AuditEvent)
    ids = scope_ids()
    if ids is not None and not c.where:
        # unfiltered, scoped: the branch's rows counted in audit_subject alone (its index on
        # (unit_id, audit_id)), not joined back to audit_event (PostgreSQL 26 → 7 ms, SQLite 25 → 17)
        s = AuditSubject.__table__
        f.count = select(func.count(distinct(s.c.audit_id))).where(s.c.unit_id.in_(ids))
        f.count_rows = select(s.c.audit_id).where(s.c.unit_id.in_(ids)).distinct()
    return f


def audit_export_rows(rows: Sequence[Any], _d: date) -> list[dict[str, Any]]:
    """The same Chinese words as the page (app/audit/display.py): labels, names, 是/否, masked IDs."""
    events = [r.AuditEvent for r in rows]
    show = Translator(events)
    return [{"at": to_local(e.at), "actor": actor_label(e.actor),
             "action": AUDIT_ACTIONS.get(e.action, e.action),
             "entity": entity_label(e.entity_type, e.entity_id), "summary": show.summary(e),
             "changes": "\n".join(f"{label}：{old} → {new}" for label, old, new in show.changes(e)),
             "ip": e.ip or ""}
            for e in events]


AUDIT = ListSpec(
    title="审计日志", slug="audit", entity="audit",
    filtered=audit_filters, export_rows=audit_export_rows, per_page=50,
    columns=[Column("时间（北京时间）", lambda r: r["at"], 20), Column("操作人", lambda r: r["actor"], 12),
             Column("操作", lambda r: r["action"], 8), Column("对象", lambda r: r["entity"], 14),
             Column("内容", lambda r: r["summary"], 40), Column("变更", lambda r: r["changes"], 40),
             Column("IP", lambda r: r["ip"], 16)],
    sorts={"at": (AuditEvent.id,)}, default_sort="-at",
    bar=FilterBar("audit", "audit.index", (
        Filter("q", "text", placeholder="操作人或内容"),
        Filter("action", choices=AUDIT_ACTIONS, all="全部操作"),
        Filter("from", "date", "开始日期"),
        Filter("to", "date", "结束日期")),
        submit="筛选", submit_class="btn-primary", clear="", keep_sort=False),
)
