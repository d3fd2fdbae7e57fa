"""`flask users token NAME [--label TEXT]` and `flask users revoke-token NAME LABEL`
(added to the `users` group by app/cli.py). Exit 1 when refused, nothing written."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.auth.tokens import active_by_label, create_token, revoke
from app.cli_types import commit_or_exit
from app.errors import DomainError
from app.extensions import db
from app.models.auth import User


def _user_or_exit(username: str):
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        click.echo(f"错误：没有用户 {username}", err=True)
        raise SystemExit(1)
    return user


@click.command("token")
@click.argument("username")
@click.option("--label", default="", help="令牌名称（例如调用它的系统），同一用户的有效令牌不重名")
@with_appcontext
def token_cmd(username: str, label: str) -> None:
    """Issue an API token for USERNAME; it is printed once, alone on the last line."""
    user = _user_or_exit(username)
    if not user.is_active:
        click.echo(f"错误：用户 {user.username} 已停用", err=True)
        raise SystemExit(1)
    with commit_or_exit(DomainError):
        row, token = create_token(user, label)
    click.echo(f"已为用户 {user.username}（{user.role}）生成 API 令牌“{row.label}”。令牌只显示这一次，请妥善保存：")
    click.echo(token)


@click.command("revoke-token")
@click.argument("username")
@click.argument("label")
@with_appcontext
def revoke_token_cmd(username: str, label: str) -> None:
    """Revoke USERNAME's active token called LABEL."""
    user = _user_or_exit(username)
    row = active_by_label(user, label)
    if row is None:
        click.echo(f"错误：用户 {user.username} 没有名为“{label}”的有效令牌", err=True)
        raise SystemExit(1)
    with commit_or_exit(DomainError):
        revoke(row)
    click.echo(f"已撤销用户 {user.username} 的 API 令牌“{row.label}”")


token_commands = (token_cmd, revoke_token_cmd)
