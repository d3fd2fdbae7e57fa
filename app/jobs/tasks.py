"""The huey tasks. The worker (`flask jobs worker`) sets the app they run in; in immediate mode
(tests) they run in the app of the request that queued them."""

from __future__ import annotations

from flask import Flask, current_app, has_app_context
from huey import crontab

from app.jobs.queue import huey

_app: Flask | None = None


def set_app(app: Flask) -> None:
    global _app
    _app = app


def app() -> Flask:
    if _app is not None:
        return _app
    if has_app_context():
        return current_app._get_current_object()
    from app import create_app

    set_app(create_app())
    return _app  # type: ignore[return-value]


@huey.task()
def run_job(job_id: str) -> None:
    from app.jobs.services import execute

    execute(app(), job_id)


@huey.periodic_task(crontab(minute="*"))
def maintain() -> None:
    """Every minute: requeue jobs whose worker died, delete files older than 24 hours."""
    from app.extensions import db
    from app.jobs.services import cleanup, recover

    with app().app_context():
        try:
            recover()
            cleanup()
        finally:
            db.session.remove()
