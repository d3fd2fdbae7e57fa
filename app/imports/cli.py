"""`flask import officers|certificates|cases FILE [--dry-run]` (DESIGN §5).

Exit status: 0 imported (or validated with --dry-run), 1 refused with every problem listed and
nothing written, 2 wrong usage (no such file, unsupported type).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli import DATE
from app.extensions import db
from app.imports.readers import SUPPORTED_EXTENSIONS, ImportRefused, extension, unsupported_message

import_cli = AppGroup("import", help="从 .xlsx 或 .csv 文件导入数据（全部成功才写入）")


def _run(kind: str, file: str, dry_run: bool, today: date | None) -> None:
    from app.imports.services import run_import

    path = Path(file)
    if not path.is_file():
        click.echo(f"错误：文件不存在：{file}", err=True)
        sys.exit(2)
    if extension(file) not in SUPPORTED_EXTENSIONS:
        click.echo(f"错误：{unsupported_message(file)}", err=True)
        sys.exit(2)
    try:
        result = run_import(kind, path, path.name, today=today or date.today(), dry_run=dry_run)
    except ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        click.echo(f"导入被拒绝：共 {len(refused.problems)} 个问题，未写入任何数据", err=True)
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
        db.session.commit()
    click.echo(result.summary())


def _command(kind: str, help_text: str):
    @click.argument("file")
    @click.option("--dry-run", is_flag=True, help="只校验，不写入")
    @click.option("--today", type=DATE, default=None, help="导入日（默认今天），用于状态日期等")
    def command(file: str, dry_run: bool, today: date | None) -> None:
        _run(kind, file, dry_run, today)

    command.__doc__ = help_text
    return import_cli.command(kind, help=help_text)(command)


import_officers_cmd = _command("officers", "导入执法人员（按身份证号新增或更新）")
import_certificates_cmd = _command("certificates", "导入证件（按证件类型+证件编号新增或更新）")
import_cases_cmd = _command("cases", "导入行政处罚案件（按案号新增或更新）")
