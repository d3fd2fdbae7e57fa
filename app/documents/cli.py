"""`flask docs …`: print a document to a file (docs/domain.md 打印文件与公开页面). Exit 1 when the data is refused."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from pypdf import PdfReader

from app import clock
from app.cli_types import DATE
from app.documents.services import DOCUMENTS, print_document
from app.errors import DomainError
from app.extensions import db
from app.uow import commit
from app.web.tokens import base_url_and_source, is_loopback

docs_cli = AppGroup("docs", help="打印文书（PDF）")

OUT = click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                   required=True, help="输出的 PDF 文件")
TODAY = click.option("--today", type=DATE, default=None, help="以此日期为准（YYYY-MM-DD），默认今天")


def _print(name: str, out: Path, today: date | None, **params) -> None:
    try:
        pdf, doc = print_document(name, today=today or clock.today(), **params)
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"错误：无法生成{DOCUMENTS[name]}：{exc}", err=True)
        sys.exit(1)
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        db.session.rollback()
        click.echo(f"错误：无法写入 {out}：{exc.strerror}", err=True)
        sys.exit(2)
    commit()
    pages = len(PdfReader(out).pages)
    click.echo(f"已生成{doc.context['title']}：{out}（{pages} 页）")
    if name == "certificates":
        _warn_if_loopback_qr()


def _warn_if_loopback_qr() -> None:
    prefix, source = base_url_and_source()
    if source == "fallback":
        click.echo(f"警告：未设置二维码验证网址前缀（flask settings set public_base_url 网址，或环境变量 "
                   f"APP_BASE_URL），二维码指向本机地址 {prefix}/verify/…，他人扫码无法打开。", err=True)
    elif is_loopback(prefix):
        click.echo(f"警告：二维码指向本机地址 {prefix}/verify/…，他人扫码无法打开。", err=True)


def _document_command(name: str, option, doc: str) -> None:
    """`flask docs NAME` for a document with one option of its own (passed on as is), --out and --today."""
    def command(out: Path, today: date | None, **params) -> None:
        _print(name, out, today, **params)
    command.__doc__ = doc
    docs_cli.command(name)(option(OUT(TODAY(command))))


for _name, _option, _doc in (
    ("roster", click.option("--unit", default=None, help="只打印此单位"), "持证人员名册"),
    ("public-list", click.option("--unit", default=None, help="只打印此单位"), "执法人员公示名单"),
    ("sign-in", click.option("--session", "session_id", type=int, required=True, help="培训班 ID"),
     "培训签到表（日期为培训日期；--today 可省略）"),
    ("ledger", click.option("--year", type=click.IntRange(1900, 9999), default=None, help="年度，默认今年"),
     "培训台账"),
    ("scores", click.option("--exam", "exam_id", type=int, required=True, help="考试 ID"),
     "考试成绩登记表（日期为考试日期；--today 可省略）"),
    ("reminder", click.option("--within", type=click.IntRange(0, 3650), default=None,
                              help="提前天数，默认最大提醒窗口"), "证件到期提醒"),
):
    _document_command(_name, _option, _doc)


@docs_cli.command("certificates")
@click.option("--session", "session_id", type=int, default=None, help="培训班 ID")
@click.option("--exam", "exam_id", type=int, default=None, help="考试 ID")
@click.option("--officer", "officer_id", type=int, default=None, help="只打印此人员（ID）")
@OUT
@TODAY
def certificates(session_id: int | None, exam_id: int | None, officer_id: int | None, out: Path,
                 today: date | None) -> None:
    """培训合格证书 / 考试合格证明"""
    if (session_id is None) == (exam_id is None):
        raise click.UsageError("请用 --session ID 或 --exam ID 指定培训班或考试（二选一）")
    _print("certificates", out, today, session_id=session_id, exam_id=exam_id, officer_id=officer_id)
