"""Binds the API to the app: flask-smorest's Api (the OpenAPI document), the JSON errors, the
per-token rate limit, the CSRF exemption and the documentation pages (app/api/docs.py)."""

from __future__ import annotations

import flask_smorest
from flask import Flask

from app.api import applications, auth, bp, docs, errors, routes, schemas  # noqa: F401  (applications, routes: attach the views)
from app.extensions import config_limit, csrf, limiter


class Api(flask_smorest.Api):
    # The rest of the app keeps its own HTML error pages: the API blueprint answers its errors
    # itself (app/api/errors.py), and documents them with its own schema.
    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = schemas.Error

    def _register_error_handlers(self):
        pass


_prepared = False


def _prepare_blueprint() -> None:
    """Once per process: the views, error handlers and limits live on the module-level blueprint."""
    global _prepared
    if _prepared:
        return

    for code in errors.CODES:
        bp.register_error_handler(code, errors.handle)
    bp.register_error_handler(Exception, errors.handle)
    limiter.limit(config_limit("API_RATE_LIMIT"), key_func=auth.rate_key)(bp)
    csrf.exempt(bp)  # token requests only: app/api/auth.py checks CSRF for cookie writes
    _prepared = True


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "行政执法人员资格管理系统 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    _prepare_blueprint()
    api = Api(app, spec_kwargs={
        "info": {"description": "请求头 Authorization: Bearer <令牌>；令牌用 `flask users token 用户名` 生成。"},
        "security": [{"bearerAuth": []}],
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    app.register_blueprint(docs.bp)
    app.extensions["api_spec"] = api
