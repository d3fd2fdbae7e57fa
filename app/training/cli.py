"""`flask report annual --year Y` and `flask report training --year Y` (docs/domain.md 年度统计与年度报告), added to the
`report` group by app/cli.py (``report_commands``). json prints exactly the data; table and xlsx reuse
app.web.exports."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import clock
from app.cli_types import DATE, commit_or_exit
from app.errors import DomainError
from app.extensions import db
from app.labels import TRAINING_CATEGORIES
from app.models.officers import Officer
from app.rules.hours import hours_differences, refresh_hours
from app.rules.training import all_rules, describe, rule_for, set_rule
from app.settings.services import get
from app.training import memo
from app.training.annual_docx import annual_docx
from app.training.stats import annual_stats, training_report
from app.web import exports

C = exports.Column

ANNUAL_LABELS = [
    ("training", "sessions", "培训次数"), ("training", "participants", "参训人数"),
    ("training", "person_times", "参训人次"), ("training", "hours", "认定学时（人·学时）"),
    ("exams", "held", "考试场次"), ("exams", "takers", "参考人数"), ("exams", "passed", "合格人数"),
    ("exams", "pass_rate", "合格率"),
    ("certificates", "effective_at_year_end", "年末持有效执法证人数"), ("certificates", "issued", "发证"),
    ("certificates", "suspended", "暂扣"), ("certificates", "cancelled", "注销"),
    ("certificates", "revoked", "吊销"),
    ("officers", "on_post_at_year_end", "年末执法岗位在职人数"), ("officers", "training_shortfall", "学时不足人数"),
    ("rule", "judged", "应参加学时考核人数"), ("rule", "meets", "达到年度学时要求人数"),
    ("rule", "meets_rate", "学时达标率"),
    ("reviews", "total", "年审人次"), ("reviews", "passed", "年审通过"), ("reviews", "failed", "年审不通过"),
    ("cases", "total", "行政处罚案件数"), ("cases", "ok", "执法人员资格符合的案件"),
    ("cases", "not_ok", "执法人员资格不符合的案件"),
    ("units", "below_two", "年末持证不足两人的单位数"),
]
ANNUAL_COLUMNS = [C("项目", lambda r: r["label"], 24), C("数值", lambda r: r["value"], 12)]
TRAINING_COLUMNS = [
    C("单位", lambda r: r["unit"], 20), C("姓名", lambda r: r["name"], 10),
    C("认定学时", lambda r: r["hours"], 10), C("要求学时", lambda r: r["required"], 10),
    C("差额", lambda r: r["shortfall"], 8),
    C("是否达标", lambda r: "不考核" if not r["judged"] else "否" if r["shortfall"] else "是", 8),
]


def annual_rows(stats: dict) -> list[dict]:
    rows = [{"label": label, "value": stats[group][key]} for group, key, label in ANNUAL_LABELS]
    rows[4:4] = [{"label": f"  {TRAINING_CATEGORIES.get(c, c)}（次）", "value": n}
                 for c, n in stats["training"]["by_category"].items()]
    return rows


def _emit(data: bytes, out: Path | None, what: str) -> None:
    if out is None:
        click.echo(data, nl=False)  # bytes: written as-is (UTF-8)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.UsageError(f"无法写入文件 {out}：{exc.strerror or exc}") from None
    click.echo(f"已导出{what}到 {out}")


def _year_options(fn, formats=("json", "table", "xlsx")):
    fn = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="写入文件（xlsx、docx 必须指定）")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(list(formats)), default="table",
                      show_default=True)(fn)
    return click.option("--year", type=click.IntRange(1900, 2999), default=None,
                        help="年度（默认今年）")(fn)


@click.command("annual")
@with_appcontext
def annual_cmd(year: int | None, fmt: str, out: Path | None) -> None:
    """年度统计：培训、考试、证件、人员（docx：含文字说明和统计表的 Word 报告）"""
    if fmt in ("xlsx", "docx") and out is None:
        raise click.UsageError(f"--format {fmt} 需要用 --out 指定输出文件，例如 --out 年度统计.{fmt}")
    year = year or clock.today().year
    stats = annual_stats(year)
    if fmt == "docx":
        data = annual_docx(stats, get("org_name"), clock.today())
    elif fmt == "json":
        data = (json.dumps(stats, ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "xlsx":
        data = exports.to_xlsx(annual_rows(stats), ANNUAL_COLUMNS, sheet=f"{year}年度统计",
                               title=f"{year}年度统计")
    else:
        data = (f"{year}年度统计\n" + exports.to_table(annual_rows(stats), ANNUAL_COLUMNS,
                                                     right_align=["数值"]) + "\n").encode()
    _emit(data, out, f"{year}年度统计")


@click.command("training")
@_year_options
@with_appcontext
def training_cmd(year: int | None, fmt: str, out: Path | None) -> None:
    """培训学时：每位在职执法岗位人员的年度认定学时与要求"""
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 需要用 --out 指定输出文件，例如 --out 培训台账.xlsx")
    year = year or clock.today().year
    rows = training_report(year)
    if fmt == "json":
        data = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "xlsx":
        data = exports.to_xlsx(rows, TRAINING_COLUMNS, sheet=f"{year}培训台账", title=f"{year}年培训台账")
    else:
        data = (f"{year}年培训学时（共 {len(rows)} 人）\n" +
                exports.to_table(rows, TRAINING_COLUMNS, right_align=["认定学时", "要求学时", "差额"]) + "\n").encode()
    _emit(data, out, f"{year}年培训台账")


annual_cmd = _year_options(annual_cmd, ("json", "table", "xlsx", "docx"))

# added to the `report` group by app/cli.py
report_commands = [annual_cmd, training_cmd]


@click.group("check", cls=AppGroup, help="核对数据（如年度学时汇总表）")
def check_cli() -> None:
    pass


@check_cli.command("hours")
@click.option("--fix", is_flag=True, help="重新计算不一致的学时汇总，删除与重新统计不符的已存统计结果")
def check_hours_cmd(fix: bool) -> None:
    """Recompute every officer's yearly hours from attendance and compare with training_hours, and
    every kept figure of the current write stamp (app/training/memo.py) with a fresh computation.
    Exit 0 when they agree, 1 with the list of differences otherwise (`--fix`: rewritten, exit 0)."""
    diffs = hours_differences(db.session)
    memos = memo.differences()
    for key, what in memos:
        click.echo(f"已存统计结果 {key} 与重新统计不一致：{what}")
    if fix and (diffs or memos):
        with commit_or_exit():
            if diffs:
                refresh_hours(db.session, officer_ids={d[0] for d in diffs}, everyone=True)
            memo.drop([k for k, _w in memos])
        click.echo(f"已修正：学时汇总 {len(diffs)} 处，已存统计结果 {len(memos)} 项。")
        return
    if not diffs:
        click.echo("学时汇总表与出勤记录一致。")
        if memos:
            raise SystemExit(1)
        return
    names = dict(db.session.execute(
        select(Officer.id, Officer.name).where(Officer.id.in_({d[0] for d in diffs}))).all())
    click.echo(f"学时汇总表有 {len(diffs)} 处与出勤记录不一致：")
    for officer_id, year, stored, computed, stored_n, computed_n, note in diffs:
        times = f"；汇总表出勤 {stored_n} 次，应为 {computed_n} 次" if stored_n != computed_n else ""
        times += f"；{note}" if note else ""
        click.echo(f"  {names.get(officer_id, '')}（人员 {officer_id}）{year}年：汇总表 {stored:g} 学时，"
                   f"按出勤记录应为 {computed:g} 学时{times}")
    raise SystemExit(1)


training_cli = AppGroup("training", help="培训（年度学时要求等）")


@training_cli.group("rule", cls=AppGroup, help="年度学时要求：总学时、各内容类别最低学时、线上学时上限")
def rule_cli() -> None:
    pass


def _minimums(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        grp, sep, hours = item.replace("＝", "=").partition("=")
        if not sep or not grp.strip():
            raise click.UsageError(f"--min “{item}”应写成 内容类别=学时，例如 --min 公共法律知识=20")
        out[grp.strip()] = hours.strip()
    return out


@rule_cli.command("set")
@click.argument("year", type=click.IntRange(1990, 2100))
@click.option("--total", required=True, help="年度总学时")
@click.option("--min", "mins", multiple=True, help="内容类别最低学时，如 --min 公共法律知识=20（可重复）")
@click.option("--online-max", default=None, help="线上学时最多计入多少（不填则不限）")
@click.option("--source", default="", help="依据（文号等）")
@click.option("--closes", type=DATE, default=None, help="该年度记录截止日期 YYYY-MM-DD（不填则不截止）")
def rule_set_cmd(year: int, total: str, mins: tuple[str, ...], online_max: str | None, source: str,
                 closes) -> None:
    """设定某年度的学时要求（替换该年度原有要求），重新计算各人计入学时"""
    with commit_or_exit(DomainError):
        set_rule(year, total, _minimums(mins), online_max, source, closes)
    click.echo(f"{year}年度学时要求：{describe(rule_for(year))}")


@rule_cli.command("show")
@click.argument("year", type=click.IntRange(1990, 2100), required=False)
def rule_show_cmd(year: int | None) -> None:
    """显示某年度适用的学时要求（不指定年度：列出全部）"""
    def lines(r, title: str) -> None:
        origin = (f"（沿用{r.year}年度）" if r.year is not None and r.year != year_shown else "") \
            if r.year is not None else "（未设定年度要求，按系统设置“年度培训学时要求”）"
        click.echo(f"{title}{origin}：{describe(r)}")
        if r.source:
            click.echo(f"  依据：{r.source}")
        if r.closes_on:
            click.echo(f"  记录截止：{r.closes_on.year}年{r.closes_on.month}月{r.closes_on.day}日")

    if year is not None:
        year_shown = year
        lines(rule_for(year), f"{year}年度")
        return
    rules = all_rules()
    if not rules:
        year_shown = None
        lines(rule_for(clock.today().year), "学时要求")
        return
    for r in rules:
        year_shown = r.year
        lines(r, f"{r.year}年度")
