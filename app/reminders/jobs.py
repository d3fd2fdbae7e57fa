"""The "reminders" job kind: `/jobs/reminders` sends the due reminders in the worker, with the
same function as `flask reminders send`."""

from __future__ import annotations

from flask import Flask

from app import clock
from app.extensions import db
from app.jobs.services import JobFailed, register
from app.models.jobs import Job
from app.reminders.services import send_reminders


def _reminders(app: Flask, job: Job) -> str:
    result = send_reminders(clock.today(), app.config, commit=db.session.commit)
    if not result.ok and not result.sent:
        raise JobFailed("；".join([*result.errors, *result.warnings]) or "提醒发送失败")
    if not result.ok:
        return f"部分完成：{result.summary}；{'；'.join([*result.errors, *result.warnings])}"
    return f"提醒已完成：{result.summary}"


register("reminders", _reminders)
