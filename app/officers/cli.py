"""`flask units …` — the unit tree's settings that belong to a unit."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cli_types import commit_or_exit
from app.errors import DomainError
from app.extensions import db
from app.models.officers import Unit
from app.officers.services import save_unit

units_cli = AppGroup("units", help="单位")


@units_cli.command("set-recipients",
                   help="设置单位的证件到期提醒接收人（电子邮件地址，用逗号分隔；传空字符串 \"\" 则清除，"
                        "改由上级单位的接收人接收）。本单位及下级单位人员的提醒发给他们。")
@click.argument("name")
@click.argument("emails")
def set_recipients(name: str, emails: str) -> None:
    with commit_or_exit(DomainError):
        unit = db.session.scalar(select(Unit).where(Unit.name == name.strip()))
        if unit is None:
            raise DomainError(f"没有名为“{name}”的单位")
        save_unit(unit, name=unit.name, kind=unit.kind, parent_id=unit.parent_id, sort_order=unit.sort_order,
                  reminder_recipients=emails)
        shown = unit.reminder_recipients or "（无，改由上级单位的接收人接收）"
    click.echo(f"单位“{unit.name}”的提醒接收人：{shown}")
