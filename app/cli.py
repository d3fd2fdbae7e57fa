"""The `flask` command groups (a contract: docs/domain.md 命令行约定), gathered here; each module's
cli.py defines its own.

Shared click types live in app/cli_types.py (a leaf module), so no module imports this one.
"""

from __future__ import annotations

from flask import Flask

from app.api.cli import token_commands
from app.applications.cli import calendar_cli
from app.auth.cli import bootstrap_cmd, users_cli
from app.backup import backup_cmd, restore_cmd
from app.cases.cli import check_commands as case_checks
from app.cases.cli import report_commands as case_reports
from app.demo_cli import demo_cli
from app.documents.cli import docs_cli
from app.imports.bank import exam_commands
from app.imports.cli import import_cli
from app.jobs.cli import jobs_cli
from app.me.cli import officers_cli
from app.officers.cli import units_cli
from app.online.cli import exams_cli
from app.reminders.cli import reminders_cli
from app.reports.cli import check_commands as flag_checks
from app.reports.cli import report_cli
from app.reviews.cli import check_commands as review_checks
from app.settings.cli import settings_cli
from app.training import imports as _training_imports  # noqa: F401  (registers `import attendance|scores`)
from app.training.cli import check_cli, training_cli
from app.training.cli import report_commands as training_reports


def register(app: Flask) -> None:
    """Add every module's command group, and the commands modules add to another's group."""
    for command in (*case_reports, *training_reports):  # `report cases|annual|training`
        report_cli.add_command(command)
    for command in token_commands:  # `users token|revoke-token`
        users_cli.add_command(command)
    for command in (*case_checks, *flag_checks, *review_checks):  # `check cases|flags|reviews` beside `check hours`
        check_cli.add_command(command)
    for command in exam_commands:  # `exams import-questions`, run by the import centre
        exams_cli.add_command(command)
    for group in (users_cli, settings_cli, demo_cli, import_cli, report_cli, reminders_cli, docs_cli,
                  exams_cli, jobs_cli, check_cli, units_cli, training_cli, officers_cli, calendar_cli,
                  bootstrap_cmd, backup_cmd, restore_cmd):
        app.cli.add_command(group)
