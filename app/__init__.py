"""行政执法人员资格管理系统 — application factory."""

from __future__ import annotations

from flask import Flask

from app.config import Config, secret_key

BLUEPRINT_MODULES = [
    "main", "auth", "officers", "certificates", "reports", "audit_log", "settings", "reminders",
    "imports", "training", "exams", "reviews", "documents", "verify", "public", "cases", "online",
    "jobs", "me", "claims", "applications",
]


def create_app(config: type[Config] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_relative_config=False)
    from app.web.request import Request

    app.request_class = Request  # control characters out of every query/form/JSON value; deep JSON: 400
    app.config.from_object(config or Config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key_or_exit()
    register_jobs(app)  # first: the request timer starts before any other hook
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _secret_key_or_exit() -> str:
    """The web server (gunicorn) refuses to start without SECRET_KEY (RuntimeError); a `flask …`
    command says why in one line and exits 2 instead of printing a traceback."""
    import click

    ctx = click.get_current_context(silent=True)
    try:
        return secret_key(cli=ctx is not None)
    except RuntimeError as exc:
        if ctx is None:
            raise
        click.echo(f"错误：{exc}", err=True)
        raise SystemExit(2) from None


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model registered for Alembic)
    from app.auth.access import check_access
    from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate
    from app.rules import flagstore  # noqa: F401  (the stored flags: their reader and flush hook)

    # Access control runs before CSRF so anonymous users are sent to the login page and a
    # viewer's write is refused with 403 whatever the form holds.
    app.before_request(check_access)
    db.init_app(app)
    from app import uow

    uow.init_app(app)  # one commit after each request's handler; DomainError → the person's message
    from app import scope

    scope.install()  # every ORM statement sees only the signed-in user's subtree
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    from app.auth.sessions import load_user
    from app.models.auth import Anonymous

    login_manager.anonymous_user = Anonymous
    login_manager.user_loader(load_user)


def register_jobs(app: Flask) -> None:
    """Background jobs (huey) and one structured log line per request."""
    from app import logs
    from app.jobs import queue

    queue.init_app(app)
    logs.init_app(app)


def register_security(app: Flask) -> None:
    from app import security

    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Each module's blueprint lives in its __init__; importing its routes attaches the views."""
    import importlib

    for name in BLUEPRINT_MODULES:
        importlib.import_module(f"app.{name}.routes")
        app.register_blueprint(importlib.import_module(f"app.{name}").bp)
    from app.api import spec  # the token API: a flask-smorest blueprint with its OpenAPI document

    spec.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from app import labels
    from app.formatting import actor_label, cn_date, cn_datetime, days_text
    from app.web.lists import FILTER_BARS

    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["cn_datetime"] = cn_datetime
    app.jinja_env.filters["days_text"] = days_text
    app.jinja_env.filters["actor"] = actor_label
    app.jinja_env.globals["L"] = labels
    app.jinja_env.globals["filter_bars"] = FILTER_BARS

    @app.context_processor
    def inject_org():
        from app.settings.services import get

        try:
            return {"org_name": get("org_name")}
        except Exception:  # before the first migration
            return {"org_name": "示例街道办事处"}


def register_errorhandlers(app: Flask) -> None:
    from flask import render_template, request
    from flask_wtf.csrf import CSRFError
    from sqlalchemy.orm.exc import StaleDataError

    from app.extensions import db

    messages = {
        400: "请求无效",
        403: "没有权限执行此操作",
        404: "页面不存在",
        405: "不支持的请求方式",
        413: "上传的文件太大（最大20MB）",
        429: "请求过于频繁，请稍后再试",
        500: "服务器内部错误，请稍后重试或联系管理员",
    }

    def handle(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        if request.path.startswith("/api/v1/"):  # e.g. a URL no API view matches: JSON too
            from app.api.errors import json_error

            return json_error(code)
        return render_template("errors.html", code=code, message=messages.get(code, "出错了")), code

    for code in messages:
        app.register_error_handler(code, handle)

    @app.errorhandler(StaleDataError)
    def stale_data(error):
        """A simultaneous save outside commit_or_errors: the loser gets words, not a 500."""
        from app.web.tx import STALE_MESSAGE

        db.session.rollback()
        return render_template("errors.html", code=409, message=STALE_MESSAGE), 409

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors.html", code=400,
                               message="表单已过期或来源无效（CSRF 校验失败），请刷新页面后重试"), 400


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
