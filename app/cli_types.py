"""Click parameter types and choices shared by the modules' command groups.

A base-floor module (imports only app.uow, for commit_or_exit), so every `cli.py` can use it
without import cycles; app/cli.py only gathers the groups.
"""

from __future__ import annotations

from datetime import date

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
