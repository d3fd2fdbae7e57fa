"""`flask calendar set YEAR FILE` / `flask calendar show YEAR`: the working-day calendar of a year
the bundled calendar does not know (file format: app/applications/workdays.py, docs/domain.md)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.applications import workdays
from app.cli_types import commit_or_exit
from app.errors import DomainError

calendar_cli = AppGroup("calendar", help="工作日历：法定节假日与调休上班日（证件申请的办理期限）")


@calendar_cli.command("set")
@click.argument("year", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def set_cmd(year: int, file: str) -> None:
    """用 FILE 设置 YEAR 年的节假日与调休上班日（每行：2027-01-01 休 或 2027-02-07 班）。"""
    try:
        with open(file, encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        click.echo("错误：文件应为 UTF-8 文本", err=True)
        raise SystemExit(1) from None
    with commit_or_exit(DomainError):
        n = workdays.set_year(year, text)
    click.echo(f"已设置 {year} 年工作日历：{n} 天")


@calendar_cli.command("show")
@click.argument("year", type=int)
def show_cmd(year: int) -> None:
    """列出 YEAR 年录入的节假日与调休上班日。"""
    text = workdays.year_text(year)
    if text:
        click.echo(text)
    elif year in workdays.known_years():
        click.echo(f"{year} 年使用内置的国家法定节假日安排（未另行录入）")
    else:
        click.echo(f"{year} 年没有节假日安排：按周一至周五计算，办理期限标为“估算”")
