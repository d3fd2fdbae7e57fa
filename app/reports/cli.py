"""`flask report flags|unlicensed|expiring` (docs/domain.md 命令行约定).

Exit 0 on success, 2 on wrong usage (bad date, unknown unit, xlsx without --out, unwritable file).
`--format json` prints exactly the JSON array and nothing else.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import clock
from app.cli_types import DATE, FORMATS, emit
from app.extensions import db
from app.formatting import cn_date
from app.models.officers import Officer
from app.reports import forecast, services
from app.rules import compliance, flagstore
from app.uow import commit
from app.web import exports, files

report_cli = AppGroup("report", help="报表：问题提示、未持证上岗、证件即将到期")


def _report_options(fn):
    fn = click.option("--unit", default=None, help="只看该单位（单位名称）")(fn)
    fn = click.option("--within", type=click.IntRange(0, 3650), default=None,
                      help="到期提醒天数（默认：设置中最大的提醒窗口）")(fn)
    fn = click.option("--today", type=DATE, default=None, help="按该日期计算（默认今天）")(fn)
    fn = click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="写入文件（xlsx 必须指定）")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                      show_default=True, help="输出格式")(fn)
    return fn


def _unit(unit: str | None) -> str | None:
    """The --unit option: a unit's name (trimmed), refused with the names close to it."""
    unit = unit.strip() if unit else None
    if unit and not services.unit_exists(unit):
        close = services.similar_units(unit)
        hint = f"；相近的单位：{'、'.join(close)}" if close else ""
        raise click.BadParameter(f"没有名为“{unit}”的单位{hint}", param_hint="--unit")
    return unit


def _run(name: str, fmt: str, out: Path | None, today: date | None, within: int | None,
         unit: str | None) -> None:
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 需要用 --out 指定输出文件，例如 --out 问题提示.xlsx")
    unit = _unit(unit)
    today = today or clock.today()
    p = compliance.Params.from_settings(today, within)
    rows = services.report_rows(name, p, unit)

    if fmt == "json":
        data = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    elif fmt == "csv":
        data = exports.to_csv(rows, exports.FLAG_COLUMNS, bom=out is not None)
    elif fmt == "xlsx":
        data = services.render(rows, "xlsx", title=files.REPORT_TITLES[name])
    else:
        table = exports.to_table(rows, exports.FLAG_COLUMNS, right_align=["剩余天数"]) if rows else ""
        title = f"{files.REPORT_TITLES[name]}（{cn_date(today)}，共 {len(rows)} 条）"
        data = (f"{title}\n{table}\n" if rows else f"{title}\n没有问题\n").encode("utf-8")

    if not emit(data, out):
        return
    filters = {"today": today.isoformat(), "within": p.within, "unit": unit}
    files.record_export(name, fmt, len(rows), filters, target=str(out))
    commit()
    click.echo(f"已导出 {len(rows)} 条到 {out}")


def _command(name: str, help_text: str):
    @_report_options
    def cmd(fmt, out, today, within, unit):
        _run(name, fmt, out, today, within, unit)

    cmd.__doc__ = help_text
    return report_cli.command(name, help=help_text)(cmd)


_command("flags", "全部问题提示（每人每种问题一条）")
_command("unlicensed", "未持证上岗（UNLICENSED）")
_command("expiring", "证件即将到期（EXPIRING）")


@report_cli.command("forecast", help="持证力量预测：各单位今后几个月仍能执法的持证人数、何时不足两人、减少的人员")
@click.option("--today", type=DATE, default=None, help="按该日期计算（默认今天）")
@click.option("--months", default="3,6,12", show_default=True, help="预测的月数，逗号分隔")
@click.option("--unit", default=None, help="只看该单位（单位名称）")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table",
              show_default=True, help="输出格式")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入文件（xlsx 必须指定）")
def forecast_cmd(today, months, unit, fmt, out):
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 需要用 --out 指定输出文件，例如 --out 持证力量预测.xlsx")
    try:
        months = forecast.parse_months(months)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--months") from None
    unit = _unit(unit)
    today = today or clock.today()
    fc = forecast.compute(today, months, unit=unit)
    if fmt == "json":
        data = (json.dumps(fc.as_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    elif fmt == "xlsx":
        data = forecast.to_xlsx(fc)
    else:
        data = forecast.to_table(fc).encode("utf-8")
    if not emit(data, out):
        return
    files.record_export(services.FORECAST_TITLE, fmt, len(fc.units),
                           {"today": today.isoformat(), "months": ",".join(map(str, months)), "unit": unit},
                           target=str(out))
    commit()
    click.echo(f"已导出 {len(fc.units)} 个单位到 {out}")


@click.command("flags", help="核对问题提示存储表（flag_row）与按当日数据重新计算的结果")
@click.option("--fix", is_flag=True, help="发现不一致（或存储表不是今天的）时按今天重新计算并改正")
@with_appcontext
def check_flags(fix: bool) -> None:
    """Compare flag_row with the engine's flags for its day. Exit 0 when they agree (or nothing
    is stored); 1 with the differences listed otherwise (after --fix: rebuilt for today, exit 0)."""
    diffs = flagstore.differences(db.session)
    st = flagstore.state()
    if st.day is None:
        click.echo("问题提示存储表尚未建立（首次查看问题提示时按当天建立）。")
    elif not flagstore.current(st, st.day):
        click.echo(f"问题提示存储表是 {cn_date(st.day)} 的（或设置已改），下次查看时按今天重建。")
    if diffs:
        names = dict(db.session.execute(select(Officer.id, Officer.name).execution_options(scope_all=True)).all())
        click.echo(f"问题提示存储表有 {len(diffs)} 处与重新计算的结果不一致：")
        for what, (flag, reason, officer_id, unit_id, cert_id, expires_on), a, b in diffs[:200]:
            who = names.get(officer_id, f"人员#{officer_id}") if officer_id else f"单位#{unit_id}"
            click.echo(f"  {what}：{flag} {reason} {who} 证件#{cert_id or '-'}"
                       f"{' 到期 ' + cn_date(expires_on) if expires_on else ''}（表中 {a} 条，应为 {b} 条）")
        if len(diffs) > 200:
            click.echo(f"  ……另有 {len(diffs) - 200} 处")
    if fix:
        flagstore.rebuild(db.session)
        commit()
        click.echo(f"已按 {cn_date(clock.today())} 重新计算问题提示存储表。")
        return
    if diffs:
        raise SystemExit(1)
    click.echo("问题提示存储表与重新计算的结果一致。")


# added to the `check` group by app/cli.py
check_commands = [check_flags]
