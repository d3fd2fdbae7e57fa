"""`flask exams …`: the question bank, an online exam's paper, codes, tickets, window and results.

Exit status: 0 done, 1 refused (nothing written; every problem listed), 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli_types import DATE
from app.errors import DomainError
from app.exams.services import save_exam
from app.extensions import db
from app.formatting import cn_datetime
from app.idnumber import mask
from app.models.exams import Exam
from app.models_base import utcnow
from app.online.documents import codes_xlsx, tickets_pdf
from app.online.services import (
    check_rules,
    close_exam,
    code_rows,
    enrol,
    finish_if_due,
    held_back,
    held_message,
    open_exam,
    parse_beijing,
    parse_rule,
    recorded_candidates,
    results,
    set_paper,
)
from app.uow import commit

exams_cli = AppGroup("exams", help="机考：题库、组卷、登录码、准考证、开考与成绩")


def _fail(message: str, code: int = 1) -> None:
    db.session.rollback()
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        _fail(f"没有编号为 {exam_id} 的考试", 2)
    assert exam is not None
    return exam


def REPLACE_OPTIONS(command):  # noqa: N802  (used as a decorator)
    """--replace/--reason/--withdraw-document/--keep-recorded of `enrol` and `open`."""
    for option in reversed([
        click.option("--replace", multiple=True, metavar="身份证号",
                     help="该考生在本考试已有成绩：以机考成绩替换（管理员决定，可重复；须填 --reason）"),
        click.option("--reason", default="", help="允许替换已有成绩的原因（记入操作日志）"),
        click.option("--withdraw-document", is_flag=True,
                     help="被替换的合格成绩已出具考试合格证明：确认撤回该证明（原因同 --reason）"),
        click.option("--keep-recorded", is_flag=True, help="已有成绩的其余考生保留成绩、不参加机考"),
    ]):
        command = option(command)
    return command


def _say_replacements(exam: Exam, replace: tuple[str, ...]) -> None:
    if replace:
        for c in recorded_candidates(exam):
            if c["replacing"] and c["id_number"] in {x.strip().upper() for x in replace}:
                withdrawn = f"；考试合格证明 {c['document']['number']} 已撤回" if (
                    c["document"] and c["document"]["withdrawn"]) else ""
                click.echo(f"{c['name']}（{c['id_masked']}）已有成绩 {c['outcome']}，将以机考成绩替换{withdrawn}")


@exams_cli.command("create")
@click.argument("title")
@click.option("--date", "held_on", type=DATE, required=True)
@click.option("--kind", type=click.Choice(["qualification", "specialist", "annual"]), default="qualification",
              show_default=True)
@click.option("--max-score", type=float, default=None)
@click.option("--pass-score", type=float, default=None)
def create_cmd(title: str, held_on: date, kind: str, max_score: float | None, pass_score: float | None) -> None:
    """新建考试；最后一行只输出考试编号"""
    try:
        exam = save_exam(None, {"title": title, "held_on": held_on, "kind": kind,
                                "max_score": max_score, "pass_score": pass_score})
    except DomainError as exc:
        _fail(str(exc))
    commit()
    click.echo(f"已新建考试“{exam.title}”（满分 {exam.max_score:g}，合格 {exam.pass_score:g}）")
    click.echo(str(exam.id))


@exams_cli.command("enrol")
@click.argument("exam_id", type=int)
@click.option("--all-on-post", is_flag=True, help="全部在职且在执法岗位的人员")
@click.option("--unit", default=None, help="某单位的在职人员")
@click.option("--id-number", "id_numbers", multiple=True, help="按身份证号（可重复）")
@REPLACE_OPTIONS
def enrol_cmd(exam_id: int, all_on_post: bool, unit: str | None, id_numbers: tuple[str, ...],
              replace: tuple[str, ...], reason: str, withdraw_document: bool, keep_recorded: bool) -> None:
    """添加考生（在本考试已有成绩的人员不参加机考，除非用 --replace 指定以机考成绩替换）"""
    if sum(bool(x) for x in (all_on_post, unit, id_numbers)) != 1:
        click.echo("错误：请只指定 --all-on-post、--unit 或 --id-number 之一", err=True)
        sys.exit(2)
    exam = _exam(exam_id)
    try:
        added = enrol(exam, all_on_post=all_on_post, unit=unit, id_numbers=list(id_numbers),
                      replace=list(replace), reason=reason, withdraw_document=withdraw_document,
                      keep_recorded=keep_recorded, now=utcnow())
    except DomainError as exc:
        _fail(str(exc))
    _say_replacements(exam, replace)
    commit()
    click.echo(f"已添加 {added} 名考生（共 {len(exam.results)} 名）")


@exams_cli.command("paper")
@click.argument("exam_id", type=int)
@click.option("--rule", "rules", multiple=True, required=True, help="如 单选=20x2、单选:公共法律知识=10x2")
@click.option("--fixed", is_flag=True, help="所有考生同一试卷（默认每人随机抽题、打乱选项）")
def paper_cmd(exam_id: int, rules: tuple[str, ...], fixed: bool) -> None:
    """设置组卷规则"""
    exam = _exam(exam_id)
    parsed, problems = [], []
    for text in rules:
        try:
            parsed.append(parse_rule(text))
        except DomainError as exc:
            problems.append(str(exc))
    if not problems:
        problems = check_rules(exam, parsed)
    if problems:
        db.session.rollback()
        for p in problems:
            click.echo(f"错误：{p}", err=True)
        click.echo("组卷被拒绝，未作任何修改", err=True)
        sys.exit(1)
    try:
        set_paper(exam, parsed, fixed=fixed, now=utcnow())
    except DomainError as exc:
        _fail(str(exc))
    commit()
    total = sum(r.count for r in parsed)
    click.echo(f"已设置组卷规则：共 {total} 题，满分 {exam.max_score:g}（{'统一试卷' if fixed else '每人随机抽题'}）")


@exams_cli.command("codes")
@click.argument("exam_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True)
@click.option("--out", default=None, help="输出文件（xlsx 必须指定）")
def codes_cmd(exam_id: int, fmt: str, out: str | None) -> None:
    """考生登录码：[{"id_number", "name", "seat", "code"}]"""
    exam = _exam(exam_id)
    if fmt == "xlsx" and not out:
        click.echo("错误：--format xlsx 需要 --out FILE.xlsx", err=True)
        sys.exit(2)
    rows = code_rows(exam)
    commit()
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=2)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            click.echo(f"已写入 {out}（{len(rows)} 名考生）")
        else:
            click.echo(text)
        return

    Path(out).write_bytes(codes_xlsx(rows))
    click.echo(f"已写入 {out}（{len(rows)} 名考生）")


@exams_cli.command("tickets")
@click.argument("exam_id", type=int)
@click.option("--out", required=True, help="输出 PDF 文件")
def tickets_cmd(exam_id: int, out: str) -> None:
    """准考证 PDF（每名考生一页）"""
    exam = _exam(exam_id)
    try:
        data = tickets_pdf(exam)
    except DomainError as exc:
        _fail(str(exc))
    commit()
    Path(out).write_bytes(data)
    click.echo(f"已写入 {out}")


def _local(text: str) -> datetime:
    try:
        return parse_beijing(text)
    except DomainError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(2)


@exams_cli.command("open")
@click.argument("exam_id", type=int)
@click.option("--minutes", type=int, required=True)
@click.option("--at", "at_text", default=None, help="开考时间 \"YYYY-MM-DD HH:MM\"（北京时间，默认现在）")
@click.option("--room", default=None, help="考场（印在准考证上）")
@click.option("--hide-score", is_flag=True, help="交卷后不向考生显示成绩（默认显示）")
@REPLACE_OPTIONS
def open_cmd(exam_id: int, minutes: int, at_text: str | None, room: str | None, hide_score: bool,
             replace: tuple[str, ...], reason: str, withdraw_document: bool, keep_recorded: bool) -> None:
    """开放考试（现在或定时）；在本考试已有成绩的考生不参加机考，除非用 --replace 指定以机考成绩替换"""
    exam = _exam(exam_id)
    now = utcnow()
    at = _local(at_text) if at_text else now
    try:
        online = open_exam(exam, minutes, at=at, now=now, keep_recorded=keep_recorded, replace=list(replace),
                           reason=reason, withdraw_document=withdraw_document)
    except DomainError as exc:
        _fail(str(exc))
    _say_replacements(exam, replace)
    if held := held_back(exam):
        click.echo(held_message(held))
    online.show_score = not hide_score
    if room is not None:
        online.room = room.strip()[:100]
    commit()
    click.echo(f"考试“{exam.title}”将于 {cn_datetime(online.opens_at)} 开放，时长 {minutes} 分钟")


@exams_cli.command("close")
@click.argument("exam_id", type=int)
def close_cmd(exam_id: int) -> None:
    """提前结束考试：已开始的试卷全部交卷，未登录者记为缺考"""
    exam = _exam(exam_id)
    try:
        done = close_exam(exam, now=utcnow())
    except DomainError as exc:
        _fail(str(exc))
    commit()
    click.echo(f"考试“{exam.title}”已结束：自动交卷 {done['submitted']} 人，缺考 {done['absent']} 人")


@exams_cli.command("results")
@click.argument("exam_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def results_cmd(exam_id: int, fmt: str) -> None:
    """成绩：[{"id_number", "name", "score", "passed", "absent"}]"""
    exam = _exam(exam_id)
    finish_if_due(exam, utcnow())
    commit()
    rows = results(exam)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        outcome = "缺考" if r["absent"] else ("合格" if r["passed"] else ("未登记" if r["score"] is None else "不合格"))
        score = "" if r["score"] is None else f"{r['score']:g}"
        click.echo(f"{mask(r['id_number'])}  {r['name']}  {score}  {outcome}")
