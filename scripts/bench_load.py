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
    from sqlalchemy import Integer, select

    from app.auth.services import create_user
    from app.extensions import db
    from app.models.auth import User

    app = build(url, officers, None, reuse=True, photos=0.25)
    with app.app_context():
        db.session.execute(db.text("ANALYZE"))
        if db.engine.dialect.name == "postgresql":
            # the bench data is inserted with explicit ids: move each id sequence past them, or
            # the first officer an import adds collides with officer 1
            for table in db.metadata.sorted_tables:
                if "id" in table.c and isinstance(table.c.id.type, Integer):
                    db.session.execute(db.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('\"{table.name}\"', 'id') IS NOT NULL"))
        for i in range(1, users + 1):
            name = f"load{i:02d}"
            if db.session.scalar(select(User).where(User.username == name)) is None:
                create_user(name, "clerk", PASSWORD, display_name=f"压测用户{i}")
        db.session.commit()
        print(f"{db.session.scalar(db.text('SELECT count(*) FROM officer')):,} officers, "
              f"{users} users load01…load{users:02d}")


def cpu_seconds(gunicorn: int, database: str) -> float:
    """CPU seconds used so far by the gunicorn master and its workers and by the PostgreSQL
    backends connected to `database` (from /proc): the cost of the load whatever else runs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid = int(fields[1])
        mine = int(proc.name) == gunicorn or ppid == gunicorn
        backend = cmd.startswith("postgres: ") and f" {database} " in cmd
        if mine or backend:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def logins(prefix: str, pages: bool = False) -> int:
    """From locust's CSV as it stands: how many have logged in (or, `pages`, how many page
    requests besides the logins were made)."""
    try:
        rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    except (OSError, csv.Error):
        return 0
    if pages:
        return sum(int(r["Request Count"]) for r in rows
                   if r["Name"] not in ("Aggregated", "/login"))
    return sum(int(r["Request Count"]) for r in rows if r["Type"] == "POST" and r["Name"] == "/login")


def report(prefix: str) -> int:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"{'page':<34} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    over = []
    rows = [r for r in rows if r["Name"] != "/login"] + [r for r in rows if r["Name"] == "/login"]
    for r in rows:
        name = r["Name"] if r["Name"] != "Aggregated" else "all"
        if name == "all":
            print("-" * 80)
        print(f"{(r['Type'] + ' ' + name)[:34]:<34} {int(r['Request Count']):>8} {int(r['Failure Count']):>6} "
              f"{float(r['Requests/s']):>6.2f} {r['50%']:>7} {r['95%']:>7} {float(r['Max Response Time']):>7.0f}")
        if name not in ("all", "/login") and r["95%"] != "N/A" and float(r["95%"]) > TARGET_P95_MS:
            over.append(f"{name} ({r['95%']} ms)")
    for f in failures:
        print(f"error: {f['Method']} {f['Name']}: {f['Error']} × {f['Occurrences']}")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{float(total['Requests/s']):.1f} requests/s, {int(total['Failure Count'])} errors of "
          f"{int(total['Request Count'])}; load average {load} on {os.cpu_count()} CPUs")
    print(f"p95 over {TARGET_P95_MS} ms: " + (", ".join(over) if over else "none"))
    cpu = Path(f"{prefix}_cpu.txt")
    marks = [line.split() for line in cpu.read_text().splitlines()] if cpu.exists() else []
    if len(marks) == 2 and all(len(m) == 2 for m in marks):
        # bench_load.sh: CPU seconds and page requests once all are logged in, and at the end
        (c0, n0), (c1, n1) = marks
        n = int(n1) - int(n0)
        per = (float(c1) - float(c0)) / max(n, 1)
        print(f"CPU per page request after the logins ({n} requests; gunicorn + its PostgreSQL "
              f"backends): {per * 1000:.0f} ms; the 2 cores alone would serve "
              f"{2 / per if per else 0:.0f} requests/s")
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
    g = sub.add_parser("logins")
    g.add_argument("prefix")
    g.add_argument("--pages", action="store_true")
    c = sub.add_parser("cpu")
    c.add_argument("gunicorn", type=int)
    c.add_argument("database")
    args = ap.parse_args()
    if args.command == "prepare":
        prepare(args.url, args.officers, args.users)
        return 0
    if args.command == "logins":
        print(logins(args.prefix, args.pages))
        return 0
    if args.command == "cpu":
        print(f"{cpu_seconds(args.gunicorn, args.database):.2f}")
        return 0
    return report(args.prefix)


if __name__ == "__main__":
    raise SystemExit(main())
