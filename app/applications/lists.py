"""The application list as a spec (app/web/lists.py): filters, sort keys, export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from app import scope
from app.applications.services import overdue_clause, pending_clause
from app.labels import APPLICATION_KINDS, APPLICATION_STATES, APPLICATION_STEPS
from app.models.applications import Application
from app.models.officers import Officer, Unit
from app.units import unit_name
from app.web.exports import Column
from app.web.lists import Criteria, Filter, FilterBar, Filtered, ListSpec


def application_filters(args: Mapping[str, str], d: date) -> Filtered:
    c = Criteria(args)
    c.text("q", lambda q: Application.number.contains(q, autoescape=True) | Officer.name.contains(q, autoescape=True))
    c.choice("state", APPLICATION_STATES, Application.state, "状态")
    c.choice("kind", APPLICATION_KINDS, Application.kind, "类型")
    c.flag("overdue", {"1": "仅逾期"}, lambda _v: overdue_clause(d), "期限")
    c.flag("pending", {"1": "待我办理"}, lambda _v: pending_clause(current_user), "范围")
    unit = c.raw("unit")
    if unit.isdigit() and len(unit) < 10:
        c.add("unit", unit, scope.subtree_clause(Officer.unit_id, int(unit)), f"单位：{unit_name(int(unit))}")
    c.day("from", "收件日起", lambda v: Application.submitted_on >= v, lambda v: f"收件日起：{v.isoformat()}")
    c.day("to", "收件日止", lambda v: Application.submitted_on <= v, lambda v: f"收件日止：{v.isoformat()}")
    return c.filtered(
        select(Application, Officer.name.label("officer_name"), Unit.name.label("unit_name"))
        .join(Officer, Officer.id == Application.officer_id).join(Unit, Unit.id == Officer.unit_id),
        count_from=select(Application).join(Officer, Officer.id == Application.officer_id))  # scoped like the rows


def application_export_rows(rows: Sequence[Any], d: date) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        a = r.Application
        late = a.state in APPLICATION_STEPS and a.due_on is not None and a.due_on < d
        out.append({"number": a.number, "kind": APPLICATION_KINDS.get(a.kind, a.kind), "name": r.officer_name,
                    "unit": r.unit_name, "submitted_on": a.submitted_on,
                    "state": APPLICATION_STATES.get(a.state, a.state),
                    "due_on": a.due_on if a.state in APPLICATION_STEPS else None,
                    "estimated": "估算" if a.due_estimated and a.state in APPLICATION_STEPS else "",
                    "overdue": "逾期" if late else "", "by": a.submitted_by, "reason": a.reason})
    return out


APPLICATIONS = ListSpec(
    title="证件申请", slug="applications", entity="application",
    filtered=application_filters, export_rows=application_export_rows,
    columns=[Column("申请编号", lambda r: r["number"], 16), Column("类型", lambda r: r["kind"], 8),
             Column("姓名", lambda r: r["name"], 10), Column("单位", lambda r: r["unit"], 20),
             Column("收件日期", lambda r: r["submitted_on"], 16), Column("状态", lambda r: r["state"], 12),
             Column("办理期限", lambda r: r["due_on"], 16), Column("期限说明", lambda r: r["estimated"], 8),
             Column("逾期", lambda r: r["overdue"], 6), Column("提交人", lambda r: r["by"], 10),
             Column("申请事由", lambda r: r["reason"], 30)],
    sorts={"submitted": (Application.submitted_on,), "number": (Application.number,),
           "due": (Application.due_on,), "name": (Officer.name_pinyin,), "state": (Application.state,)},
    default_sort="-submitted", tiebreak=(Application.id.desc(),),
    bar=FilterBar("applications", "applications.index", (
        Filter("q", "text", "搜索", placeholder="姓名或申请编号"),
        Filter("kind", label="类型", choices=APPLICATION_KINDS, all="全部类型"),
        Filter("state", label="状态", choices=APPLICATION_STATES, all="全部状态"),
        Filter("unit", label="单位", choices="units", all="全部单位"),
        Filter("from", "date", "收件日起"),
        Filter("to", "date", "收件日止"),
        Filter("overdue", "keep"),
        Filter("pending", "keep")), form_id="filters"),
)
