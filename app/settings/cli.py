"""`flask settings show|set` (docs/domain.md 命令行约定)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli_types import commit_or_exit
from app.settings.services import SPECS, SettingError, get_raw, set_value

settings_cli = AppGroup("settings", help="系统设置")


@settings_cli.command("show")
def settings_show() -> None:
    for name, spec in SPECS.items():
        click.echo(f"{name} = {get_raw(name)}    # {spec.label}")


@settings_cli.command("set")
@click.argument("name")
@click.argument("value")
def settings_set(name: str, value: str) -> None:
    with commit_or_exit(SettingError):
        set_value(name, value)
    click.echo(f"{name} = {get_raw(name)}")
