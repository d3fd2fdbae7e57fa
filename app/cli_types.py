"""Click parameter types and choices shared by the modules' command groups.

A leaf module (imports nothing of the app), so every `cli.py` can use it without import cycles;
app/cli.py only gathers the groups.
"""

from __future__ import annotations

from datetime import date

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
