"""An upload is read once: its rows are kept next to it, as JSON lines in a file keyed by the
upload's token, so that the wizard's preview (and its reloads), the check, the annotated sheet
and the import read that file a line at a time instead of the workbook again.

The workbook itself is checked before it is read (`readers.check_workbook`: sizes, used range,
shared strings), so the one reading stays within its budget. The files live in
IMPORT_CACHE_DIR (default: instance/import-cache); a missing file (another server, a clean-up)
is made again from the upload kept in the database.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from flask import current_app

from app.importing.readers import ParsedRows, raw_rows

KEEP_SECONDS = 24 * 3600  # as long as the wizard keeps an upload


def cache_dir() -> Path:
    folder = current_app.config.get("IMPORT_CACHE_DIR") or os.path.join(
        current_app.instance_path, "import-cache")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(batch) -> Path:
    return cache_dir() / f"{batch.token}.jsonl"


def parsed(batch) -> ParsedRows:
    """The upload's rows, read from its workbook the first time only. Raises ImportRefused for a
    file that cannot or must not be read (nothing is kept then)."""
    path = _path(batch)
    if path.exists():
        return ParsedRows(path)
    rows = raw_rows(batch.original, batch.filename)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=".jsonl")
    try:
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                   default=ParsedRows.encode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(encoder.encode(row) + "\n" for row in rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ParsedRows(path)


def forget(batch) -> None:
    """The upload is imported: its rows are no longer needed."""
    _path(batch).unlink(missing_ok=True)


def prune(now: float | None = None) -> None:
    """Drop the rows of uploads older than the wizard keeps them."""
    limit = (now or time.time()) - KEEP_SECONDS
    for path in cache_dir().glob("*.jsonl"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            pass
