"""`flask officers invite ID_NUMBER… [--format text|json]`: one-time activation codes.

The output holds whole ID numbers: it is for the administrator at the server (the web slip masks
them). Exit codes: 0 ok, 1 refused (an unknown or departed officer: nothing written), 2 usage."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cli_types import commit_or_exit
from app.errors import DomainError
from app.extensions import db
from app.me.accounts import invite
from app.models.officers import Officer

officers_cli = AppGroup("officers", help="执法人员账号")


@officers_cli.command("invite")
@click.argument("id_numbers", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def invite_cmd(id_numbers: tuple[str, ...], fmt: str) -> None:
    """为执法人员生成一次性激活码（身份证号<TAB>姓名<TAB>激活码）。"""
    wanted = [n.strip().upper() for n in id_numbers]
    with commit_or_exit(DomainError):
        found = {o.id_number: o for o in db.session.scalars(select(Officer).where(Officer.id_number.in_(wanted)))}
        missing = [n for n in wanted if n not in found]
        if missing:
            raise DomainError(f"没有这些身份证号的执法人员：{'、'.join(missing)}")
        slips = invite([found[n] for n in dict.fromkeys(wanted)])
    if fmt == "json":
        click.echo(json.dumps([{"id_number": o.id_number, "name": o.name, "code": code} for o, code in slips],
                              ensure_ascii=False))
    else:
        for o, code in slips:
            click.echo(f"{o.id_number}\t{o.name}\t{code}")
