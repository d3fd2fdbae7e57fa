"""Click parameter types and choices shared by the modules' command groups.

A leaf module (imports nothing of the app when loaded), so every `cli.py` can use it without
import cycles; app/cli.py only gathers the groups.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

FORMATS = ["table", "json", "csv", "xlsx"]


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"“{value}”不是有效日期，应为 YYYY-MM-DD", param, ctx)


DATE = DateType()


@contextmanager
def commit_or_exit(*errors: type[Exception]) -> Iterator[None]:
    """A command's transaction: commit what the block did; on one of `errors` roll back, print
    "错误：…" on stderr and exit 1 (the CLI's counterpart of app.web.tx.commit_or_errors)."""
    from app.extensions import db

    try:
        yield
    except errors as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    db.session.commit()


def emit(data: bytes, out: Path | None) -> bool:
    """A report command's output: to the file `out`, or as it is (UTF-8 bytes) to standard output
    when there is none. True when a file was written (the caller then records the export)."""
    if out is None:
        click.echo(data, nl=False)
        return False
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.UsageError(f"无法写入文件 {out}：{exc.strerror or exc}") from None
    return True
