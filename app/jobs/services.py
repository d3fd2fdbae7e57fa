"""Background jobs: hand a request to the worker, run it there, keep its file for 24 hours.

How a job-backed route works: the route parses its arguments as always and, once it knows the
work is big (every PDF; an export with more rows than the setting `job_threshold_rows`), calls
`defer(title)`. That stores a Job (path + query string + owner), queues it on huey and answers
202 with a Location header to /jobs/<id>. The worker replays the same route for the same user
(`_replay`): the route's own code — the same service functions, the same audit row — produces the
file, and the worker stores it with state "done" in one transaction. Nothing of the document
logic is duplicated, and a route that became a job behaves exactly as it did inline.

Other kinds (imports, backups) register a handler with `register(kind, handler)`.

A worker killed mid-job leaves the row "running" with its host:pid; the next worker to start on
that host (or any worker, once the heartbeat is `STALE_MINUTES` old) queues it again, at most
`MAX_ATTEMPTS` attempts in all. Claiming a job is a conditional UPDATE, so a job queued twice
still runs once at a time.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlencode

from flask import Flask, current_app, g, make_response, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.jobs.queue import huey, task_app
from app.models.auth import User
from app.models.jobs import Job
from app.models_base import utcnow
from app.roles import ROLE_ORDER, min_role_for
from app.settings.services import get
from app.uow import commit

log = logging.getLogger("certmgr.jobs")

MAX_ATTEMPTS = 3
RETRY_DELAY = 5  # seconds before a failed attempt is tried again
STALE_MINUTES = 5  # a running job whose heartbeat is older than this is taken to be dead
HEARTBEAT_SECONDS = 30
KEEP_HOURS = 24


class JobFailed(Exception):
    """The job cannot succeed (bad parameters, no permission): no retry, the message is shown."""


# A handler returns (file bytes, filename, mime), or a message when the job makes no file.
Handler = Callable[[Flask, Job], "tuple[bytes, str, str] | str"]
HANDLERS: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """A job kind: handler(app, job) -> (file bytes, filename, mime) or a message; raise JobFailed
    to fail with a message (no retry). Imports register theirs here (kind "import")."""
    HANDLERS[kind] = handler


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the web side -----------------------------------------------------------------------------

def in_job() -> bool:
    """True while a worker replays a route (the route then does the work itself)."""
    return g.get("job") is not None


def active_count(owner_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.owner_id == owner_id, Job.state.in_(("queued", "running")))) or 0


def create(kind: str, title: str, params: dict, owner_id: int | None) -> Job:
    job = Job(id=secrets.token_urlsafe(16), owner_id=owner_id, kind=kind, title=title[:200],
              params=params, state="queued", progress=0.0, message="", attempts=0)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue(job_id: str, delay: int = 0) -> None:
    if delay and not huey.immediate:
        run_job.schedule((job_id,), delay=delay)
    else:
        run_job(job_id)


def defer(title: str, rows: int | None = None):
    """None: do the work now (inside a worker, or `rows` within the threshold). Otherwise the job
    is queued and this is the response to return: 202 + Location, or 429 past `jobs_per_user`."""
    if in_job():
        return None
    if rows is not None and rows <= get("job_threshold_rows"):
        return None
    return start("request", title, {"path": request.path,
                                    "args": [list(kv) for kv in request.args.items(multi=True)]})


def start(kind: str, title: str, params: dict):
    """Queue a job for the signed-in user and answer 202 + Location (429 past `jobs_per_user`)."""
    limit = get("jobs_per_user")
    if active_count(current_user.id) >= limit:
        message = f"您已有 {limit} 个文件正在生成，请等其中一个完成后再试"
        if wants_json():
            return {"error": message}, 429
        return render_template("errors.html", code=429, message=message), 429
    # base_url: the host and scheme the user reached (links and QR codes printed in the file)
    job = create(kind, title, {**params, "ip": request.remote_addr or "", "base_url": request.host_url},
                 current_user.id)
    commit()
    job_id = job.id
    try:
        enqueue(job_id)
    except Exception:  # the queue (Redis) is down: say so rather than leave a job nobody runs
        log.exception("job %s: not queued", job_id)
        db.session.rollback()
        _set(job_id, state="failed", message="后台任务队列暂时不可用，请稍后再试或联系管理员",
             finished_at=utcnow())
        return render_template("errors.html", code=503, message="后台任务队列暂时不可用，请稍后再试或联系管理员"), 503
    db.session.expire_all()  # immediate mode (tests) ran it in another session
    job = db.session.get(Job, job_id)
    resp = make_response(status_json(job) if wants_json() else
                         render_template("jobs/show.html", job=job, status=status_json(job)), 202)
    resp.headers["Location"] = url_for("jobs.show", job_id=job_id)
    return resp


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def status_json(job: Job) -> dict:
    return {
        "id": job.id, "title": job.title, "state": job.state,
        "progress": round(float(job.progress or 0), 3), "message": job.message or "",
        "download_url": (url_for("jobs.download", job_id=job.id)
                         if job.state == "done" and job.size is not None else None),
    }


def may_see(job: Job, user) -> bool:
    return bool(user and user.is_authenticated and (job.owner_id == user.id or user.role == "admin"))


def file_bytes(job: Job) -> bytes | None:
    if job.file_path:
        try:
            return Path(job.file_path).read_bytes()
        except OSError:
            return None
    return job.file


# --- the worker side --------------------------------------------------------------------------

def _files_dir() -> Path | None:
    folder = current_app.config.get("JOB_FILES_DIR")
    return Path(folder) if folder else None


def _set(job_id: str, **values) -> None:
    """Write progress outside the job's own transaction (it holds the audit row until the end)."""
    with db.engine.begin() as conn:
        conn.execute(update(Job.__table__).where(Job.__table__.c.id == job_id).values(**values))


@huey.task()
def run_job(job_id: str) -> None:
    """The huey task: run one job in the worker's app."""
    execute(task_app(), job_id)


def execute(app: Flask, job_id: str) -> None:
    """Claim, run and finish one job (called by the huey task)."""
    with app.app_context():
        try:
            _execute(app, job_id)
        finally:
            db.session.remove()


def _execute(app: Flask, job_id: str) -> None:
    now = utcnow()
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="running", worker=worker_id(), attempts=Job.attempts + 1, started_at=now,
                heartbeat_at=now, progress=0.0, message="")
        .execution_options(synchronize_session=False)).rowcount
    commit()
    if claimed != 1:
        return  # gone, already running elsewhere, or finished
    job = db.session.get(Job, job_id)
    handler = HANDLERS.get(job.kind)
    started = time.monotonic()
    last = [0.0]

    def hook(fraction: float) -> None:
        if time.monotonic() - last[0] >= 0.5:
            last[0] = time.monotonic()
            _set(job_id, progress=fraction, heartbeat_at=utcnow())

    # A heartbeat while the job runs, progress or not: recover() takes a silent job for dead.
    stop = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    _set(job_id, heartbeat_at=utcnow())
                except Exception:  # the database is away for a moment: try again next beat
                    log.warning("job %s: heartbeat not written", job_id)

    threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True).start()
    try:
        if handler is None:
            raise JobFailed(f"未知的任务类型“{job.kind}”")
        g.progress_hook = hook
        result = handler(app, job)
    except JobFailed as exc:
        db.session.rollback()
        _finish(job_id, "failed", message=str(exc), started=started)
        return
    except Exception as exc:  # a crash: try again, a few times
        db.session.rollback()
        log.exception("job %s attempt failed", job_id)
        attempts = db.session.scalar(select(Job.attempts).where(Job.id == job_id)) or MAX_ATTEMPTS
        if attempts >= MAX_ATTEMPTS:
            _finish(job_id, "failed", started=started,
                    message=f"生成失败（已尝试 {attempts} 次）：{type(exc).__name__}，请联系管理员")
        else:
            _set(job_id, state="queued", worker=None, message=f"第 {attempts} 次尝试出错，稍后自动重试")
            enqueue(job_id, delay=RETRY_DELAY)
        return
    finally:
        stop.set()
        g.pop("progress_hook", None)
    if isinstance(result, str):
        _finish(job_id, "done", message=result, started=started)
    else:
        data, filename, mime = result
        _finish(job_id, "done", data=data, filename=filename, mime=mime, started=started)


def _finish(job_id: str, state: str, *, started: float, message: str = "", data: bytes | None = None,
            filename: str | None = None, mime: str | None = None) -> None:
    """The file and the final state in one transaction: nobody ever sees "done" with half a file."""
    job = db.session.get(Job, job_id)
    if job is None:
        return
    if data is not None:
        folder = _files_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f"{job_id}.part"
            tmp.write_bytes(data)
            os.replace(tmp, folder / job_id)
            job.file_path = str(folder / job_id)
        else:
            job.file = data
        job.filename, job.mime, job.size = filename, mime, len(data)
    if state == "done":
        job.progress = 1.0
    job.state, job.message, job.finished_at, job.worker = state, message, utcnow(), None
    commit()
    log.info(json.dumps({"event": "job", "id": job_id, "kind": job.kind, "title": job.title,
                         "state": state, "attempt": job.attempts, "owner": job.owner_id,
                         "ms": round((time.monotonic() - started) * 1000)}, ensure_ascii=False))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(*, at_start: bool = False) -> int:
    """Queue again the jobs whose worker died: on this host, a worker pid that is gone; anywhere,
    a heartbeat older than STALE_MINUTES. Past MAX_ATTEMPTS they fail. Returns how many."""
    host = socket.gethostname()
    stale = utcnow() - timedelta(minutes=STALE_MINUTES)
    again: list[str] = []
    for job in db.session.scalars(select(Job).where(Job.state == "running")):
        w_host, _, w_pid = (job.worker or "").rpartition(":")
        dead = (w_host == host and w_pid.isdigit() and not _pid_alive(int(w_pid))
                and (at_start or int(w_pid) != os.getpid()))
        if not dead and (job.heartbeat_at or job.started_at or job.created_at) > stale:
            continue
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.finished_at, job.worker = "failed", utcnow(), None
            job.message = f"生成中断（已尝试 {job.attempts} 次），请重新生成或联系管理员"
        else:
            job.state, job.worker = "queued", None
            job.message = "上次生成被中断，正在重新生成"
            again.append(job.id)
    # queued long ago and never started (its queue message was lost): queue it again
    for job_id in db.session.scalars(select(Job.id).where(Job.state == "queued", Job.created_at < stale)):
        again.append(job_id)
    commit()
    for job_id in again:
        enqueue(job_id)
    return len(again)


# periodic upkeep other packages add (the flag store's rebuild after midnight): run by `maintain`
MAINTENANCE: list[Callable[[], None]] = []


def register_maintenance(task: Callable[[], None]) -> None:
    """`task()` runs every minute in the worker's `maintain`, in an app context (it commits itself)."""
    if task not in MAINTENANCE:
        MAINTENANCE.append(task)


def cleanup(now=None) -> int:
    """Delete jobs (and their files) older than KEEP_HOURS; returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=KEEP_HOURS)
    old = db.session.execute(select(Job.id, Job.file_path).where(
        Job.created_at < cutoff, Job.state.in_(("done", "failed")))).all()
    for _id, path in old:
        if path:
            Path(path).unlink(missing_ok=True)
    if old:
        db.session.execute(delete(Job).where(Job.id.in_([r.id for r in old])))
    commit()
    return len(old)


# --- the built-in kind: replay a GET route for its owner ----------------------------------------

def _filename(disposition: str) -> str:
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename*" and value.lower().startswith("utf-8''"):
            return unquote(value[7:])
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename":
            return value.strip('"')
    return "download"


@contextmanager
def as_owner(app: Flask, job: Job, path: str | None = None):
    """A request context in the worker, signed in as the job's owner, from the address and host
    they used: audit rows name them, and what depends on the request (QR links) is as it was."""
    owner = db.session.get(User, job.owner_id) if job.owner_id else None
    if owner is None or not owner.is_active:
        raise JobFailed("发起该任务的用户已不存在或已停用")
    p = job.params or {}
    with app.test_request_context(path or p.get("path", "/"), base_url=p.get("base_url") or None,
                                  query_string=urlencode([tuple(kv) for kv in p.get("args") or []]),
                                  environ_base={"REMOTE_ADDR": p.get("ip", "")}):
        login_user(owner)
        g.job = job
        yield owner


def _replay(app: Flask, job: Job) -> tuple[bytes, str, str]:
    with as_owner(app, job) as owner:
        if request.endpoint is None:
            raise JobFailed("任务地址无效")
        if ROLE_ORDER.get(owner.role, -1) < ROLE_ORDER[min_role_for(request.endpoint, "GET")]:
            raise JobFailed("没有权限生成该文件")
        rv = app.view_functions[request.endpoint](**(request.view_args or {}))
        resp = app.make_response(rv)
        disposition = resp.headers.get("Content-Disposition", "")
        if resp.status_code == 200 and disposition.startswith("attachment"):
            resp.direct_passthrough = False
            return resp.get_data(), _filename(disposition), resp.mimetype
        flashed = [m for _c, m in session.get("_flashes", [])]
        raise JobFailed("；".join(flashed) or f"生成失败（{resp.status_code}）")


register("request", _replay)
