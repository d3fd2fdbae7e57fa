"""Every GET page at province scale (docs/architecture.md, Cost targets), on SQLite and on PostgreSQL.

`make bench` runs it at 200,000 officers (BENCH_OFFICERS) on both databases, for the whole
organisation and for a scoped user (--scoped: an admin limited to a branch of the unit tree).

The data set (build(): OFFICERS officers in OFFICERS/100 units, ~2 certificates each with their
event history, 500 sessions with 200,000 attendance rows, 50,000 exam results, OFFICERS penalty
cases, the audit rows) is built once and kept, keyed on the generator (GENERATOR, bumped whenever
build() writes something different) and the size — not on the schema:
  - SQLite: `<--cache>/bench-<officers>[-photos<f>]-g<GENERATOR>.db` (or --sqlite-file PATH, e.g. a
    copy of a shared file), its `.ok` marker holding the schema key it was last brought up to;
  - PostgreSQL: --pg-url reuses that database (the key in `COMMENT ON TABLE officer`); without it a
    throw-away cluster is started from a cached copy of a built cluster's data directory
    (`<--cache>/pg-<officers>[-photos<f>]-g<GENERATOR>/`), built and copied there the first time.
When the models changed since (a helper's branch adds a table, a column, an index), the data set is
upgraded in place instead of rebuilt (upgrade()): `db.create_all()` for new tables, `ALTER TABLE …
ADD COLUMN` for new columns (with their default), missing indexes created, then every `flask check
… --fix` (the derived-state checks: stored flags, case verdicts, …) run so the app's own code fills
the derived state. A column that cannot be added that way (NOT NULL without a default) rebuilds.

Then every GET page of the URL map (path parameters filled with a sample id) plus filtered, sorted
and last-page variants is requested through Flask's test client, logged in as an admin, and per
page it prints CPU p50/p95 (SQLite: the app's CPU, the database runs inside it; PostgreSQL: the
app's CPU + the server backends' CPU, from /proc/PID/schedstat), wall time, the statements, and
the ratio to a bare count of the officer–certificate join
    SELECT count(*) FROM officer JOIN certificate ON certificate.officer_id = officer.id
measured in the same run the same way (before and after the pages; p50 of both). The summary is a
Markdown table for the README; a page over target is marked ✗: CPU p95 > 100 ms, > 12 statements,
or p50 > 8× (SQLite) / 3× (PostgreSQL) the bare count's p50. With --gunicorn, requests/s of / and
/flags under gunicorn (2 workers). A benchmark that prints figures, not a test.

    .venv/bin/python scripts/bench_pages.py [--officers 200000] [--runs 5] [--db sqlite,pg] [--scoped]
        [--pg-url URL] [--cache DIR | --sqlite-file PATH] [--photos 0] [--only REGEX] [--gunicorn]
"""

from __future__ import annotations

import argparse
import os
import random
import re
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
                  "auth.login", "imports.template", "online.exam_page", "online.api_paper"}
# candidates' exam room (/exam, /exam/api/paper): a candidate's code login, not an admin page
DOWNLOAD_SUFFIXES = (".pdf", ".xlsx", ".csv", ".docx")
VARIANTS = [
    "/flags?flag=UNLICENSED", "/flags?flag=EXPIRING&within=30", "/flags?q=人员0001", "/flags?flag=TRAINING_SHORTFALL",
    "/flags?flag=UNLICENSED&reason=expired", "/flags?page=100000",
    "/officers?flag=UNLICENSED", "/officers?flag=TRAINING_SHORTFALL", "/officers?page=100000",
    "/certificates?page=100000", "/training/ledger?status=shortfall", "/training/ledger?page=100000",
    "/training/annual?year=2025",
    "/reviews?year=2025", "/reviews?page=100000", "/reminders?page=100000", "/audit?page=100000",
    "/exams/1?page=100000", "/exams/1?q=人员0001", "/cases?year=2025", "/cases?verdict=not_ok",
    "/cases?verdict=ok&page=100000", "/cases?reason=expired", "/cases?q=罚", "/public/officers?page=100000",
    "/officers?q=人员0001",
]


def sample_photo() -> bytes:
    """A real JPEG of about 60 KB (noise compresses badly), the size of an ID photo scan."""
    import io

    from PIL import Image

    rng = random.Random(5)
    img = Image.frombytes("RGB", (240, 320), rng.randbytes(240 * 320 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def add_photos(db, n_officers: int, fraction: float) -> int:
    """A photo for `fraction` of the officers (a random sample), in officer_photo."""
    from sqlalchemy import insert

    from app.models.officers import OfficerPhoto

    ids = sorted(random.Random(13).sample(range(1, n_officers + 1), round(n_officers * fraction)))
    data, now = sample_photo(), datetime(2026, 1, 1)
    for i in range(0, len(ids), 500):
        db.session.execute(insert(OfficerPhoto), [
            {"officer_id": oid, "mime": "image/jpeg", "data": data, "updated_at": now} for oid in ids[i:i + 500]])
    return len(ids)


def build(db, n_officers: int, photos: float = 0.0) -> dict[str, int]:
    """bench_flags' officers, certificates and attendance, plus event history, exams and reviews;
    a photo for the fraction `photos` of the officers. (Bulk inserts of rows where some values are
    None pass render_nulls: else the ORM splits the batch wherever the None columns change, one
    statement per case when every other case has no 立案日期.)"""
    from bench_flags import build as build_core
    from sqlalchemy import insert, select

    from app.models.certificates import AnnualReview, Certificate, CertificateEvent
    from app.models.exams import Exam, ExamResult
    from app.rules.hours import refresh_hours

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
    db.session.execute(insert(CertificateEvent).execution_options(render_nulls=True), events)
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
    db.session.execute(insert(ExamResult).execution_options(render_nulls=True), results)
    db.session.execute(insert(AnnualReview), [
        {"certificate_id": cid, "year": 2025, "result": "pass", "reviewed_on": date(2026, 3, 1), "note": "",
         **stamps} for cid, _i, _s in certs[: len(certs) // 3]])
    cases = build_cases(db, rng, list(db.session.scalars(select(Certificate.number).order_by(Certificate.id))),
                        n_officers)
    refresh_hours(db.session)  # the bulk inserts above bypass the ORM flush hooks
    from app.rules.verdicts import refresh_verdicts

    refresh_verdicts(db.session, everything=True)
    n_photos = add_photos(db, n_officers, photos) if photos else 0
    audit = add_audit(db)
    db.session.commit()
    return {**sizes, "events": len(events), "exam_results": len(results), "cases": cases, "photos": n_photos,
            "audit": audit}


def add_audit(db) -> int:
    """The audit rows the data set's creation would have left: one per officer, certificate and
    case created (an import by a user of the whole organisation), in INSERT … SELECTs."""
    from sqlalchemy import insert, literal, select

    from app.models.audit import AuditEvent

    a = AuditEvent.__table__
    meta = db.Model.metadata
    now = datetime(2026, 1, 1)
    cols = ["at", "actor", "action", "entity_type", "entity_id", "summary", "ip", "created_at", "updated_at"]
    for table in ("officer", "certificate", "penalty_case"):
        t = meta.tables[table]
        kind = "case" if table == "penalty_case" else table
        db.session.execute(insert(a).from_select(cols, select(
            literal(now), literal("bench"), literal("import"), literal(kind), t.c.id, literal(f"导入{kind}"),
            literal(""), literal(now), literal(now))))
    if "subject_unit_id" in a.c:
        from app.audit.services import refresh_subjects

        refresh_subjects(db.session)
    return db.session.execute(select(db.func.count()).select_from(a)).scalar()


def build_cases(db, rng: random.Random, numbers: list[str], n: int) -> int:
    """`n` penalty cases decided in 2025–2026, each naming two or three certificate numbers (now
    and then an unknown one), half with a 立案日期 (the art. 42 case check at city scale)."""
    from sqlalchemy import insert

    from app.models.cases import CaseCertificate, PenaltyCase

    now = datetime(2026, 1, 1)
    cases, links = [], []
    for i in range(1, n + 1):
        decided = date(2025, 1, 1) + timedelta(days=rng.randint(0, 530))
        cases.append({"id": i, "case_no": f"罚〔{decided.year}〕{i}号", "title": f"案件{i}",
                      "unit": f"单位{i % 50:04d}",
                      "decided_on": decided, "officer_names": "", "outcome": "",
                      "opened_on": decided - timedelta(days=rng.randint(5, 90)) if i % 2 else None,
                      "created_at": now, "updated_at": now})
        picked = rng.sample(numbers, rng.choice([2, 2, 2, 3])) + (["X-未知"] if i % 97 == 0 else [])
        links += [{"case_id": i, "position": p, "number": num} for p, num in enumerate(picked)]
    db.session.execute(insert(PenaltyCase).execution_options(render_nulls=True), cases)
    db.session.execute(insert(CaseCertificate), links)
    return len(cases)


TICK = os.sysconf("SC_CLK_TCK")
ONLY: re.Pattern | None = None
# Bump when build() (or bench_flags.build) writes different data: cached data sets are keyed on it.
GENERATOR = 1
BARE_COUNT = "SELECT count(*) FROM officer JOIN certificate ON certificate.officer_id = officer.id"
TARGET_MS, TARGET_STATEMENTS = 100, 12
TARGET_RATIO = {"SQLite": 8, "PostgreSQL": 3}
RATIO_FROM = 100_000  # the ratio is held from province scale up: below, a page's fixed costs dominate


def _proc_stats() -> dict[int, tuple[int, float]]:
    """{pid: (parent pid, CPU seconds user+system)} of every process, from /proc."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(d.name)] = (int(f[1]), (int(f[11]) + int(f[12])) / TICK)
    return out


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its live descendants (a gunicorn master and its
    workers; a postmaster and its backends)."""
    stats = _proc_stats()
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _cpu) in stats.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo += kids.get(pid, [])
    return total


def _run_ns(pid: int) -> int:
    """Nanoseconds `pid` has run on a CPU (/proc/PID/schedstat: exact, unlike /proc/PID/stat's
    10 ms ticks, which would round a 5 ms statement to 0 or 10)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class Counter:
    """SQL statements, the time spent inside the driver's execute (the database's work plus the
    round trip, as the app waits for it) and, on PostgreSQL, the server backends' CPU (from /proc:
    what the database itself spent, whatever else the machine is doing)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.n, self.exec_s, self.pids, self._t0 = 0, 0.0, set(), 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._connect)
            engine.dispose()  # new connections, so every backend's pid is known

    def _before(self, *_a, **_k):
        self.n += 1
        self._t0 = time.perf_counter()

    def _after(self, *_a, **_k):
        self.exec_s += time.perf_counter() - self._t0

    def _connect(self, dbapi_conn, _rec):
        cur = dbapi_conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        self.pids.add(cur.fetchone()[0])
        cur.close()
        dbapi_conn.rollback()

    def server_cpu(self) -> float:
        """CPU seconds the app's PostgreSQL backends have used so far (0 on SQLite)."""
        return sum(_run_ns(pid) for pid in self.pids) / 1e9


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def urls(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(page, url) of every GET page: `page` names the row of the table (the rule with its
    parameters, `/officers/<officer_id>`, so that the scoped run's own sample ids share the row)."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS or rule.rule.endswith(DOWNLOAD_SUFFIXES):
            continue
        if rule.arguments - ids.keys():
            continue
        url = rule.build({k: ids[k] for k in rule.arguments})[1]
        out.append((re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule) if rule.arguments else url, url))
    out += [(v, v) for v in VARIANTS]
    return [(p, u) for p, u in out if ONLY is None or ONLY.search(u)]


def scope_tree(db) -> int:
    """For --scoped: the units as a tree (the first the root, each next one under unit (i-2)//5 + 1:
    five children each) and a branch of it — the second unit's, about a fifth of the units and
    their officers — for the scoped user. Returns that unit's id."""
    from sqlalchemy import select, update

    from app.models.officers import Unit

    ids = sorted(db.session.scalars(select(Unit.id)))
    for i, uid in enumerate(ids[1:], start=2):
        db.session.execute(update(Unit.__table__).where(Unit.__table__.c.id == uid)
                           .values(parent_id=ids[(i - 2) // 5]))
    db.session.commit()
    return ids[1]


def run_pages(app, db, runs: int, label: str, scoped: bool = False) -> tuple[list[dict], dict]:
    from sqlalchemy import func, select

    from app.models.cases import PenaltyCase
    from app.models.certificates import Certificate
    from app.models.exams import Exam
    from app.models.imports import ImportBatch
    from app.models.officers import Unit
    from app.models.training import TrainingSession

    with app.app_context():
        from app.auth.services import create_user
        from app.models.auth import User

        name = "bench_scoped" if scoped else "bench"
        user = db.session.scalar(select(User).where(User.username == name))
        if user is None:
            user, _ = create_user(name, "admin", "bench-password-123")
            db.session.commit()
        if scoped:
            user.unit_id = scope_tree(db)
            db.session.commit()
            from app.models.officers import Officer

            first = db.session.scalar(select(func.min(Officer.id)).where(Officer.unit_id == user.unit_id))
        case_id = db.session.scalar(select(func.min(PenaltyCase.id)))
        if scoped and "case_unit" in db.metadata.tables:  # a case of the branch, not one it may not see
            cu = db.metadata.tables["case_unit"]
            case_id = db.session.scalar(select(func.min(cu.c.case_id)).where(cu.c.unit_id == user.unit_id)) or case_id
        ids = {"officer_id": first if scoped else 1,
               "cert_id": db.session.scalar(select(func.min(Certificate.id)).where(
                   Certificate.officer_id == (first if scoped else 1))),
               "session_id": db.session.scalar(select(func.min(TrainingSession.id))),
               "exam_id": db.session.scalar(select(func.min(Exam.id))),
               "unit_id": user.unit_id if scoped else db.session.scalar(select(func.min(Unit.id))),
               "user_id": user.id, "case_id": case_id,
               "batch_id": db.session.scalar(select(func.min(ImportBatch.id))), "kind": "officers"}
        ids = {k: v for k, v in ids.items() if v is not None}
        _bench_settings(db)
        own = _officer_account(db)
        counter = Counter(db.engine)
        db.session.remove()
    client = app.test_client()
    resp = client.post("/login", data={"username": name, "password": "bench-password-123"})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"], "bench login failed"
    # the /me pages are an officer's own (role "officer"): requested as one
    officer_client = app.test_client()
    resp = officer_client.post("/login", data={"username": own, "password": "bench-password-123"})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"], "bench officer login failed"
    bare = bare_count(app, db, counter, runs)
    print(f"[{label}] bare count of the officer–certificate join: cost p50 {bare['cost50']:.1f} ms "
          f"(cpu {bare['cpu50']:.1f}, server {bare['server50']:.1f})", flush=True)
    results = []
    for page, url in urls(app, ids):
        client_ = officer_client if url == "/me" or url.startswith("/me/") else client
        resp = client_.get(url)  # warm-up (template compile, caches)
        cpu, wall, stmts, execs, server = [], [], [], [], []
        for _ in range(runs):
            s0 = counter.server_cpu()
            n0, e0, c0, w0 = counter.n, counter.exec_s, time.process_time(), time.perf_counter()
            resp = client_.get(url)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            server.append((counter.server_cpu() - s0) * 1000)
            stmts.append(counter.n - n0)
            execs.append((counter.exec_s - e0) * 1000)
        cost = [c + sv for c, sv in zip(cpu, server, strict=True)]  # app + server (server 0 on SQLite)
        r = {"page": page, "url": url, "status": resp.status_code, "kb": len(resp.data) / 1024,
             "cpu50": statistics.median(cpu), "cpu95": pct(cpu, 0.95),
             "wall50": statistics.median(wall), "wall95": pct(wall, 0.95), "stmts": max(stmts),
             "exec50": statistics.median(execs), "server": statistics.median(server) if counter.pids else None,
             "cost50": statistics.median(cost), "cost95": pct(cost, 0.95)}
        extra = f"  db exec {r['exec50']:6.1f} ms" + (f"  PG CPU {r['server']:6.1f} ms" if counter.pids else "")
        print(f"[{label}] {url:<45} {r['status']} cost {r['cost50']:6.1f}/{r['cost95']:6.1f} ms  "
              f"cpu {r['cpu50']:6.1f}/{r['cpu95']:6.1f}  wall {r['wall50']:6.1f}/{r['wall95']:6.1f}{extra}  "
              f"stmts {r['stmts']:2d}  ×{r['cost50'] / bare['cost50']:5.1f}  {r['kb']:.0f} KB", flush=True)
        results.append(r)
    after = bare_count(app, db, counter, runs)  # again at the end: the machine's load drifts
    bare = _merge_bare(bare, after)
    print(f"[{label}] bare count again: cost p50 {after['cost50']:.1f} ms; used: {bare['cost50']:.1f} ms",
          flush=True)
    with app.app_context():
        officers = db.session.execute(db.text("SELECT count(*) FROM officer")).scalar()
        db.session.remove()
    for r in results:
        r["ratio"] = r["cost50"] / bare["cost50"] if bare["cost50"] else float("inf")
        r["officers"] = officers
    return results, bare


def _bench_settings(db) -> None:
    """Settings that make every page answer: the public list switched on."""
    from app.settings.services import get, set_value

    if get("public_list_enabled") is not True:
        set_value("public_list_enabled", "是")
        db.session.commit()


def _officer_account(db) -> str:
    """An officer's own account (role "officer") for the /me pages: the first active officer."""
    from sqlalchemy import func, select

    from app.me.accounts import OFFICER_ROLE
    from app.models.auth import User
    from app.models.officers import Officer

    name = "bench_officer"
    if db.session.scalar(select(User.id).where(User.username == name)) is None:
        officer = db.session.scalar(select(func.min(Officer.id)).where(Officer.employment_status == "active"))
        user = User(username=name, role=OFFICER_ROLE, officer_id=officer, display_name="bench")
        user.set_password("bench-password-123")
        db.session.add(user)
        db.session.commit()
    return name


def bare_count(app, db, counter: Counter, runs: int) -> dict:
    """The yardstick: the bare count of the officer–certificate join, measured as the pages are
    (app CPU, + the server backend's CPU on PostgreSQL), `max(runs, 5)` times after a warm-up."""
    from sqlalchemy import text

    cpu, server = [], []
    with app.app_context():
        db.session.execute(text(BARE_COUNT)).scalar()  # warm-up (pages in cache, plan)
        for _ in range(max(runs, 5)):
            s0, c0 = counter.server_cpu(), time.process_time()
            db.session.execute(text(BARE_COUNT)).scalar()
            cpu.append((time.process_time() - c0) * 1000)
            server.append((counter.server_cpu() - s0) * 1000)
        db.session.remove()
    return _merge_bare({"cpu": [], "server": []}, {"cpu": cpu, "server": server})


def _merge_bare(a: dict, b: dict) -> dict:
    cpu, server = a["cpu"] + b["cpu"], a["server"] + b["server"]
    cost = [c + s for c, s in zip(cpu, server, strict=True)]
    return {"cpu": cpu, "server": server, "cpu50": statistics.median(cpu), "server50": statistics.median(server),
            "cost50": statistics.median(cost), "cost95": pct(cost, 0.95)}


def make_app(url: str):
    import logging

    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench"
        WTF_CSRF_ENABLED = False

    app = create_app(BenchConfig)
    logging.getLogger("certmgr.request").setLevel(logging.WARNING)  # one line per request: noise here
    return app


class Stale(Exception):
    """The data set cannot be brought up to the models in place (rebuild it)."""


def data_key(n: int, photos: float) -> str:
    """What a data set holds, as written in its stamp: the generator's version and the size."""
    return f"g{GENERATOR} officers={n} photos={photos:g}"


def _read_stamp(db, marker: Path | None) -> str | None:
    """'<data_key> schema=<key>' of the data set, from its marker file (SQLite) or from the
    comment on the officer table (PostgreSQL); None when it has none (an older bench's)."""
    if marker is not None:
        text = marker.read_text().strip() if marker.exists() else ""
    elif db.engine.dialect.name == "postgresql":
        text = db.session.execute(db.text("SELECT obj_description('officer'::regclass, 'pg_class')")).scalar() or ""
    else:
        text = ""
    return text if text.startswith("g") and " schema=" in text else None


def _write_stamp(db, marker: Path | None, stamp: str) -> None:
    if marker is not None:
        marker.write_text(stamp)
    elif db.engine.dialect.name == "postgresql":
        db.session.execute(db.text(f"COMMENT ON TABLE officer IS '{stamp}'"))
        db.session.commit()


def upgrade(app, db) -> list[str]:
    """Bring a data set built under older models up to the current ones, in place: new columns
    added (`ALTER TABLE … ADD COLUMN` with the column's default), new tables and indexes created
    (`db.create_all()`, then each missing index), then every derived-state check that takes --fix
    (`flask check … --fix`: stored flags, case verdicts, …) run with it, so the app's own code fills
    what the new tables and columns derive. Returns what was done. Raises Stale for a column that
    cannot be added so (NOT NULL without a default)."""
    from sqlalchemy import inspect, literal
    from sqlalchemy.schema import CreateColumn

    done = []
    insp = inspect(db.engine)
    existing = set(insp.get_table_names())
    # the new tables first: a write logs itself in one of them (app/training/memo.py data_change),
    # an ALTER TABLE included
    db.create_all()
    for table in db.metadata.sorted_tables:
        if table.name not in existing:
            continue
        have = {c["name"] for c in insp.get_columns(table.name)}
        for col in table.columns:
            if col.name in have:
                continue
            ddl = str(CreateColumn(col).compile(dialect=db.engine.dialect))
            default = col.default.arg if col.default is not None and col.default.is_scalar else None
            if col.server_default is None and default is not None:
                ddl += " DEFAULT " + str(literal(default).compile(dialect=db.engine.dialect,
                                                                  compile_kwargs={"literal_binds": True}))
            try:
                db.session.execute(db.text(f'ALTER TABLE "{table.name}" ADD COLUMN {ddl}'))
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                raise Stale(f"{table.name}.{col.name}: {exc}") from exc
            done.append(f"column {table.name}.{col.name}")
    db.create_all()
    done += [f"table {t}" for t in sorted(set(db.metadata.tables) - existing)]
    insp = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        names = {i["name"] for i in insp.get_indexes(table.name)} | {
            u["name"] for u in insp.get_unique_constraints(table.name)}
        for index in table.indexes:
            if index.name and index.name not in names:
                index.create(db.engine)
                done.append(f"index {index.name}")
    runner = app.test_cli_runner()
    checks = app.cli.commands.get("check")
    for name, command in sorted(getattr(checks, "commands", {}).items()):
        if not any(p.name == "fix" for p in command.params):
            continue
        t0 = time.perf_counter()
        result = runner.invoke(args=["check", name, "--fix"])
        last = (result.output.strip().splitlines() or [""])[-1]
        print(f"  flask check {name} --fix: exit {result.exit_code} in {time.perf_counter() - t0:.0f} s: {last}",
              flush=True)
        if result.exit_code != 0:
            raise Stale(f"flask check {name} --fix failed: {result.output[-2000:]}")
        done.append(f"check {name} --fix")
    return done


def prepare(url: str, n: int, marker: Path | None = None, photos: float = 0.0, own: bool = True) -> object:
    """The app on `url`'s data set of `n` officers: built when empty (or, `own`, when it holds
    another data set or cannot be upgraded), else upgraded in place when the models changed since
    (upgrade()). `marker`: the SQLite file's marker (its stamp); None on PostgreSQL (the stamp is
    the officer table's comment). `own`: a data set this script may rebuild (a cache file or a
    throw-away cluster), not a database named by the user (--pg-url: refused with a message)."""
    from sqlalchemy import inspect

    from app.extensions import db

    app = make_app(url)
    schema, want = _schema_key(), data_key(n, photos)
    with app.app_context():
        filled = inspect(db.engine).has_table("officer") and db.session.execute(
            db.text("SELECT 1 FROM officer LIMIT 1")).first() is not None
        stamp = _read_stamp(db, marker) if filled else None
        rebuild = not filled
        if filled and stamp is None:  # built by an older bench_pages (or a copy of a shared set)
            count = db.session.execute(db.text("SELECT count(*) FROM officer")).scalar()
            if count != n:
                if not own:
                    raise SystemExit(f"{url} holds {count} officers, not {n}: name another database")
                rebuild = True
            stamp = f"{want} schema=unknown"
        elif filled and not stamp.startswith(want + " "):
            if not own:
                raise SystemExit(f"{url} holds another data set ({stamp.split(' schema=')[0]}; "
                                 f"asked: {want}): name another database")
            rebuild = True
        changed = rebuild
        if not rebuild and stamp != f"{want} schema={schema}":
            t0 = time.perf_counter()
            print(f"the models changed since the data set was built ({stamp.split(' schema=')[1]} → {schema}): "
                  "upgrading it in place", flush=True)
            try:
                done = upgrade(app, db)
                print(f"upgraded in {time.perf_counter() - t0:.0f} s: {', '.join(done) or 'nothing to do'}",
                      flush=True)
                changed = True
            except Stale as exc:
                if not own:
                    raise SystemExit(f"cannot upgrade {url} in place ({exc}): name another database") from exc
                print(f"cannot upgrade in place ({exc}): rebuilding", flush=True)
                rebuild = True
        if rebuild:
            db.session.remove()
            db.drop_all()
            db.create_all()
            t0 = time.perf_counter()
            sizes = build(db, n, photos)
            print(f"built {sizes} in {time.perf_counter() - t0:.0f} s", flush=True)
        if changed:
            if db.engine.dialect.name == "postgresql":
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            _write_stamp(db, marker, f"{want} schema={schema}")
        db.session.remove()
    from app.warmup import settle

    settle(app)  # what each gunicorn worker does once its app is loaded (deploy/gunicorn.conf.py)
    app.config["BENCH_DATA_CHANGED"] = changed
    return app


# ---------------------------------------------------------------- a throw-away cluster, cached

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")
                                                                          if x.isdigit()])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_ctl(cluster: Path, *args: str, port: int | None = None) -> None:
    """pg_ctl as the postgres user (it refuses root), with scripts/pg.sh's server options."""
    opts = ["-o", f"-c listen_addresses=127.0.0.1 -p {port} -c fsync=off -c full_page_writes=off "
                  f"-c synchronous_commit=off -k {cluster}"] if port else []
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN[-1] / "pg_ctl"), "-D", str(cluster / "data"),
                    "-l", str(cluster / "log"), "-w", *opts, *args], check=True, cwd="/",
                   stdout=subprocess.DEVNULL)


def cluster_template(cache: Path, n: int, photos: float) -> Path:
    photo = f"-photos{photos:g}" if photos else ""
    return cache / f"pg-{n}{photo}-g{GENERATOR}"


def start_cluster(template: Path) -> dict[str, str]:
    """A throw-away PostgreSQL cluster ({"dir", "url", "port"}; stop it with `scripts/pg.sh stop
    DIR`): a copy of `template`'s data directory when a built one is kept there, else a new empty
    one from scripts/pg.sh."""
    if not (template / "data" / "PG_VERSION").exists():
        env = subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "start"], capture_output=True, text=True,
                             check=True).stdout
        pg = dict(line.removeprefix("export ").split("=", 1) for line in env.split("\n") if line.startswith("export "))
        port = pg["PGTEST_URL"].rsplit(":", 1)[1].split("/")[0]
        return {"dir": pg["PGTEST_DIR"], "url": pg["PGTEST_URL"], "port": port}
    import tempfile

    t0 = time.perf_counter()
    cluster = Path(tempfile.mkdtemp(prefix="pgtest.", dir="/tmp"))
    subprocess.run(["cp", "-a", str(template / "data"), str(cluster / "data")], check=True)
    subprocess.run(["chown", "-R", "postgres:postgres", str(cluster)], check=True)
    (cluster / "data" / "postmaster.pid").unlink(missing_ok=True)
    port = _free_port()
    _pg_ctl(cluster, "start", port=port)
    print(f"PostgreSQL from the kept data set {template} in {time.perf_counter() - t0:.0f} s", flush=True)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/certmgr_test"
    return {"dir": str(cluster), "url": url, "port": str(port)}


def keep_cluster(pg: dict[str, str], template: Path) -> None:
    """Copy the (just built or upgraded) cluster's data directory to `template`, for the next run:
    the server is stopped cleanly for the copy and started again on the same port."""
    cluster = Path(pg["dir"])
    _pg_ctl(cluster, "stop", "-m", "fast")
    tmp = template.with_name(template.name + ".tmp")
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    tmp.mkdir(parents=True)
    subprocess.run(["cp", "-a", str(cluster / "data"), str(tmp / "data")], check=True)
    subprocess.run(["rm", "-rf", str(template)], check=True)
    tmp.rename(template)
    _pg_ctl(cluster, "start", port=int(pg["port"]))
    print(f"kept the data set in {template} for the next run", flush=True)


def stop_cluster(pg: dict[str, str]) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "stop", pg["dir"]], check=False)


def _client_loop(base: str, path: str, stop: float, done: list[int]) -> None:
    """One logged-in client requesting `path` until `stop`; appends how many it got."""
    import http.cookiejar
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


def gunicorn_rps(url: str, postmaster: int, seconds: int = 10) -> dict[str, tuple[float, float]]:
    """{path: (measured requests/s, CPU-bound capacity)} of / and /flags under gunicorn
    (deploy/gunicorn.conf.py, 2 workers) against `url`'s database. Measured: what 4 client threads
    got on this machine as it is.
    Capacity: 2 cores / (gunicorn's CPU + PostgreSQL's CPU per request, read from /proc over the
    run) — the rate the two cores would give if nothing else ran on them."""
    import socket
    import threading
    import urllib.request

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-gunicorn"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                             "-w", "2", "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
            t0, c0 = time.perf_counter(), tree_cpu(proc.pid) + tree_cpu(postmaster)
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            n = sum(done)
            cpu = tree_cpu(proc.pid) + tree_cpu(postmaster) - c0
            out[path] = (n / (time.perf_counter() - t0), 2 * n / cpu if cpu else 0.0)
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def _rps_text(rps: dict[str, tuple[float, float]]) -> str:
    return ("\n\ngunicorn, 2 workers, PostgreSQL, 4 client threads — measured on this machine / "
            "CPU-bound capacity (2 cores ÷ CPU per request of gunicorn + PostgreSQL): " + ", ".join(
                f"`{p}` {m:.1f} / {c:.1f} req/s" for p, (m, c) in rps.items()))


def _kind(lb: str) -> str:
    return "PostgreSQL" if lb.startswith("PostgreSQL") else "SQLite"


def misses(lb: str, r: dict) -> list[str]:
    """What the page misses of the targets: CPU p95 (app on SQLite, app + server on PostgreSQL —
    what a request costs the machine, which a shared, loaded machine does not inflate the way it
    inflates wall time) ≤ 100 ms; ≤ 12 statements; p50 within 8× (SQLite) / 3× (PostgreSQL) the
    bare count of the officer–certificate join."""
    out = []
    if r["cost95"] > TARGET_MS:
        out.append("ms")
    if r["stmts"] > TARGET_STATEMENTS:
        out.append("stmts")
    if r["ratio"] > TARGET_RATIO[_kind(lb)] and r.get("officers", RATIO_FROM) >= RATIO_FROM:
        out.append("ratio")
    return out


def table(res: dict[str, list[dict]], bare: dict[str, dict]) -> str:
    """The README's table: per page and per run (database × whole/scoped) CPU p50/p95 ms, the
    statements and the ratio to the bare count, a cell over its target marked ✗."""
    labels = list(res)
    head = ["page"] + [c for lb in labels for c in (f"{lb} ms p50/p95", "stmts", "× count")]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "--:|" * (len(head) - 1)]
    by_url = {lb: {r["page"]: r for r in rs} for lb, rs in res.items()}
    for url in dict.fromkeys(r["page"] for rs in res.values() for r in rs):
        cells = []
        for lb in labels:
            r = by_url[lb].get(url)
            if r is None:
                cells += ["", "", ""]
                continue
            miss = misses(lb, r)
            mark = {k: " ✗" if k in miss else "" for k in ("ms", "stmts", "ratio")}
            status = f"{r['status']}: " if r["status"] >= 400 else ""  # an error page: not the page's cost
            cells += [f"{status}{r['cost50']:.0f} / {r['cost95']:.0f}{mark['ms']}", f"{r['stmts']}{mark['stmts']}",
                      f"{r['ratio']:.1f}{mark['ratio']}"]
        lines.append(f"| `{url}` | " + " | ".join(cells) + " |")
    lines.append("| *bare count of officer ⋈ certificate* | " + " | ".join(
        f"{bare[lb]['cost50']:.1f} / {bare[lb]['cost95']:.1f} | 1 | 1.0" for lb in labels) + " |")
    return "\n".join(lines)


def _schema_key() -> str:
    import hashlib

    from app import models  # noqa: F401  (every model registered on db.metadata)
    from app.extensions import db

    shape = sorted((t.name, sorted(c.name for c in t.columns), sorted(i.name or "" for i in t.indexes))
                   for t in db.metadata.tables.values())
    return hashlib.sha1(repr(shape).encode()).hexdigest()[:10]


def run_pg(app, args, res: dict, bare: dict, postmaster: int) -> str:
    from app.extensions import db

    for scoped in (False, True) if args.scoped else (False,):
        lb = "PostgreSQL scoped" if scoped else "PostgreSQL"
        res[lb], bare[lb] = run_pages(app, db, args.runs, lb.replace("PostgreSQL", "pg"), scoped=scoped)
    return _rps_text(gunicorn_rps(app.config["SQLALCHEMY_DATABASE_URI"], postmaster)) if args.gunicorn else ""


def _postmaster(app) -> int:
    from app.extensions import db

    with app.app_context():  # the postmaster: a backend's parent
        backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    return _proc_stats()[backend][0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--db", default="sqlite,pg")
    ap.add_argument("--cache", default="/tmp/bench_pages",
                    help="where the built data sets are kept (SQLite files, PostgreSQL data directories)")
    ap.add_argument("--sqlite-file", help="this SQLite data set (e.g. a copy of a shared one) instead of the cache's; "
                                          "upgraded in place when the models changed")
    ap.add_argument("--gunicorn", action="store_true", help="also requests/s of / and /flags (gunicorn, 2 workers, PG)")
    ap.add_argument("--scoped", action="store_true",
                    help="also as an admin limited to a branch of the unit tree (about a fifth of the units)")
    ap.add_argument("--only", help="only the pages whose URL matches this regular expression")
    ap.add_argument("--pg-url", help="an existing PostgreSQL database to use instead of a throw-away cluster; "
                                     "built once when empty, upgraded in place when the models changed")
    ap.add_argument("--photos", type=float, default=0.0, metavar="FRACTION",
                    help="the fraction of officers with a photo (a 60 KB JPEG; certificates print one "
                         "for every officer) when the data set is built (default 0)")
    ap.add_argument("--no-keep", action="store_true",
                    help="PostgreSQL without --pg-url: do not keep the built cluster for the next run")
    args = ap.parse_args()
    if not 0 <= args.photos <= 1:
        ap.error("--photos takes a fraction between 0 and 1")
    global ONLY
    ONLY = re.compile(args.only) if args.only else None
    res: dict[str, list[dict]] = {}
    bare: dict[str, dict] = {}
    extra = ""
    cache = Path(args.cache)
    if "sqlite" in args.db:
        from app.extensions import db

        if args.sqlite_file:
            db_file = Path(args.sqlite_file)
        else:
            cache.mkdir(parents=True, exist_ok=True)
            photos = f"-photos{args.photos:g}" if args.photos else ""
            db_file = cache / f"bench-{args.officers}{photos}-g{GENERATOR}.db"
        marker = db_file.with_suffix(".ok")
        if not args.sqlite_file and not marker.exists() and db_file.exists():
            db_file.unlink()  # a build that did not finish
        app = prepare(f"sqlite:///{db_file}", args.officers, marker, photos=args.photos)
        for scoped in (False, True) if args.scoped else (False,):
            lb = "SQLite scoped" if scoped else "SQLite"
            res[lb], bare[lb] = run_pages(app, db, args.runs, lb.lower(), scoped=scoped)
    if "pg" in args.db and args.pg_url:
        app = prepare(args.pg_url, args.officers, None, photos=args.photos, own=False)
        extra = run_pg(app, args, res, bare, _postmaster(app))
    elif "pg" in args.db:
        template = cluster_template(cache, args.officers, args.photos)
        pg = start_cluster(template)
        try:
            app = prepare(pg["url"], args.officers, None, photos=args.photos)
            if app.config["BENCH_DATA_CHANGED"] and not args.no_keep:
                keep_cluster(pg, template)
            extra = run_pg(app, args, res, bare, _postmaster(app))
        finally:
            stop_cluster(pg)
    print()
    print(f"{args.officers:,} officers; {datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} CPUs "
          f"{Path('/proc/cpuinfo').read_text().split('model name')[1].split(':')[1].splitlines()[0].strip()}; "
          f"{args.runs} runs a page; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("ms: CPU per request (SQLite: the app's; PostgreSQL: the app's + the server's), p50 / p95; "
          "× count: p50 ÷ the bare count's p50 in the same run; ✗: over target (p95 ≤ 100 ms, ≤ 12 statements, "
          "≤ 8× SQLite / ≤ 3× PostgreSQL from 100,000 officers)\n")
    print(table(res, bare) + extra)
    over = [f"{r['url']} ({lb}: {', '.join(misses(lb, r))})" for lb, rs in res.items() for r in rs if misses(lb, r)]
    errors = [f"{r['url']} ({lb}: {r['status']})" for lb, rs in res.items() for r in rs if r["status"] >= 400]
    total = sum(len(rs) for rs in res.values())
    print(f"\nover target: {len(over)} of {total}" + (": " + "; ".join(over) if over else ""))
    if errors:
        print("answered an error: " + "; ".join(errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
