"""/jobs/<id> (status: JSON or a page with a progress bar), its download, and /healthz."""

from __future__ import annotations

import io

from flask import abort, jsonify, render_template, send_file
from flask_login import current_user
from sqlalchemy import select, text

from app.extensions import db
from app.jobs import bp, kinds, queue, services  # noqa: F401  (kinds registers the backup job)
from app.models.jobs import Job
from app.roles import require_role


def _job(job_id: str) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not services.may_see(job, current_user):
        abort(403)
    return job


@bp.route("/jobs/<job_id>")
def show(job_id: str):
    job = _job(job_id)
    status = services.status_json(job)
    if services.wants_json():
        return jsonify(status)
    return render_template("jobs/show.html", job=job, status=status)


@bp.route("/jobs/<job_id>/download")
def download(job_id: str):
    job = _job(job_id)
    data = services.file_bytes(job) if job.state == "done" else None
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=job.mime or "application/octet-stream",
                     as_attachment=True, download_name=job.filename or "download")


@bp.route("/jobs")
def index():
    """The signed-in user's files of the last 24 hours."""
    jobs = db.session.scalars(select(Job).where(Job.owner_id == current_user.id)
                              .order_by(Job.created_at.desc()).limit(50)).all()
    return render_template("jobs/index.html", jobs=jobs)


@bp.route("/healthz")
def healthz():
    """For the reverse proxy and monitoring: 200 when the database and the queue answer."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not healthy", never a 500
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        queue.ping()
        checks["queue"] = "ok"
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "error", **checks}), 200 if ok else 503


@bp.route("/jobs/backup", methods=["POST"])
@require_role("admin")
def backup():
    """Back up the whole database in the worker; the file is then downloadable (admins)."""
    return services.start("backup", "数据库备份", {"actor": current_user.username})


@bp.route("/jobs/reminders", methods=["POST"])
@require_role("admin")
def send_reminders():
    """Send the due expiry reminders now (what the daily timer does), in the worker."""
    return services.start("reminders", "发送证件到期提醒", {})
