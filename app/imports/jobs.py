"""Big imports as background jobs (nothing long runs inside a request): the wizard's last step (导入) hands a file with
more data rows than the setting `job_threshold_rows` to the worker; smaller ones import at once.

The file is already in the database (ImportBatch.file_data), so any worker on any server can
read it; the job runs the same `run_batch` + `record_batch` as the inline route, as the uploader.
"""

from __future__ import annotations

from flask import Flask, url_for
from sqlalchemy import select

from app.extensions import db
from app.importing.readers import ImportRefused, read_table
from app.imports.cache import parsed
from app.imports.history import record_batch, run_batch
from app.imports.kinds import importers
from app.jobs.services import JobFailed, as_owner, in_job, register, start
from app.models.imports import ImportBatch
from app.models.jobs import Job
from app.settings.services import get


def data_rows(batch: ImportBatch) -> int:
    try:
        table = read_table(parsed(batch), batch.filename, importers()[batch.kind].columns)
        return sum(1 for _ in table.rows)
    except ImportRefused:
        return 0  # the inline run explains what is wrong with the file


def defer(batch: ImportBatch):
    """None: import now. Otherwise the 202 response of the queued job (or 429)."""
    if in_job() or data_rows(batch) <= get("job_threshold_rows"):
        return None
    return start("import", f"导入{importers()[batch.kind].noun}：{batch.filename}",
                 {"token": batch.token})


def _import(app: Flask, job: Job) -> str:
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.token == job.params.get("token")))
    if batch is None:
        raise JobFailed("上传的文件已不存在，请重新上传")
    with as_owner(app, job, path=f"/imports/b/{batch.token}/import"):
        if batch.status != "uploaded":
            raise JobFailed("这个文件已经导入过了")
        try:
            result = run_batch(batch, dry_run=False)
        except ImportRefused as refused:
            db.session.rollback()
            shown = "；".join(str(p) for p in refused.problems[:20])
            more = f"（共 {refused.total:,} 个问题）" if refused.total > 20 else ""
            raise JobFailed(f"文件有问题，未导入任何数据：{shown}{more}") from None
        record_batch(batch, result)
        db.session.flush()
        return f"导入成功：{result.summary()}（详情：{url_for('imports.batch_detail', batch_id=batch.id)}）"


register("import", _import)
