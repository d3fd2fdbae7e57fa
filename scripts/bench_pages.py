"""Every GET page at province scale (DESIGN §7, issue 8), on SQLite and on PostgreSQL.

Builds (once; SQLite cached under --cache, PostgreSQL rebuilt in a throw-away cluster started with
scripts/pg.sh) 20,000 officers, ~40,000 certificates with their event history, 500 sessions with
200,000 attendance rows and 50,000 exam results, then requests every GET page of the URL map
(path parameters filled with a sample id) plus filtered, sorted and last-page variants through
Flask's test client, logged in as an admin, and prints p50/p95 CPU and wall per request and the
number of SQL statements. Target: ≤ 100 ms (CPU on SQLite, wall on PostgreSQL), ≤ 12 statements.
A benchmark that prints figures, not a test.

    .venv/bin/python scripts/bench_pages.py [--officers 20000] [--runs 7] [--db sqlite,pg] [--gunicorn]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

TODAY = date(2026, 6, 15)
SKIP_ENDPOINTS = {"static", "bootstrap.static", "verify.verify", "certificates.action", "officers.photo",
                  "auth.login", "imports.template"}
DOWNLOAD_SUFFIXES = (".pdf", ".xlsx", ".csv")
VARIANTS = [
    "/flags?flag=UNLICENSED", "/flags?flag=EXPIRING&within=30", "/flags?q=人员0001",
    "/flags?flag=UNLICENSED&reason=expired", "/flags?page=100000",
    "/officers?flag=UNLICENSED", "/officers?flag=TRAINING_SHORTFALL", "/officers?page=100000",
    "/certificates?page=100000", "/training/ledger?status=shortfall", "/training/ledger?page=100000",
    "/reviews?year=2025", "/reviews?page=100000", "/reminders?page=100000", "/audit?page=100000",
]


def build(db, n_officers: int) -> dict[str, int]:
    """bench_flags' officers, certificates and attendance, plus event history, exams and reviews."""
    from bench_flags import build as build_core
    from sqlalchemy import insert, select

    from app.certificates.models import AnnualReview, Certificate, CertificateEvent
    from app.exams.models import Exam, ExamResult
    from app.training.hours import refresh_hours

    sizes = build_core(db, n_officers, 2 * n_officers)
    rng = random.Random(11)
    now = datetime(2026, 1, 1)
    events = []
    certs = db.session.execute(select(Certificate.id, Certificate.issued_on, Certificate.status)).all()
    for cid, issued, status in certs:
        events.append({"certificate_id": cid, "kind": "issue", "from_status": None, "to_status": "valid",
                       "effective_on": issued, "reason": "", "document_no": "", "actor": "bench",
                       "created_at": now, "updated_at": now})
        if status != "valid":
            events.append({"certificate_id": cid, "kind": "status", "from_status": "valid", "to_status": status,
                           "effective_on": min(TODAY, issued + timedelta(days=300)), "reason": "",
                           "document_no": "", "actor": "bench", "created_at": now, "updated_at": now})
    db.session.execute(insert(CertificateEvent), events)
    stamps = {"created_at": now, "updated_at": now}
    exams = [{"id": i, "title": f"考试{i}", "kind": "annual" if i % 2 else "qualification",
              "held_on": date(2025, 3 + i, 10), "max_score": 100.0, "pass_score": 60.0, **stamps}
             for i in range(1, 4)]
    db.session.execute(insert(Exam), exams)
    results = []
    for e in exams:
        for oid in rng.sample(range(1, n_officers + 1), min(n_officers, 16667)):
            absent = rng.random() < 0.03
            results.append({"exam_id": e["id"], "officer_id": oid, "absent": absent,
                            "score": None if absent else float(rng.randint(40, 100)), **stamps})
    db.session.execute(insert(ExamResult), results)
    db.session.execute(insert(AnnualReview), [
        {"certificate_id": cid, "year": 2025, "result": "pass", "reviewed_on": date(2026, 3, 1), "note": "",
         **stamps} for cid, _i, _s in certs[: len(certs) // 3]])
    refresh_hours(db.session)  # the bulk inserts above bypass the ORM flush hook
    db.session.commit()
    return {**sizes, "events": len(events), "exam_results": len(results)}


class Counter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *_a, **_k):
        self.n += 1


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def urls(app, ids: dict[str, int]) -> list[str]:
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS or rule.rule.endswith(DOWNLOAD_SUFFIXES):
            continue
        if rule.arguments - ids.keys():
            continue
        out.append(rule.build({k: ids[k] for k in rule.arguments})[1])
    return out + VARIANTS


def run_pages(app, db, runs: int, label: str) -> list[dict]:
    from sqlalchemy import func, select

    from app.certificates.models import Certificate
    from app.exams.models import Exam
    from app.officers.models import Unit
    from app.training.models import TrainingSession

    with app.app_context():
        from app.auth.models import User
        from app.auth.services import create_user

        user = db.session.scalar(select(User).where(User.username == "bench"))
        if user is None:
            user, _ = create_user("bench", "admin", "bench-password-123")
            db.session.commit()
        ids = {"officer_id": 1, "cert_id": db.session.scalar(select(func.min(Certificate.id))),
               "session_id": db.session.scalar(select(func.min(TrainingSession.id))),
               "exam_id": db.session.scalar(select(func.min(Exam.id))),
               "unit_id": db.session.scalar(select(func.min(Unit.id))), "user_id": user.id}
        uid = user.id
        counter = Counter(db.engine)
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(uid)
        sess["_fresh"] = True
    results = []
    for url in urls(app, ids):
        resp = client.get(url)  # warm-up (template compile, caches)
        cpu, wall, stmts = [], [], []
        for _ in range(runs):
            n0, c0, w0 = counter.n, time.process_time(), time.perf_counter()
            resp = client.get(url)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            stmts.append(counter.n - n0)
        r = {"url": url, "status": resp.status_code, "kb": len(resp.data) / 1024,
             "cpu50": statistics.median(cpu), "cpu95": pct(cpu, 0.95),
             "wall50": statistics.median(wall), "wall95": pct(wall, 0.95), "stmts": max(stmts)}
        print(f"[{label}] {url:<45} {r['status']} cpu {r['cpu50']:6.1f}/{r['cpu95']:6.1f} ms  "
              f"wall {r['wall50']:6.1f}/{r['wall95']:6.1f} ms  stmts {r['stmts']:2d}  {r['kb']:.0f} KB", flush=True)
        results.append(r)
    return results


def make_app(url: str):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench"
        WTF_CSRF_ENABLED = False

    return create_app(BenchConfig)


def prepare(url: str, n: int, marker: Path | None) -> object:
    from app.extensions import db

    app = make_app(url)
    with app.app_context():
        if marker is None or not marker.exists():
            db.drop_all()
            db.create_all()
            t0 = time.perf_counter()
            sizes = build(db, n)
            print(f"built {sizes} in {time.perf_counter() - t0:.0f} s", flush=True)
            if marker is not None:
                marker.write_text("ok")
        db.session.remove()
    return app


def _client_loop(base: str, path: str, stop: float, done: list[int]) -> None:
    """One logged-in client requesting `path` until `stop`; appends how many it got."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": "bench", "password": "bench-password-123",
                                   "csrf_token": token}).encode()
    opener.open(base + "/login", data=data).read()
    n = 0
    while time.perf_counter() < stop:
        opener.open(base + path).read()
        n += 1
    done.append(n)


def gunicorn_rps(url: str, seconds: int = 10) -> dict[str, float]:
    """Requests per second of / and /flags under gunicorn (2 workers) against `url`'s database."""
    import socket
    import threading
    import urllib.request

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-gunicorn"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        out = {}
        for path in ("/", "/flags"):
            done: list[int] = []
            stop = time.perf_counter() + seconds + 2
            threads = [threading.Thread(target=_client_loop, args=(base, path, stop, done)) for _ in range(4)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            out[path] = sum(done) / (time.perf_counter() - t0)
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def table(res: dict[str, list[dict]]) -> str:
    labels = list(res)
    head = "| page | " + " | ".join(f"{lb} CPU p50/p95 ms | {lb} wall p50/p95 ms | {lb} stmts" for lb in labels) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(labels))]
    by_url = {lb: {r["url"]: r for r in rs} for lb, rs in res.items()}
    for url in [r["url"] for r in res[labels[0]]]:
        cells = []
        for lb in labels:
            r = by_url[lb].get(url)
            cells += ([f"{r['cpu50']:.0f} / {r['cpu95']:.0f}", f"{r['wall50']:.0f} / {r['wall95']:.0f}", str(r["stmts"])]
                      if r else ["", "", ""])
        lines.append(f"| `{url}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--db", default="sqlite,pg")
    ap.add_argument("--cache", default="/tmp/bench_pages")
    ap.add_argument("--gunicorn", action="store_true", help="also requests/s of / and /flags (gunicorn, 2 workers, PG)")
    args = ap.parse_args()
    res: dict[str, list[dict]] = {}
    extra = ""
    if "sqlite" in args.db:
        cache = Path(args.cache)
        cache.mkdir(parents=True, exist_ok=True)
        db_file = cache / f"bench-{args.officers}.db"
        marker = cache / f"bench-{args.officers}.ok"
        if not marker.exists() and db_file.exists():
            db_file.unlink()
        app = prepare(f"sqlite:///{db_file}", args.officers, marker)
        from app.extensions import db

        res["SQLite"] = run_pages(app, db, args.runs, "sqlite")
    if "pg" in args.db:
        env = subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "start"], capture_output=True, text=True,
                             check=True).stdout
        pg = dict(line.removeprefix("export ").split("=", 1) for line in env.split("\n") if line.startswith("export "))
        try:
            app = prepare(pg["PGTEST_URL"], args.officers, None)
            from app.extensions import db

            with app.app_context():
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            res["PostgreSQL"] = run_pages(app, db, args.runs, "pg")
            if args.gunicorn:
                rps = gunicorn_rps(pg["PGTEST_URL"])
                extra = "\n\ngunicorn, 2 workers, PostgreSQL, 4 client threads: " + ", ".join(
                    f"`{p}` {v:.1f} req/s" for p, v in rps.items())
        finally:
            subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "stop", pg["PGTEST_DIR"]], check=False)
    print()
    print(f"{args.officers} officers; {datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} CPUs; "
          f"{Path('/proc/cpuinfo').read_text().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    print(table(res) + extra)
    over = sorted({r["url"] for lb, rs in res.items() for r in rs
                   if r["stmts"] > 12 or (r["cpu95"] if lb == "SQLite" else r["wall95"]) > 100})
    print("\nover target (≤ 100 ms, ≤ 12 statements): " + (", ".join(over) if over else "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
