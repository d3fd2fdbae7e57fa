"""`flask report cases [--year Y] [--unit NAME] [--format table|json|csv|xlsx] [--out F]`.

`--format json` prints exactly the JSON array (docs/domain.md 案件核查) and nothing else. Exit 2 on wrong usage.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.audit.services import record
from app.cases import services
from app.cases.exports import CASE_COLUMNS, to_rows
from app.cli_types import FORMATS, emit
from app.extensions import db
from app.labels import CASE_REASONS as CASE_REASON_LABELS
from app.rules import case_units as branches
from app.rules.verdicts import differences, refresh_verdicts
from app.uow import commit
from app.web import exports


@click.command("cases", help="行政处罚案件执法人员资格核查（行政处罚法第四十二条）")
@click.option("--year", type=click.IntRange(1900, 2999), default=None, help="决定日期所在年度")
@click.option("--unit", default=None, help="承办单位")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入文件（xlsx 必须指定）")
@with_appcontext
def report_cases(year: int | None, unit: str | None, fmt: str, out: Path | None) -> None:
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 需要用 --out 指定输出文件，例如 --out 案件核查.xlsx")
    unit = unit.strip() if unit else None
    rows = services.case_rows(services.CaseFilters(year=year, unit=unit))
    if fmt == "json":
        data = (json.dumps([{k: r[k] for k in services.JSON_KEYS} for r in rows], ensure_ascii=False,
                           indent=2) + "\n").encode("utf-8")
    elif fmt == "csv":
        data = exports.to_csv(to_rows(rows), CASE_COLUMNS, bom=out is not None)
    elif fmt == "xlsx":
        data = exports.to_xlsx(to_rows(rows), CASE_COLUMNS, sheet="案件核查", title="行政处罚案件执法人员资格核查")
    else:
        bad = sum(1 for r in rows if not r["ok"])
        head = f"行政处罚案件执法人员资格核查（共 {len(rows)} 件，不符合 {bad} 件）"
        body = exports.to_table(to_rows(rows), CASE_COLUMNS) if rows else "没有案件"
        data = f"{head}\n{body}\n".encode()
    if not emit(data, out):
        return

    record("export", "case", None, f"导出案件核查 {len(rows)} 条（{fmt}）",
           {"filters": [None, {"year": year, "unit": unit}], "target": [None, str(out)]})
    commit()
    click.echo(f"已导出 {len(rows)} 条到 {out}")


# added to the `report` group by app/cli.py
report_commands = [report_cases]


@click.command("cases", help="核对案件资格核查结果表（case_verdict）与按证件历史重新核查的结果")
@click.option("--fix", is_flag=True, help="发现不一致时按重新核查的结果改正")
@with_appcontext
def check_cases(fix: bool) -> None:
    """Re-judge every case and compare with the stored verdicts. Exit 0 when they agree; 1 with
    the list of differences otherwise (after --fix: corrected, exit 0)."""
    diffs = differences(db.session)
    unit_diffs = branches.differences(db.session)
    if not diffs and not unit_diffs:
        click.echo("案件资格核查结果表与证件历史一致。")
        click.echo("案件所属单位表与承办单位、证件编号一致。")
        return

    def show(v: tuple[bool, str] | None) -> str:
        if v is None:
            return "无记录"
        return "符合" if v[0] else "不符合（" + "、".join(
            CASE_REASON_LABELS.get(r, r) for r in v[1].strip(",").split(",") if r) + "）"

    if diffs:
        click.echo(f"案件资格核查结果表有 {len(diffs)} 处与证件历史不一致：")
        for _cid, case_no, stored, judged in diffs:
            click.echo(f"  {case_no or '（已删除的案件）'}：结果表 {show(stored)}，按证件历史应为 {show(judged)}")
    if unit_diffs:
        names = branches.unit_names(db.session, {u for d in unit_diffs for u in d[2] | d[3]})

        def units(ids: set[int]) -> str:
            return "、".join(sorted(names.get(i, str(i)) for i in ids)) or "无"

        click.echo(f"案件所属单位表有 {len(unit_diffs)} 处与承办单位、证件编号不一致：")
        for _cid, case_no, stored, now in unit_diffs:
            click.echo(f"  {case_no or '（已删除的案件）'}：表中为 {units(stored)}，应为 {units(now)}")
    if fix:
        refresh_verdicts(db.session, everything=True)
        commit()
        click.echo("已按证件历史重新核查并改正。")
        return
    raise SystemExit(1)


# added to the `check` group by app/cli.py
check_commands = [check_cases]
