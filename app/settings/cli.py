"""`flask settings show|set` (DESIGN §5)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.extensions import db

settings_cli = AppGroup("settings", help="系统设置")


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
