"""A job whose worker died is queued again (at most 3 attempts in all); files older than 24 hours
are deleted. (The same with a real worker killed by SIGKILL: tests/ops/test_serving.py.)"""

from __future__ import annotations

import socket
import subprocess
from datetime import timedelta

from sqlalchemy import select

from app.jobs import services
from app.models.jobs import Job
from app.models_base import utcnow
from tests.conftest import make_user
from tests.factories import CertificateFactory, OfficerFactory


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _running_job(db, owner_id: int, attempts: int) -> str:
    job = services.create("request", "持证人员名册", {"path": "/documents/roster.pdf", "args": []}, owner_id)
    job.state, job.attempts = "running", attempts
    job.worker = f"{socket.gethostname()}:{_dead_pid()}"
    job.started_at = job.heartbeat_at = utcnow()
    db.session.commit()
    return job.id


def test_a_job_of_a_dead_worker_is_run_again_and_finishes(app, db):
    uid = make_user(app, "alice", "viewer")
    CertificateFactory(officer=OfficerFactory(name="张伟"))
    job_id = _running_job(db, uid, attempts=1)

    assert services.recover(at_start=True) == 1
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == "done" and job.attempts == 2 and job.file.startswith(b"%PDF")
    assert job.filename.startswith("持证人员名册")


def test_after_three_attempts_the_job_fails_with_a_message(app, db):
    uid = make_user(app, "alice", "viewer")
    job_id = _running_job(db, uid, attempts=3)
    assert services.recover(at_start=True) == 0
    job = db.session.get(Job, job_id)
    assert job.state == "failed" and "已尝试 3 次" in job.message and job.file is None


def test_a_live_worker_with_a_fresh_heartbeat_is_left_alone(app, db):
    uid = make_user(app, "alice", "viewer")
    job = services.create("request", "x", {"path": "/documents/roster.pdf", "args": []}, uid)
    job.state, job.attempts, job.worker = "running", 1, "another-host:1"
    job.heartbeat_at = utcnow()
    db.session.commit()
    assert services.recover() == 0
    assert db.session.get(Job, job.id).state == "running"
    job.heartbeat_at = utcnow() - timedelta(minutes=services.STALE_MINUTES + 1)  # silent: dead
    db.session.commit()
    assert services.recover() == 1


def test_files_older_than_a_day_are_deleted(app, db, tmp_path):
    uid = make_user(app, "alice", "viewer")
    old = services.create("request", "old", {}, uid)
    old.state, old.file, old.created_at = "done", b"x", utcnow() - timedelta(hours=25)
    (tmp_path / "f").write_bytes(b"y")
    old2 = services.create("request", "old2", {}, uid)
    old2.state, old2.file_path, old2.created_at = "done", str(tmp_path / "f"), utcnow() - timedelta(hours=30)
    new = services.create("request", "new", {}, uid)
    new.state, new.file = "done", b"z"
    db.session.commit()
    assert services.cleanup() == 2
    assert list(db.session.scalars(select(Job.title))) == ["new"]
    assert not (tmp_path / "f").exists()
