"""/api/v1/applications: the applications workflow (docs/domain.md, 申请审批) for programs.

Scoped and authorised like the web pages: GET needs a viewer, writes a clerk; who decides a step is
the workflow's rule (app/applications/services.py). Refusals answer `{"error", "message"}`.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from flask import request
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app import clock, scope
from app.api import bp
from app.api.errors import ApiError
from app.applications import services
from app.applications.lists import application_filters
from app.errors import StaleEdit
from app.extensions import db
from app.labels import APPLICATION_STATES
from app.models.applications import Application
from app.models.officers import Officer, Unit
from app.uow import CommitConflict, commit
from app.web.args import PAGE_MAX

MAX_PER_PAGE = 200


class HistoryEntry(Schema):
    step = fields.String()
    decision = fields.String()
    by = fields.String()
    at = fields.String()
    reason = fields.String()


class ApplicationOut(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String(metadata={"enum": ["new", "renew", "replace", "cancel"]})
    state = fields.String(metadata={"enum": list(APPLICATION_STATES)})
    officer = fields.Dict()
    submitted_on = fields.String()
    step = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    due_estimated = fields.Boolean()
    overdue = fields.Boolean()
    certificate_number = fields.String(allow_none=True)
    reason = fields.String()
    history = fields.List(fields.Nested(HistoryEntry))


class ApplicationPage(Schema):
    items = fields.List(fields.Nested(ApplicationOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "请求体应为 JSON 对象")
    return data


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise ApiError(400, "bad_request", f"{name} 应为字符串")
    return str(value)


def _date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ApiError(400, "invalid_date", f"{name}“{value}”无效：应为真实存在的日期，格式 YYYY-MM-DD") from None


@contextmanager
def _committed():
    """Commit what the block did; a workflow refusal rolls back and answers its status."""
    try:
        yield
        commit()
    except services.WorkflowError as exc:
        db.session.rollback()
        raise ApiError(exc.status, exc.code, str(exc)) from None
    except (StaleDataError, StaleEdit):
        db.session.rollback()
        raise ApiError(409, "stale", "申请已被他人同时办理，请重新读取后再试") from None
    except CommitConflict as exc:  # a unique race at commit (app.uow)
        raise ApiError(409, "conflict", str(exc)) from None
    except services.DomainError as exc:
        db.session.rollback()
        raise ApiError(422, "invalid", str(exc)) from None


def _get(application_id: int) -> Application:
    app = db.session.get(Application, application_id)  # scoped: another branch's reads as missing
    if app is None:
        raise ApiError(404, "application_not_found", "申请不存在")
    return app


@bp.route("/applications", methods=["POST"])
@bp.response(201, ApplicationOut)
def application_create():
    """提交申请（申领 new、换证 renew、补证 replace、注销 cancel）

    请求体：{"kind", "id_number", "reason", "submitted_on"（收件日期，可省略，默认今天）}。
    不符合条件时 422，error 为 not_active、ineligible、duplicate 或 no_card；身份证号不存在或不在范围内时 404。
    """
    data = _body()
    kind = _text(data, "kind").strip()
    id_number = _text(data, "id_number").strip().upper()
    if not id_number:
        raise ApiError(400, "bad_request", "请提供 id_number（身份证号）")
    submitted_on = _date(data.get("submitted_on"), "submitted_on")
    officer = db.session.scalar(select(Officer).where(Officer.id_number == id_number))
    if officer is None:
        raise ApiError(404, "officer_not_found", "没有这个身份证号的执法人员（或不在您的管辖范围内）")
    with _committed():
        app = services.submit(officer, kind, reason=_text(data, "reason"), submitted_on=submitted_on,
                              user=current_user)
    return services.as_json(app), 201


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@bp.response(200, ApplicationOut)
def application_decision(application_id: int):
    """审批当前环节：approve（同意）、return（退回补正，须写理由）、reject（不予批准，须写理由）

    制证发证环节同意时可带 certificate_number（设置了编号规则时可省略）、issued_on、expires_on、handed_to。
    已办结或不予批准的申请 409；不是您办理的环节或本人提交的申请 403。
    """
    app = _get(application_id)
    data = _body()
    card = {k: data.get(k) for k in ("certificate_number", "issued_on", "expires_on", "handed_to",
                                     "issuing_authority", "cancelled_on")}
    with _committed():
        services.decide(app, current_user, _text(data, "decision").strip(), reason=_text(data, "reason"), card=card)
    return services.as_json(app)


@bp.route("/applications/<int:application_id>/resubmit", methods=["POST"])
@bp.response(200, ApplicationOut)
def application_resubmit(application_id: int):
    """补正后重新提交（仅提交申请的单位；不是退回补正状态时 409）"""
    app = _get(application_id)
    with _committed():
        services.resubmit(app, current_user, _text(_body(), "note"))
    return services.as_json(app)


@bp.route("/applications/<int:application_id>")
@bp.response(200, ApplicationOut)
def application_detail(application_id: int):
    """一份申请及其办理记录"""
    return services.as_json(_get(application_id))


def _int_arg(name: str, default: int) -> int:
    """A positive integer argument, at most PAGE_MAX (as the other lists' `page`): anything else is a
    422 saying so, never a 500 (a page past any integer column would overflow the OFFSET)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:30]) <= PAGE_MAX:
        raise ApiError(422, "invalid_parameter", f"参数无效：{name} 应为 1 至 {PAGE_MAX} 的整数")
    return int(raw)


@bp.route("/applications")
@bp.response(200, ApplicationPage)
def application_list():
    """申请列表（分页）：state、kind、overdue=1、unit（单位名称，含下级单位）、q（姓名或申请编号）"""
    args = dict(request.args)
    state = args.get("state", "")
    if state and state not in APPLICATION_STATES:
        raise ApiError(422, "invalid_parameter", f"参数无效：state 应为以下之一：{', '.join(APPLICATION_STATES)}")
    unit = (args.pop("unit", "") or "").strip()
    if unit:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.name == unit, scope.unit_clause(Unit.id, current_user)))
        if unit_id is None:
            raise ApiError(422, "unknown_unit", f"没有名为“{unit}”的单位")
        args["unit"] = str(unit_id)
    page = _int_arg("page", 1)
    per_page = min(_int_arg("per_page", 50), MAX_PER_PAGE)
    today = clock.today()
    f = application_filters(args, today)
    total = db.session.scalar(select(func.count()).select_from(f.stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(f.stmt.order_by(Application.submitted_on.desc(), Application.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [services.as_json(r.Application, today) for r in rows], "total": total, "page": page,
            "per_page": per_page}
