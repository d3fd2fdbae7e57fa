"""The officer and unit lists as specs (app/web/lists.py): filters, sort keys, export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app import labels as L
from app.audit.services import record
from app.auth.access import sees_full_ids
from app.extensions import db
from app.formatting import cn_date
from app.idnumber import mask
from app.models.certificates import Certificate
from app.models.exams import Exam
from app.models.officers import Officer, Unit
from app.models.training import TrainingSession
from app.rules import compliance, timeline
from app.units import unit_name
from app.web.exports import Column
from app.web.lists import Criteria, Filter, Filtered, ListSpec, labelled_bar

YES_NO = {"yes": "是", "no": "否"}
CERTIFIED = {"yes": "持有效执法证", "no": "无有效执法证"}
OFFICER_FLAGS = {k: v for k, v in L.FLAGS.items() if k != "UNIT_UNDERSTAFFED"}



def officer_filters(args: Mapping[str, str], d: date) -> Filtered:
    """WHERE clauses from the query string; unknown values are ignored, never an error page."""
    c = Criteria(args)
    c.text("q", lambda q: Officer.name.contains(q, autoescape=True)
           | Officer.id_number_search(q, partial=sees_full_ids())
           | Officer.employee_no.contains(q, autoescape=True))
    c.ident("unit", Officer.unit_id, "单位", unit_name)
    c.choice("establishment", L.ESTABLISHMENTS, Officer.establishment, "编制类型")
    c.flag("post", YES_NO, lambda v: Officer.on_enforcement_post.is_(v == "yes"), "执法岗位")
    c.choice("status", L.EMPLOYMENT_STATUSES, Officer.employment_status, "在职状态")
    c.flag("flag", OFFICER_FLAGS, lambda v: Officer.id.in_(
        compliance.officer_ids_with_flag(compliance.Params.from_settings(d), v)), "问题提示", costly=True)

    def certified(v: str):
        held = select(timeline.best_effective(d).c.officer_id)
        return Officer.id.in_(held) if v == "yes" else Officer.id.not_in(held)

    c.flag("certified", CERTIFIED, certified, "持证")
    return c.filtered(select(Officer, Unit.name.label("unit_name")).join(Unit, Unit.id == Officer.unit_id),
                      count_from=Officer)


def expiries(officer_ids: Sequence[int], d: date) -> dict[int, date]:
    """The effective enforcement certificate that expires last, for these officers only."""
    if not officer_ids:
        return {}
    eff = timeline.best_effective(d, officer_ids=list(officer_ids))
    return dict(db.session.execute(select(eff.c.officer_id, eff.c.expires_on)).all())


def officer_export_rows(rows: Sequence[Any], d: date) -> list[dict[str, Any]]:
    expires = expiries([r.Officer.id for r in rows], d)
    return [{
        "name": r.Officer.name, "id_number": mask(r.Officer.id_number), "unit": r.unit_name,
        "position": r.Officer.position, "employee_no": r.Officer.employee_no or "",
        "establishment": L.ESTABLISHMENTS.get(r.Officer.establishment, r.Officer.establishment),
        "post": "是" if r.Officer.on_enforcement_post else "否",
        "status": L.EMPLOYMENT_STATUSES.get(r.Officer.employment_status, r.Officer.employment_status),
        "expires_on": expires.get(r.Officer.id),
    } for r in rows]


OFFICER_COLUMNS = [
    Column("姓名", lambda r: r["name"], 10),
    Column("身份证号", lambda r: r["id_number"], 22),
    Column("单位", lambda r: r["unit"], 20),
    Column("职务", lambda r: r["position"], 12),
    Column("工号", lambda r: r["employee_no"], 12),
    Column("编制类型", lambda r: r["establishment"], 14),
    Column("执法岗位", lambda r: r["post"], 8),
    Column("在职状态", lambda r: r["status"], 8),
    Column("执法证有效期至", lambda r: r["expires_on"] or "无有效执法证", 16),
]

OFFICERS = ListSpec(
    title="执法人员", slug="officers", entity="officer",
    filtered=officer_filters, columns=OFFICER_COLUMNS, export_rows=officer_export_rows,
    sorts={
        "name": (Officer.name_pinyin, Officer.name),
        "unit": (Unit.sort_order, Unit.name_pinyin, Unit.name),
        "establishment": (Officer.establishment,),
        "status": (Officer.employment_status,),
    },
    default_sort="unit", then=(Officer.name_pinyin, Officer.name), tiebreak=(Officer.id,),
    bar=labelled_bar(
        "officers", "officers.index",
        Filter("q", "text", "搜索", placeholder="姓名、身份证号末几位、工号", col="col-12 col-md-3 col-xl-2"),
        Filter("unit", label="单位", choices="units", col="col-6 col-md-3 col-xl-2"),
        Filter("establishment", label="编制类型", choices=L.ESTABLISHMENTS, col="col-6 col-md-2 col-xl-1"),
        Filter("post", label="执法岗位", choices=YES_NO, col="col-6 col-md-2 col-xl-1"),
        Filter("status", label="在职状态", choices=L.EMPLOYMENT_STATUSES, col="col-6 col-md-2 col-xl-1"),
        Filter("flag", label="问题提示", choices=OFFICER_FLAGS, col="col-6 col-md-3 col-xl-auto"),
        Filter("certified", label="持证", choices=CERTIFIED, col="col-6 col-md-3 col-xl-auto")),
)


# ---------------------------------------------------------------- units

_counts = (select(Officer.unit_id, func.count(Officer.id).label("n"))
           .group_by(Officer.unit_id).subquery("officer_counts"))
_parent = Unit.__table__.alias("parent_unit")
_n = func.coalesce(_counts.c.n, 0)


def unit_filters(args: Mapping[str, str], _d: date) -> Filtered:
    c = Criteria(args)
    c.text("q", lambda q: Unit.name.contains(q, autoescape=True))
    c.choice("kind", L.UNIT_KINDS, Unit.kind, "类型")
    return c.filtered(select(Unit, _parent.c.name.label("parent_name"), _n.label("n"))
                      .outerjoin(_counts, _counts.c.unit_id == Unit.id)
                      .outerjoin(_parent, _parent.c.id == Unit.parent_id), count_from=Unit)


def unit_export_rows(rows: Sequence[Any], _d: date) -> list[dict[str, Any]]:
    return [{"order": r.Unit.sort_order, "name": r.Unit.name,
             "kind": L.UNIT_KINDS.get(r.Unit.kind, r.Unit.kind),
             "parent": r.parent_name or "", "n": r.n} for r in rows]


UNITS = ListSpec(
    title="单位", slug="units", entity="unit",
    filtered=unit_filters, export_rows=unit_export_rows,
    columns=[Column("排序", lambda r: r["order"], 6), Column("单位名称", lambda r: r["name"], 24),
             Column("类型", lambda r: r["kind"], 10), Column("上级单位", lambda r: r["parent"], 20),
             Column("人员数", lambda r: r["n"], 8)],
    sorts={"order": (Unit.sort_order,), "name": (Unit.name_pinyin, Unit.name),
           "kind": (Unit.kind,), "count": (_n,)},
    default_sort="order", then=(Unit.name_pinyin, Unit.name), tiebreak=(Unit.id,),
    bar=labelled_bar(
        "units", "officers.units",
        Filter("q", "text", "搜索", placeholder="单位名称", col="col-12 col-md-4 col-xl-3"),
        Filter("kind", label="类型", choices=L.UNIT_KINDS, col="col-6 col-md-3 col-xl-2")),
)


# ---------------------------------------------------------------- selections for bulk actions

BULK_ACTIONS = {
    "unit": "调整单位",
    "training": "报名培训",
    "exam": "报名考试",
    "post_on": "设为执法岗位",
    "post_off": "设为非执法岗位",
    "roster": "打印人员名册",
}


def selection(form: Mapping[str, Any], d: date) -> tuple[Any, str]:
    """(WHERE-able select of officer ids, the query string of the filters) for a bulk form: the
    ticked rows (`ids`), or with `all=1` every officer matching the list's filters (`filters`,
    the list's own query string, so the selection is the one the list showed)."""
    filters = str(form.get("filters", "") or "")[:2000]
    if form.get("all") == "1":
        f = officer_filters(MultiDict(parse_qsl(filters)), d)
        return f.stmt.with_only_columns(Officer.id).order_by(None), filters
    ids = []
    for raw in form.getlist("ids") if hasattr(form, "getlist") else []:
        if str(raw).isdigit() and len(str(raw)) < 10:
            ids.append(int(raw))
    return select(Officer.id).where(Officer.id.in_(ids)), filters


def selected_officers(ids_select: Any) -> list[Officer]:
    return list(db.session.scalars(
        select(Officer).join(Unit, Unit.id == Officer.unit_id).where(Officer.id.in_(ids_select))
        .order_by(Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, Officer.id)))


def bulk_targets(action: str) -> list[tuple[int, str]]:
    """The choices a bulk action needs: units, recent training sessions or exams."""
    if action == "unit":
        return list(db.session.execute(
            select(Unit.id, Unit.name).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)))
    if action == "training":
        model = TrainingSession
    elif action == "exam":
        model = Exam
    else:
        return []
    rows = db.session.execute(select(model.id, model.title, model.held_on)
                              .order_by(model.held_on.desc(), model.id.desc()).limit(300))
    return [(i, f"{cn_date(held)} {title}") for i, title, held in rows]


def roster_rows(officers: Sequence[Officer], d: date) -> list[dict[str, Any]]:
    """The printed roster of a selection: masked ID numbers, the effective certificate."""
    eff = timeline.best_effective(d)
    ids = [o.id for o in officers]
    certs: dict[int, tuple[str, date]] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        certs.update({oid: (number, expires) for oid, number, expires in db.session.execute(
            select(eff.c.officer_id, Certificate.number, eff.c.expires_on)
            .join(Certificate, Certificate.id == eff.c.cert_id)
            .where(eff.c.officer_id.in_(chunk)))})
    units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    return [{"n": i, "unit": units.get(o.unit_id, ""), "name": o.name,
             "gender": L.GENDERS.get(o.gender, o.gender), "id_number": mask(o.id_number),
             "position": o.position, "post": "是" if o.on_enforcement_post else "否",
             "number": certs.get(o.id, ("", None))[0], "expires_on": certs.get(o.id, ("", None))[1]}
            for i, o in enumerate(officers, start=1)]


def record_prints(officers: Sequence[Officer]) -> None:
    for o in officers:
        record("print", "officer", o.id, f"打印人员名册：{o.name}")
