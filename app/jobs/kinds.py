"""Job kinds besides replaying a download route: a database backup and a reminders run.

Both call the same functions as their commands (`flask backup`, `flask reminders send`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask

from app import clock
from app.extensions import db
from app.jobs.services import JobFailed, register
from app.models.jobs import Job


def _backup(app: Flask, job: Job) -> tuple[bytes, str, str]:
    from app.audit.services import record
    from app.backup import BackupError, backup

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


def _reminders(app: Flask, job: Job) -> str:
    from app.reminders.services import send_reminders

    result = send_reminders(clock.today(), app.config, commit=db.session.commit)
    if not result.ok and not result.sent:
        raise JobFailed("；".join([*result.errors, *result.warnings]) or "提醒发送失败")
    if not result.ok:
        return f"部分完成：{result.summary}；{'；'.join([*result.errors, *result.warnings])}"
    return f"提醒已完成：{result.summary}"


register("backup", _backup)
register("reminders", _reminders)

import app.imports.jobs  # noqa: E402,F401  (registers the "import" kind: the worker never loads the route)
