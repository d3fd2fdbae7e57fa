"""Benchmark of the compliance engine and the flags page at province scale (docs/architecture.md, Cost targets).

Builds a throw-away SQLite database with 20,000 officers and 40,000 certificates (plus, when the
training module is present, 500 sessions and 200,000 attendance rows), then prints, for
compliance.count_by_flag, compliance.list_flags and the /flags page: median and p95 time and the
number of SQL statements per call. Target: ≤ 100 ms p95 and ≤ 12 statements.

    .venv/bin/python scripts/bench_flags.py [--officers 20000] [--runs 15] [--explain] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 6, 15)


def build(db, n_officers: int, n_certs: int, seed: int = 7) -> dict[str, int]:
    from sqlalchemy import insert

    from app.models.certificates import Certificate
    from app.models.officers import Officer, Unit

    rng = random.Random(seed)
    now = datetime(2026, 1, 1)
    stamps = {"created_at": now, "updated_at": now}
    n_units = max(10, n_officers // 100)
    db.session.execute(insert(Unit), [
        {"id": i, "name": f"单位{i:04d}", "kind": "department", "sort_order": i, **stamps}
        for i in range(1, n_units + 1)])

    officers = []
    for i in range(1, n_officers + 1):
        r = rng.random()
        status = "active" if r < 0.92 else rng.choice(["transferred", "retired", "resigned", "dismissed"])
        officers.append({
            "id": i, "name": f"人员{i:05d}", "id_number": f"500108{i:011d}X",
            "gender": "M", "birth_date": date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
            "unit_id": 1 + i % n_units, "position": "科员",
            "establishment": "civil_servant" if rng.random() < 0.93 else rng.choice(
                ["public_institution", "contract", "auxiliary"]),
            "on_enforcement_post": rng.random() < 0.9, "employment_status": status,
            "phone": "", "notes": "", "version": 1, **stamps})
    db.session.execute(insert(Officer), officers)

    certs = []
    cid = 0
    per_officer = [1] * n_officers
    for _ in range(n_certs - n_officers):  # spread the rest: some officers get 2 or 3
        per_officer[rng.randrange(n_officers)] += 1
    for oid, k in enumerate(per_officer, start=1):
        if rng.random() < 0.03:  # a few officers with no certificate at all
            continue
        issued = TODAY - timedelta(days=rng.randint(0, 1800))
        for j in range(k):
            cid += 1
            latest = j == k - 1
            first_issue = issued - timedelta(days=1826 * (k - 1 - j))
            expires = first_issue + timedelta(days=1825)
            status = "valid"
            if not latest:
                status = "replaced"
            elif rng.random() < 0.05:
                status = rng.choice(["suspended", "revoked", "cancelled", "lost", "applying"])
            certs.append({
                "id": cid, "officer_id": oid, "kind": "enforcement" if rng.random() < 0.95 else "supervision",
                "number": f"N{cid:08d}", "issuing_authority": "重庆市人民政府", "issued_on": first_issue,
                "expires_on": expires, "categories": "", "area": "", "status": status, "version": 1, **stamps})
    db.session.execute(insert(Certificate), certs)

    attendance = 0
    try:
        from app.models.training import Attendance, TrainingSession
    except ImportError:
        TrainingSession = None
    if TrainingSession is not None:
        sessions = [{"id": s, "title": f"培训{s}", "category": "general_law",
                     "held_on": date(2025, 1, 1) + timedelta(days=s % 530), "hours": 4.0,
                     "location": "", "organiser": "", "lecturer": "", "notes": "", **stamps}
                    for s in range(1, 501)]
        db.session.execute(insert(TrainingSession), sessions)
        rows = []
        for s in range(1, 501):
            for oid in rng.sample(range(1, n_officers + 1), min(400, n_officers)):
                rows.append({"session_id": s, "officer_id": oid, "status": "attended",
                             "credited_hours": 4.0, **stamps})
        db.session.execute(insert(Attendance), rows)
        attendance = len(rows)
    db.session.commit()
    return {"units": n_units, "officers": n_officers, "certificates": len(certs), "attendance": attendance}


class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n = 0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        self.statements.append(statement)


def measure(label: str, fn, counter: StatementCounter, runs: int) -> dict:
    fn()  # warm-up (caches, first compile)
    times, counts = [], []
    result = None
    for _ in range(runs):
        before = counter.n
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        counts.append(counter.n - before)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    size = len(result) if hasattr(result, "__len__") else ""
    print(f"{label:<46} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
          f"statements {max(counts):3d}   result {size}")
    return {"label": label, "median": statistics.median(times), "p95": p95, "statements": max(counts)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=20000)
    ap.add_argument("--certificates", type=int, default=None, help="default: 2 per officer")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN QUERY PLAN of the flag queries")
    ap.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = ap.parse_args()
    n_certs = args.certificates or 2 * args.officers

    tmp = tempfile.mkdtemp(prefix="bench_flags_")
    db_path = os.path.join(tmp, "bench.db")

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.rules import compliance

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_path}"
        SECRET_KEY = "bench"
        WTF_CSRF_ENABLED = False
        TESTING = True

    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        sizes = build(db, args.officers, n_certs)
        print(f"built {sizes} in {time.perf_counter() - t0:.1f} s at {db_path}")
        from app.auth.services import create_user

        user, _ = create_user("bench", "viewer", "bench-password-123")
        db.session.commit()
        uid = user.id

        counter = StatementCounter(db.engine)
        p = compliance.Params.from_settings(TODAY)
        print(f"today {TODAY}, within {p.within} days, training flag "
              f"{'on' if compliance.training_shortfall(p) is not None else 'off'}\n")
        no_training = dataclasses.replace(p, include_training=False)
        results = [
            measure("count_by_flag", lambda: compliance.count_by_flag(p), counter, args.runs),
            measure("list_flags (all flags)", lambda: compliance.list_flags(p), counter, args.runs),
            measure("list_flags EXPIRING", lambda: compliance.list_flags(p, flags=["EXPIRING"]),
                    counter, args.runs),
            measure("list_flags UNLICENSED, one unit",
                    lambda: compliance.list_flags(p, flags=["UNLICENSED"], unit="单位0007"),
                    counter, args.runs),
            measure("count_by_flag without TRAINING_SHORTFALL",
                    lambda: compliance.count_by_flag(no_training), counter, args.runs),
            measure("list_flags without TRAINING_SHORTFALL",
                    lambda: compliance.list_flags(no_training), counter, args.runs),
            measure("list_flags TRAINING_SHORTFALL only",
                    lambda: compliance.list_flags(p, flags=["TRAINING_SHORTFALL"]), counter, args.runs),
            measure("Params.from_settings", lambda: compliance.Params.from_settings(TODAY), counter,
                    args.runs),
        ]
        if args.explain:
            from sqlalchemy import func, select

            from app.rules.compliance import flags_select

            sub = flags_select(p)
            q = select(sub.c.flag, func.count()).group_by(sub.c.flag)
            sql = str(q.compile(db.engine, compile_kwargs={"literal_binds": True}))
            print("\nEXPLAIN QUERY PLAN count_by_flag:")
            for row in db.session.execute(db.text("EXPLAIN QUERY PLAN " + sql)):
                print("  ", row[-1])
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(uid)
        sess["_fresh"] = True
    import app.reports.routes as report_routes

    report_routes.today = lambda: TODAY
    main_routes = sys.modules.get("app.main.routes")
    if main_routes is not None and hasattr(main_routes, "today"):
        main_routes.today = lambda: TODAY

    print()
    with app.app_context():
        counter = StatementCounter(db.engine)

    def page(url: str):
        def go():
            resp = client.get(url)
            assert resp.status_code == 200, (url, resp.status_code)
            return resp.data
        return go

    for url in ("/flags", "/flags?flag=EXPIRING&within=30", "/flags?flag=UNLICENSED&page=3",
                "/flags?q=人员0001", "/"):
        results.append(measure(f"GET {url}", page(url), counter, args.runs))
    results.append(measure("GET /flags.xlsx?flag=UNLICENSED", page("/flags.xlsx?flag=UNLICENSED"),
                           counter, max(3, args.runs // 3)))

    print("\ntarget: p95 ≤ 100 ms and ≤ 12 statements (docs/architecture.md; xlsx export is a download, not a page)")
    over = [r["label"] for r in results if r["p95"] > 100 or r["statements"] > 12]
    print("over target: " + (", ".join(over) if over else "none"))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
