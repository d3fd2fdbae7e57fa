"""`flask import KIND FILE [--dry-run] [--ignore-column NAME]... [--errors-out FILE.xlsx]` for every
registered kind (officers also `--no-create-units`), and `flask import template KIND --out FILE.xlsx`
(docs/domain.md 导入, 命令行约定). Columns the importer does not know are left out and named in the summary;
each unit an import registers is printed with the registered units whose names are close to it.

Exit status: 0 imported (or validated with --dry-run), 1 refused with every problem listed and
nothing written, 2 wrong usage (no such file, unsupported type).
"""

from __future__ import annotations

import secrets
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app import clock
from app.audit.services import current_actor, record
from app.cli_types import DATE
from app.errors import DomainError
from app.extensions import db
from app.importing import base
from app.importing.readers import (
    SUPPORTED_EXTENSIONS,
    ImportRefused,
    extension,
    unsupported_message,
)
from app.imports.annotate import annotated_workbook
from app.imports.history import record_batch
from app.imports.kinds import get_importer, importers
from app.imports.templates import export_workbook, template_workbook
from app.models.imports import ImportBatch, pack_file
from app.rules.training import allow_late
from app.uow import commit


class _ImportGroup(AppGroup):
    """Commands are made from the importer registry when first asked for (so a kind added in
    another module appears without touching this file)."""

    def _load(self) -> None:
        for kind, importer in importers().items():
            if kind not in self.commands:
                help_text = importer.help or f"导入{importer.noun}"
                self.command(kind, help=help_text)(_command(kind, help_text))

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        if name not in self.commands:
            self._load()
        return super().get_command(ctx, name)


import_cli = _ImportGroup("import", help="从 .xlsx、.xls、.ods 或 .csv 文件导入数据（全部成功才写入）")


def _run(kind: str, file: str, dry_run: bool, today: date | None, ignore: tuple[str, ...],
         errors_out: str | None, summary=None, create_units: bool = True) -> None:
    """Import FILE as KIND and exit 0/1/2 as the module docstring says. `summary`: the line printed
    on success, from the ImportResult (default: its summary())."""
    path = Path(file)
    if not path.is_file():
        click.echo(f"错误：文件不存在：{file}", err=True)
        sys.exit(2)
    if extension(file) not in SUPPORTED_EXTENSIONS:
        click.echo(f"错误：{unsupported_message(file)}", err=True)
        sys.exit(2)
    try:
        # Every file is read, checked and written a chunk at a time; a CSV file is not held
        # to the web's upload limits (a province's year of attendance is one file), workbooks are.
        result = get_importer(kind).run(path, path.name, today=today or clock.today(),
                                        dry_run=dry_run, ignore=ignore,
                                        create_units=create_units,
                                        limits=extension(file) != ".csv")
    except ImportRefused as refused:
        db.session.rollback()
        shown = refused.problems[:base.MAX_LISTED]
        for problem in shown:
            click.echo(str(problem), err=True)
        if refused.total > len(shown):
            click.echo(f"……另有 {refused.total - len(shown):,} 个问题未列出", err=True)
        click.echo(f"导入被拒绝：共 {refused.total:,} 个问题，未写入任何数据", err=True)
        if errors_out:
            _write_errors(kind, path, refused, errors_out)
        sys.exit(1)
    except OSError as exc:
        db.session.rollback()
        click.echo(f"错误：无法读取文件 {file}：{exc.strerror or exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # never a traceback for the person at the terminal
        db.session.rollback()
        click.echo(f"导入失败：{exc.__class__.__name__}: {exc}；未写入任何数据", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        _record(kind, path, result)
        commit()
    for name, near in result.new_units.items():
        also = f"（相近的已有单位：{'、'.join(near)}，请确认不是同一单位）" if near else ""
        click.echo(f"{'将' if dry_run else '已'}新建单位“{name}”{also}")
    click.echo(summary(result) if summary else result.summary())


def _record(kind: str, path: Path, result) -> None:
    """The import's entry in 导入记录 (with the file, for download and undo)."""
    stored, size = pack_file(path)  # compressed: a CSV file is not held whole, nor bound twice
    batch = ImportBatch(token=secrets.token_urlsafe(24), user_id=None, actor=current_actor()[0],
                        kind=kind, filename=path.name[:255], file_size=size, file_data=stored)
    db.session.add(batch)
    record_batch(batch, result)


def _write_errors(kind: str, path: Path, refused: ImportRefused, out: str) -> None:
    try:
        data = annotated_workbook(get_importer(kind), path.read_bytes(), path.name, refused.problems)
        Path(out).write_bytes(data)
    except (ImportRefused, OSError) as exc:
        click.echo(f"未能写出标注了问题的文件 {out}：{exc}", err=True)
        return
    click.echo(f"已把标注了问题的表格写到 {out}（出错的单元格标红并附批注，第一列为错误说明）", err=True)


def _command(kind: str, help_text: str):
    @click.argument("file")
    @click.option("--dry-run", is_flag=True, help="只校验，不写入")
    @click.option("--today", type=DATE, default=None, help="导入日（默认今天），用于状态日期等")
    @click.option("--ignore-column", "ignore", multiple=True, metavar="列名",
                  help="忽略文件中的这一列（可重复）")
    @click.option("--errors-out", type=click.Path(dir_okay=False), default=None,
                  help="被拒绝时，把标注了问题的表格写到这个 .xlsx 文件")
    def command(file: str, dry_run: bool, today: date | None, ignore: tuple[str, ...],
                errors_out: str | None, **options) -> None:
        if options.get("late_reason"):  # attendance of a year whose records are closed

            try:
                allow_late(options["late_reason"])
            except DomainError as exc:
                raise click.UsageError(str(exc)) from None
        _run(kind, file, dry_run, today, ignore, errors_out,
             create_units=not options.get("no_create_units", False))

    if get_importer(kind).unit_field:
        command = click.option("--no-create-units", is_flag=True,
                               help="不新建单位：单位未登记的行列为问题，拒绝导入")(command)

    if kind == "attendance":
        command = click.option("--late-reason", default=None, metavar="理由",
                               help="补录已截止年度的出勤（记入审计日志）")(command)

    command.__doc__ = help_text
    return command


def _kind_and_out(command):
    """The KIND argument and the --out option of `template` and `export`."""
    command = click.option("--out", required=True, type=click.Path(dir_okay=False),
                           help="写到这个 .xlsx 文件")(command)
    return click.argument("kind")(command)


def _importer_or_exit(kind: str):
    """The importer of KIND; an unknown kind: the message and exit status 2."""
    found = importers()
    if kind not in found:
        click.echo(f"错误：未知的导入类型“{kind}”，可选：{'、'.join(found)}", err=True)
        sys.exit(2)
    return found[kind]


@import_cli.command("template")
@_kind_and_out
def template_cmd(kind: str, out: str) -> None:
    """生成某类数据的导入模板（带下拉选项、文本格式和填写说明）"""
    importer = _importer_or_exit(kind)
    Path(out).write_bytes(template_workbook(importer))
    click.echo(f"已生成{importer.noun}导入模板：{out}")


@import_cli.command("export")
@_kind_and_out
def export_cmd(kind: str, out: str) -> None:
    """按导入格式导出某类数据（列名与导入相同；改好后可直接导入回去）"""
    importer = _importer_or_exit(kind)
    Path(out).write_bytes(export_workbook(importer))
    record("export", importer.entity, None, f"按导入格式导出{importer.noun}")
    commit()
    click.echo(f"已导出{importer.noun}：{out}")
