"""The periodic huey task: every minute, requeue the jobs whose worker died and delete old files.
The task that runs one job, `run_job`, is declared beside the code it runs (app/jobs/services.py).
`flask jobs worker` imports this module, so the worker runs both."""

from __future__ import annotations

from huey import crontab

from app.extensions import db
from app.jobs.queue import huey, task_app
from app.jobs.services import MAINTENANCE, cleanup, recover, run_job

__all__ = ["maintain", "run_job"]


@huey.periodic_task(crontab(minute="*"))
def maintain() -> None:
    """Every minute: requeue jobs whose worker died, delete files older than 24 hours."""
    with task_app().app_context():
        try:
            recover()
            cleanup()
            for task in MAINTENANCE:  # e.g. the flag store rebuilt for a new day (app/rules/flagstore.py)
                task()
        finally:
            db.session.remove()
