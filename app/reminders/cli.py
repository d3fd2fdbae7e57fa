"""`flask reminders send` — for cron or a systemd timer (see the README)."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.cli_types import DATE
from app.extensions import db
from app.reminders import services

reminders_cli = AppGroup("reminders", help="证件到期提醒")


CRON_HELP = """\b
定时运行（每天一次即可；同一天重复运行不会重复发送；同时启动的多个运行由数据库锁排队，
不需要 flock）：
  cron:    15 7 * * * cd /srv/certmgr && \\
             .venv/bin/flask --app app reminders send >> instance/reminders.log 2>&1
  systemd: certmgr-reminders.service (Type=oneshot, ExecStart=…/.venv/bin/flask --app app
           reminders send) + certmgr-reminders.timer (OnCalendar=*-*-* 07:15, Persistent=true)
SMTP_HOST / SMTP_PORT / SMTP_USER / SMTP_PASSWORD / MAIL_FROM 取自环境变量；
收件人和群机器人地址在“系统设置”中（reminder_recipients、webhook_url）。"""


@reminders_cli.command("send", epilog=CRON_HELP)
@click.option("--today", type=DATE, default=None, help="按这一天计算（默认今天）")
@click.option("--dry-run", is_flag=True, help="只显示将要发送的内容，不发送、不记录")
def send(today: date | None, dry_run: bool) -> None:
    """发送证件到期提醒：每个证件在每个提醒窗口只发一次（邮件 + 群机器人）。

    Each certificate is reminded once per window, by e-mail and to the group robot.

    Exit 0 when everything due was delivered (or nothing was due); 1 when a channel failed —
    nothing of that channel is marked as sent, so the next run delivers it.
    """
    today = today or clock.today()
    if dry_run:
        plan = services.plan(today, current_app.config)
        text = services.dry_run_text(plan)
        if text:
            click.echo(text)
            click.echo("")
        click.echo(f"演练（未发送、未记录）：{services.summarize(plan.outgoing)}")
        db.session.rollback()
        return
    result = services.send_reminders(today, current_app.config, commit=db.session.commit)
    for note in result.skipped:
        click.echo(f"（{note}）")
    if result.ok:
        click.echo(f"提醒已完成：{result.summary}")
        return
    if result.sent:
        click.echo(f"部分完成：{result.summary}")
    problems = []
    if result.errors:
        problems.append(f"{'；'.join(result.errors)}（未标记为已发送，下次运行会再次发送）")
    problems.extend(result.warnings)
    click.echo(f"错误：{'；'.join(problems)}", err=True)
    sys.exit(1)
