"""`flask demo seed` (the data itself is made by app.demo)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app import clock
from app.cli_types import DATE
from app.demo import seed as seed_data
from app.extensions import db
from app.models.officers import Officer
from app.uow import commit

demo_cli = AppGroup("demo", help="演示数据")


@demo_cli.command("seed")
@click.option("--officers", "count", type=click.IntRange(1, 100000), default=30, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--today", type=DATE, default=None)
@click.option("--if-empty", is_flag=True, help="只在数据库没有人员时生成")
def demo_seed(count: int, seed: int, today: date | None, if_empty: bool) -> None:
    """Realistic demo data: a street office with departments and 11 communities, some flags."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Officer)):
        click.echo("数据库中已有人员，未生成演示数据")
        return
    summary = seed_data(count=count, seed=seed, today=today or clock.today())
    commit()
    click.echo(summary)
