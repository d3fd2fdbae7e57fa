"""The `flask` command groups (DESIGN §5). Each command parses, calls a service, commits."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app import clock
from app.extensions import db


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"“{value}”不是有效日期，应为 YYYY-MM-DD", param, ctx)


DATE = DateType()

users_cli = AppGroup("users", help="用户管理")
settings_cli = AppGroup("settings", help="系统设置")
demo_cli = AppGroup("demo", help="演示数据")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "clerk", "viewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@click.option("--name", "display_name", default="", help="显示名称")
def users_create(username: str, role: str, password_stdin: bool, display_name: str) -> None:
    """Create a user; prints the generated password unless --password-stdin."""
    from app.auth.services import UserError, create_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user, pw = create_user(username, role, password, display_name)
    except UserError as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"已创建用户 {user.username}（{role}）")
    if not password_stdin:
        click.echo(f"初始密码：{pw}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码（否则交互输入两次）")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password (e.g. a lost admin password); unlocks the account, ends its sessions."""
    from app.auth.services import UserError, reset_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    try:
        user = reset_password(username, password)
    except UserError as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"已重设用户 {user.username} 的密码，并已解锁、结束其所有登录会话")


@settings_cli.command("show")
def settings_show() -> None:
    from app.settings.services import SPECS, get_raw

    for name, spec in SPECS.items():
        click.echo(f"{name} = {get_raw(name)}    # {spec.label}")


@settings_cli.command("set")
@click.argument("name")
@click.argument("value")
def settings_set(name: str, value: str) -> None:
    from app.settings.services import SettingError, get_raw, set_value

    try:
        set_value(name, value)
    except SettingError as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{name} = {get_raw(name)}")


@demo_cli.command("seed")
@click.option("--officers", "count", type=click.IntRange(1, 100000), default=30, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--today", type=DATE, default=None)
@click.option("--if-empty", is_flag=True, help="只在数据库没有人员时生成")
def demo_seed(count: int, seed: int, today: date | None, if_empty: bool) -> None:
    """Realistic demo data: a street office with departments and 11 communities, some flags."""
    from sqlalchemy import func, select

    from app.demo import seed as seed_data
    from app.officers.models import Officer

    if if_empty and db.session.scalar(select(func.count()).select_from(Officer)):
        click.echo("数据库中已有人员，未生成演示数据")
        return
    summary = seed_data(count=count, seed=seed, today=today or clock.today())
    db.session.commit()
    click.echo(summary)


@click.command("bootstrap")
@with_appcontext
def bootstrap_cmd() -> None:
    """First run: create `admin` with a generated password when there are no users."""
    from app.auth.services import ensure_admin

    password = ensure_admin()
    db.session.commit()
    if password:
        click.echo("=" * 60)
        click.echo("已创建管理员账号：admin")
        click.echo(f"初始密码：{password}")
        click.echo("（只显示这一次，请登录后在“修改密码”中修改）")
        click.echo("=" * 60)


def register(app: Flask) -> None:
    """Add every command group. Modules that extend a group (training adds `import attendance|scores`
    and `report annual|training`) are imported for that side effect."""
    from app.cases import cli as _cases_cli  # noqa: F401  (adds `report cases`)
    from app.documents.cli import docs_cli
    from app.imports.cli import import_cli
    from app.jobs.cli import jobs_cli
    from app.online.cli import exams_cli
    from app.reminders.cli import reminders_cli
    from app.reports.cli import report_cli
    from app.training import cli as _training_cli  # noqa: F401
    from app.training import imports as _training_imports  # noqa: F401

    for group in (users_cli, settings_cli, demo_cli, import_cli, report_cli, reminders_cli, docs_cli,
                  exams_cli, jobs_cli):
        app.cli.add_command(group)
    app.cli.add_command(bootstrap_cmd)
    from app.backup import backup_cmd, restore_cmd

    app.cli.add_command(backup_cmd)
    app.cli.add_command(restore_cmd)
    app.cli.add_command(_training_cli.check_cli)  # flask check hours
