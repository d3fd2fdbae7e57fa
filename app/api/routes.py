"""/api/v1 views. Every query is limited by app/scope.py (officer_clause, certificate_clause,
unit_clause), so a token sees what its user may see; every view is GET (viewer)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from flask_login import current_user
from sqlalchemy import func, or_, select

from app import clock, scope
from app.api import bp, schemas
from app.api.errors import ApiError
from app.extensions import db
from app.idnumber import mask
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.reports import services as report_services
from app.rules import compliance
from app.rules.timeline import load_cards

ERRORS = {
    400: "请求无效（例如不存在的日期）",
    401: "缺少令牌，或令牌无效、已撤销",
    403: "没有权限",
    404: "不存在，或不在调用者的范围内",
    422: "参数不符合要求",
    429: "请求过于频繁",
}


def _errors(*codes):
    def deco(fn):
        for code in (401, 403, 429, *codes):
            fn = bp.alt_response(code, schema=schemas.Error, description=ERRORS[code])(fn)
        return fn
    return deco


def _unit_id(name: str | None) -> int | None:
    """The id of the unit called `name` within the caller's scope; 422 when there is none (a unit
    outside the scope reads as unknown)."""
    if not name or not name.strip():
        return None
    unit_id = db.session.scalar(select(Unit.id).where(Unit.name == name.strip(),
                                                      scope.unit_clause(Unit.id, current_user)))
    if unit_id is None:
        raise ApiError(422, "unknown_unit", f"没有名为“{name.strip()}”的单位")
    return unit_id


def _flags_of(officer_ids: list[int], today: date) -> dict[int, list[str]]:
    """{officer id: flags in the report's order} for these officers: one statement."""
    out: dict[int, list[str]] = {i: [] for i in officer_ids}
    if not officer_ids:
        return out
    sub = compliance.flags_select(compliance.Params.from_settings(today))
    rows = db.session.execute(select(sub.c.officer_id, sub.c.flag).distinct()
                              .where(sub.c.officer_id.in_(officer_ids)))
    order = {f: i for i, f in enumerate(compliance.FLAG_ORDER)}
    for officer_id, flag in rows:
        out[officer_id].append(flag)
    for flags in out.values():
        flags.sort(key=order.__getitem__)
    return out


def _flags_of_one(officer_id: int, today: date) -> list[str]:
    """_flags_of for one officer: the engine's own one-officer form (Params.officer_id, filtered
    inside each flag's statement, as the officer page reads it) instead of every officer's flags
    filtered afterwards."""
    p = replace(compliance.Params.from_settings(today), officer_id=officer_id)
    sub = compliance.flags_select(p)
    if sub is None:
        return []
    found = set(db.session.scalars(select(sub.c.flag).distinct().where(sub.c.officer_id == officer_id)))
    return [f for f in compliance.FLAG_ORDER if f in found]


def _officer_columns():
    return (Officer.id, Officer.name, Unit.name.label("unit"), Officer.id_number,
            Officer.on_post.label("on_post"))


def _item(row, flags: list[str]) -> dict:
    return {"id": row.id, "name": row.name, "unit": row.unit, "id_number_masked": mask(row.id_number),
            "on_post": bool(row.on_post), "flags": flags}


@bp.route("/officers")
@bp.arguments(schemas.OfficersArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.OfficerPage)
@_errors(422)
def officers(unit=None, q=None, flag=None, page=1, per_page=schemas.DEFAULT_PER_PAGE):
    """执法人员列表（分页）

    unit 为单位名称时，返回该单位及其下级单位的人员（限于调用者的范围）；每页默认 50 条，最多 200 条。
    """
    per_page = min(per_page, schemas.MAX_PER_PAGE)
    today = clock.today()
    query = (select(*_officer_columns()).join(Unit, Unit.id == Officer.unit_id)
             .where(scope.officer_clause(current_user)))
    unit_id = _unit_id(unit)
    if unit_id is not None:
        query = query.where(scope.subtree_clause(Officer.unit_id, unit_id))
    if q and q.strip():
        query = query.where(or_(Officer.name.contains(q.strip(), autoescape=True),
                                Officer.id_number_search(q, partial=False)))
    if flag:
        query = query.where(Officer.id.in_(
            compliance.officer_ids_with_flag(compliance.Params.from_settings(today), flag)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin,
                                             Officer.name, Officer.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    flags = _flags_of([r.id for r in rows], today)
    return {"items": [_item(r, flags[r.id]) for r in rows], "total": total, "page": page, "per_page": per_page}


@bp.route("/officers/<int:officer_id>")
@bp.response(200, schemas.OfficerDetail)
@_errors(404)
@scope.per_row  # one officer's rows (app/scope.py PER_ROW)
def officer(officer_id: int):
    """一名执法人员及其证件"""
    row = db.session.execute(select(*_officer_columns()).join(Unit, Unit.id == Officer.unit_id)
                             .where(Officer.id == officer_id, scope.officer_clause(current_user))).first()
    if row is None:
        raise ApiError(404, "officer_not_found", "执法人员不存在")
    # the officer was found in the caller's scope: their certificates are too
    certs = db.session.scalars(select(Certificate).where(Certificate.officer_id == officer_id)
                               .order_by(Certificate.kind, Certificate.issued_on.desc(), Certificate.id.desc()))
    out = _item(row, _flags_of_one(row.id, clock.today()))
    out["certificates"] = [{"number": c.number, "kind": c.kind, "status": c.status, "issued_on": c.issued_on,
                            "expires_on": c.expires_on} for c in certs]
    return out


DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_day(value: str | None) -> date:
    if value is None or not value.strip():
        return clock.today()
    value = value.strip()
    try:
        if not DATE_RE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "invalid_date", f"日期“{value}”无效：应为真实存在的日期，格式 YYYY-MM-DD") from None


@bp.route("/certificates/<path:number>")
@bp.arguments(schemas.CertificateArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.CertificateState)
@_errors(400, 404)
def certificate(number: str, on: str | None = None):
    """某证号在某日的状态（立案时证件是否有效）

    与案件核查相同的按日期历史：当天最后一次状态变化之后的状态；状态为有效且在发证日与有效期之间才算有效。
    执法证与监督证证号相同时以执法证为准。
    """
    day = _parse_day(on)
    number = number.strip()
    cards = load_cards(Certificate.number == number, scope.certificate_clause(current_user))
    if not cards:
        raise ApiError(404, "certificate_not_found", f"证号“{number}”不存在")
    # the enforcement card wins a shared number; then the newest card
    card = min(cards.values(), key=lambda c: (c.kind != "enforcement", -c.issued_on.toordinal(), -c.id))
    state = card.state_on(day)
    unit = db.session.scalar(select(Unit.name).join(Officer, Officer.unit_id == Unit.id)
                             .where(Officer.id == card.officer_id, scope.officer_clause(current_user)))
    return {"number": card.number, "kind": card.kind,
            "officer": {"id": card.officer_id, "name": card.officer_name, "unit": unit},
            "state_on": "valid" if state == "effective" else state, "effective": state == "effective"}


@bp.route("/flags")
@bp.arguments(schemas.FlagsArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.Flag(many=True))
@_errors(422)
def flags(unit=None, flag=None):
    """问题提示（与 flask report flags --format json 相同的对象）"""
    unit = unit.strip() if unit else None
    if unit:
        _unit_id(unit)  # 422 unless the caller may see that unit
    p = compliance.Params.from_settings(clock.today())
    if flag:
        rows = compliance.list_flags(p, flags=[flag], unit=unit)
    else:
        rows = report_services.report_rows("flags", p, unit)
    visible = set(db.session.scalars(select(Unit.name).where(scope.unit_clause(Unit.id, current_user))))
    return [r for r in rows if r["unit"] in visible]
