"""The huey instance: SQLite storage in instance/ by default (embedded, nothing to run), Redis when
REDIS_URL is set (shared by several app servers and workers).

Huey binds tasks to an instance when they are declared, so the instance is made at import from
the environment; `init_app` only switches it to immediate mode (tests: JOBS_IMMEDIATE).

The worker (`flask jobs worker`, an entry point) hands the app its tasks run in to `set_app`; in
immediate mode (tests) they run in the app of the request that queued them.
"""

from __future__ import annotations

import os

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey

from app.config import INSTANCE_DIR


def _make():
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return RedisHuey("certmgr", url=url, results=False)
    path = os.environ.get("HUEY_SQLITE_PATH", "").strip()
    if not path:
        INSTANCE_DIR.mkdir(exist_ok=True)
        path = str(INSTANCE_DIR / "jobs.db")
    return SqliteHuey("certmgr", filename=path, results=False)


huey = _make()
_app: Flask | None = None


def set_app(app: Flask) -> None:
    global _app
    _app = app


def task_app() -> Flask:
    """The app a task runs in: the worker's, else the current one (immediate mode)."""
    if _app is not None:
        return _app
    if has_app_context():
        return current_app._get_current_object()
    raise RuntimeError("后台任务只在 `flask jobs worker` 中运行（它设定任务所用的应用）")


def init_app(app) -> None:
    if app.config.get("JOBS_IMMEDIATE"):
        huey.immediate = True


def ping() -> None:
    """Raise when the queue's storage cannot be reached (for /healthz)."""
    if huey.immediate:
        return
    storage = huey.storage
    if hasattr(storage, "conn") and hasattr(storage.conn, "ping"):
        storage.conn.ping()
    else:
        storage.queue_size()
