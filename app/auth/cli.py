"""`flask users create|set-password` and `flask bootstrap` (docs/domain.md 命令行约定)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from app.auth.services import (
    UserError,
    create_user,
    ensure_admin,
    reset_password,
    set_unit,
    unit_named,
)
from app.cli_types import commit_or_exit
from app.extensions import db
from app.models.auth import User
from app.uow import commit

users_cli = AppGroup("users", help="用户管理")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "clerk", "viewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@click.option("--name", "display_name", default="", help="显示名称")
@click.option("--unit", "unit_name", default=None, help="所属单位名称：只管理该单位及其下级单位（缺省：全部单位）")
def users_create(username: str, role: str, password_stdin: bool, display_name: str, unit_name: str | None) -> None:
    """Create a user; prints the generated password unless --password-stdin."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with commit_or_exit(UserError):
        unit = unit_named(unit_name) if unit_name is not None else None
        user, pw = create_user(username, role, password, display_name, unit_id=unit.id if unit else None)
    click.echo(f"已创建用户 {user.username}（{role}，{unit.name if unit else '全部单位'}）")
    if not password_stdin:
        click.echo(f"初始密码：{pw}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码（否则交互输入两次）")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password (e.g. a lost admin password); unlocks the account, ends its sessions."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    with commit_or_exit(UserError):
        user = reset_password(username, password)
    click.echo(f"已重设用户 {user.username} 的密码，并已解锁、结束其所有登录会话")


@users_cli.command("set-unit")
@click.argument("username")
@click.argument("unit_name", required=False)
@click.option("--all", "whole", is_flag=True, help="管理全部单位（不限于某一单位）")
def users_set_unit(username: str, unit_name: str | None, whole: bool) -> None:
    """Limit a user to a unit and its subunits (UNIT_NAME), or give the whole organisation (--all)."""

    if whole == (unit_name is not None):
        raise click.UsageError("请给出单位名称，或用 --all 表示全部单位（二者选一）")
    with commit_or_exit(UserError):
        user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
        if user is None:
            raise UserError(f"没有用户“{username}”")
        unit = unit_named(unit_name) if unit_name is not None else None
        set_unit(user, unit.id if unit else None)
    click.echo(f"用户 {user.username} 的管辖范围：{unit.name if unit else '全部单位'}")


@click.command("bootstrap")
@with_appcontext
def bootstrap_cmd() -> None:
    """First run: create `admin` with a generated password when there are no users."""
    password = ensure_admin()
    commit()
    if password:
        click.echo("=" * 60)
        click.echo("已创建管理员账号：admin")
        click.echo(f"初始密码：{password}")
        click.echo("（只显示这一次，请登录后在“修改密码”中修改）")
        click.echo("=" * 60)
