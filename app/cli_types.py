"""Click parameter types and choices shared by the modules' command groups.

A base-floor module (imports only app.uow, for commit_or_exit), so every `cli.py` can use it
without import cycles; app/cli.py only gathers the groups.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from app.uow import commit_or_exit  # noqa: F401  (re-exported: the commands' transaction, rolls back and exits 1)

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
