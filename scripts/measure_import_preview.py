"""Peak memory of the import wizard's preview of one upload, in a fresh process.

    python scripts/measure_import_preview.py FILE [--kind officers]

Prints one JSON line: the process's peak RSS (VmHWM, else ru_maxrss) before the upload (the app loaded and logged in),
after the first preview (the one reading of the workbook) and after a reload, the seconds each
took, and the preview's status and message. tests/ops/test_import_preview_memory.py runs it.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the process's own memory, made new at exec;
    ru_maxrss is not reset by exec, so started from a big process (pytest after the whole suite)
    it would report that process's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--kind", default="officers")
    args = parser.parse_args()
    from app import create_app
    from app.config import TestConfig
    from app.extensions import db
    from tests.conftest import login, token

    work = Path(tempfile.mkdtemp(prefix="preview-memory-"))

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{work / 'm.db'}"
        IMPORT_CACHE_DIR = str(work / "cache")
        MAX_CONTENT_LENGTH = 64 * 1024 * 1024

    app = create_app(Config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    login(client, app, "clerk")
    client.get("/imports")
    data = Path(args.file).read_bytes()
    form = {"csrf_token": token(client, "/imports"), "kind": args.kind,
            "file": (io.BytesIO(data), Path(args.file).name)}
    del data
    resp = client.post("/imports/upload", data=form, content_type="multipart/form-data")
    del form
    location = resp.headers.get("Location")
    base = peak_mb()
    started = time.perf_counter()
    first = client.get(location)
    first_s, first_peak = time.perf_counter() - started, peak_mb()
    started = time.perf_counter()
    again = client.get(location)
    reload_s = time.perf_counter() - started
    html = again.get_data(as_text=True)
    problem = re.search(r'<table[^>]*id="problems".*?<tbody>\s*<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]+)<',
                        html, re.S)
    print(json.dumps({"base_mb": round(base, 1), "first_peak_mb": round(first_peak, 1),
                      "peak_mb": round(peak_mb(), 1), "first_s": round(first_s, 2),
                      "reload_s": round(reload_s, 2), "status": [first.status_code, again.status_code],
                      "preview": "列名在第" in html,
                      "problem": problem.group(1).strip() if problem else "",
                      "cached": sorted(p.name for p in (work / "cache").glob("*"))},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
