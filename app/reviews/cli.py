"""`flask check reviews [--fix]`: the stored year's review certificates (review_year) against a fresh
computation from the cards' history (rules/review_years.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.rules import review_years
from app.uow import commit


@click.command("reviews", help="核对年审证件表（review_year）与按证件历史重新计算的结果")
@click.option("--fix", is_flag=True, help="发现不一致时按重新计算的结果改正")
@with_appcontext
def check_reviews(fix: bool) -> None:
    """Exit 0 when the table agrees with the history; 1 with the differences otherwise (after
    --fix: rewritten, exit 0)."""
    diffs = review_years.differences(db.session)
    if not diffs:
        click.echo("年审证件表与证件历史一致。")
        return
    click.echo(f"年审证件表有 {len(diffs)} 处与证件历史不一致：")
    for year, cid, stored, now in diffs[:50]:
        def where(unit: int | None) -> str:
            return "无" if unit is None else f"单位 {unit}"
        click.echo(f"  {year}年 证件 {cid}：表中为 {where(stored)}，应为 {where(now)}")
    if len(diffs) > 50:
        click.echo(f"  ……另有 {len(diffs) - 50} 处")
    if fix:
        review_years.refresh(db.session, everything=True)
        commit()
        click.echo("已按证件历史重新计算并改正。")
        return
    raise SystemExit(1)


# added to the `check` group by app/cli.py
check_commands = [check_reviews]
