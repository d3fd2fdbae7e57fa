"""The database backup as a job kind (`/jobs/backup`): the same function as `flask backup`.

Other kinds are registered by the packages that own them, when they are imported: "request"
(app/jobs/services.py), "import" (app/imports/jobs.py), "reminders" (app/reminders/jobs.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask

from app import clock
from app.audit.services import record
from app.backup import BackupError, backup
from app.extensions import db
from app.jobs.services import JobFailed, register
from app.models.jobs import Job


def _backup(app: Flask, job: Job) -> tuple[bytes, str, str]:
    with tempfile.TemporaryDirectory(prefix="certmgr-backup-") as folder:
        out = Path(folder) / "db.backup"
        try:
            size = backup(out)
        except (BackupError, OSError) as exc:
            raise JobFailed(f"备份失败：{exc}") from None
        data = out.read_bytes()
    record("export", "database", None, f"备份数据库（{size:,} 字节）", actor=job.params.get("actor"),
           user_id=job.owner_id, ip=job.params.get("ip", ""))
    db.session.flush()
    return data, f"certmgr-{clock.today().isoformat()}.backup", "application/octet-stream"


register("backup", _backup)
