"""The load benchmark's two ends around `locust` (scripts/bench_load.sh runs the whole thing):

    .venv/bin/python scripts/bench_load.py prepare URL [--officers 20000] [--users 20]
        builds the register of bench_pages.py (20,000 officers, their certificates, attendance,
        exams and cases) into the database at URL unless it is filled already, and creates the
        clerks load01 … loadNN (password LOAD_PASSWORD) the simulated users log in as;
    .venv/bin/python scripts/bench_load.py report PREFIX
        reads locust's PREFIX_stats.csv and prints requests/s, p50/p95 per page and the errors
        against the target (p95 ≤ 300 ms, no errors), with the load average.

A benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PASSWORD = os.environ.get("LOAD_PASSWORD") or "load-password-123"
TARGET_P95_MS = 300


def prepare(url: str, officers: int, users: int) -> None:
    from bench_pages import prepare as build
    from sqlalchemy import select

    from app.auth.models import User
    from app.auth.services import create_user
    from app.extensions import db

    app = build(url, officers, None, reuse=True, photos=0.25)
    with app.app_context():
        db.session.execute(db.text("ANALYZE"))
        for i in range(1, users + 1):
            name = f"load{i:02d}"
            if db.session.scalar(select(User).where(User.username == name)) is None:
                create_user(name, "clerk", PASSWORD, display_name=f"压测用户{i}")
        db.session.commit()
        print(f"{db.session.scalar(db.text('SELECT count(*) FROM officer')):,} officers, "
              f"{users} users load01…load{users:02d}")


def report(prefix: str) -> int:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"{'page':<34} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    over = []
    for r in rows:
        name = r["Name"] if r["Name"] != "Aggregated" else "all"
        if name == "all":
            print("-" * 80)
        print(f"{(r['Type'] + ' ' + name)[:34]:<34} {int(r['Request Count']):>8} {int(r['Failure Count']):>6} "
              f"{float(r['Requests/s']):>6.2f} {r['50%']:>7} {r['95%']:>7} {float(r['Max Response Time']):>7.0f}")
        if name != "all" and r["95%"] != "N/A" and float(r["95%"]) > TARGET_P95_MS:
            over.append(f"{name} ({r['95%']} ms)")
    for f in failures:
        print(f"error: {f['Method']} {f['Name']}: {f['Error']} × {f['Occurrences']}")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{float(total['Requests/s']):.1f} requests/s, {int(total['Failure Count'])} errors of "
          f"{int(total['Request Count'])}; load average {load} on {os.cpu_count()} CPUs")
    print(f"p95 over {TARGET_P95_MS} ms: " + (", ".join(over) if over else "none"))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("url")
    p.add_argument("--officers", type=int, default=20000)
    p.add_argument("--users", type=int, default=20)
    r = sub.add_parser("report")
    r.add_argument("prefix")
    args = ap.parse_args()
    if args.command == "prepare":
        prepare(args.url, args.officers, args.users)
        return 0
    return report(args.prefix)


if __name__ == "__main__":
    raise SystemExit(main())
