"""`flask jobs worker`: the huey consumer that runs background jobs."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.jobs import tasks
from app.jobs.queue import set_app
from app.jobs.services import cleanup, recover

jobs_cli = AppGroup("jobs", help="后台任务（生成文件、导入、提醒、备份）")


@jobs_cli.command("worker")
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True,
              help="同时运行的任务数（每个 PDF 任务约需 300 MB 内存）")
def worker(workers: int) -> None:
    """Run background jobs until stopped (SIGINT/SIGTERM finish the running job first)."""
    set_app(current_app._get_current_object())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("weasyprint", "fontTools"):  # one line per page otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    requeued = recover(at_start=True)
    removed = cleanup()
    db.session.remove()
    click.echo(f"后台任务进程已启动：重新排队 {requeued} 个中断的任务，清理 {removed} 个过期文件")
    consumer = tasks.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                          check_worker_health=True)
    consumer.run()
