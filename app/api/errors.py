"""Every error of /api/v1 as `{"error": "<code>", "message": "<中文>"}`."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app import uow
from app.errors import DomainError
from app.extensions import db

DEFAULTS = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "需要有效的 API 令牌（Authorization: Bearer <令牌>）"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持的请求方式"),
    422: ("invalid_parameter", "参数无效"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
    500: ("server_error", "服务器内部错误，请稍后重试或联系管理员"),
}
CODES = tuple(DEFAULTS)


class ApiError(HTTPException):
    """Raise with a status, an error code and a Chinese message."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.code = status
        self.error = error
        self.message = message


def json_error(status: int, error: str | None = None, message: str | None = None):
    default_error, default_message = DEFAULTS.get(status, ("error", "出错了"))
    resp = jsonify({"error": error or default_error, "message": message or default_message})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return resp


def _validation_message(exc: HTTPException) -> str:
    """webargs' 422 (query parameters that do not fit the schema), named field by field."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    parts = []
    for _location, fields in messages.items():
        for name, problems in (fields or {}).items():
            text = "；".join(str(p) for p in problems) if isinstance(problems, list) else str(problems)
            parts.append(f"{name}：{_cn(text)}")
    return "参数无效：" + "，".join(parts) if parts else DEFAULTS[422][1]


def _cn(text: str) -> str:
    known = {
        "Not a valid integer.": "应为整数",
        "Must be greater than or equal to 1.": "应不小于 1",
        "Must be one of:": "应为以下之一：",
    }
    for en, zh in known.items():
        text = text.replace(en, zh)
    return text


def handle(exc):
    if isinstance(exc, DomainError):  # a refusal from a handler or from the commit (app.uow)
        return uow.error_response(exc)
    if not isinstance(exc, HTTPException):  # an unexpected error: the request's work is undone
        current_app.logger.exception("API request failed: %s", exc)  # the traceback in the log, not the answer
        db.session.rollback()
        return json_error(500)
    status = exc.code or 500
    if status >= 500:
        db.session.rollback()
    if isinstance(exc, CSRFError):
        return json_error(400, "csrf_failed", "CSRF 校验失败：浏览器会话的写请求需要 X-CSRFToken 请求头")
    if isinstance(exc, ApiError):
        return json_error(status, exc.error, exc.message)
    if status == 422:
        return json_error(422, message=_validation_message(exc))
    return json_error(status)
