"""The load benchmark's pieces around `locust` (scripts/bench_load.sh runs the whole thing):

    .venv/bin/python scripts/bench_load.py cluster [--officers 200000] [--cache /tmp/bench_pages]
        starts a throw-away PostgreSQL cluster holding bench_pages.py's register (a copy of the one
        kept in the cache; built and kept there the first time) and prints `export PGTEST_DIR=…`
        and `export PGTEST_URL=…` for the shell (stop it with scripts/pg.sh stop DIR);
    .venv/bin/python scripts/bench_load.py prepare URL [--officers 200000] [--users 20]
        the register of bench_pages.py in the database at URL (built when empty, upgraded in place
        when the models changed), the id sequences moved past the bench's explicit ids, and the
        clerks load01 … loadNN (password LOAD_PASSWORD) the simulated users log in as;
    .venv/bin/python scripts/bench_load.py report DIR
        reads what locust left in DIR (requests.jsonl, oneoffs.jsonl, steady from scripts/locustfile.py,
        cpu.txt from bench_load.sh) and prints the figures as Markdown, over the measured window
        (after the last login): per request name and for all page requests count, errors,
        p50/p95/p99/max; requests/s; the
        one-offs (export job, import) from click to result; the CPU per page request of gunicorn +
        its PostgreSQL backends; the verdict against the target (p95 ≤ 300 ms, no errors).

A benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PASSWORD = os.environ.get("LOAD_PASSWORD") or "load-password-123"
TARGET_P95_MS = 300


def cluster(officers: int, cache: str) -> None:
    """A throw-away cluster with the register, its exports printed for the shell."""
    from bench_pages import cluster_template, keep_cluster, prepare, start_cluster, stop_cluster

    template = cluster_template(Path(cache), officers, 0.0)
    with contextlib.redirect_stdout(sys.stderr):  # stdout is for the shell's eval
        pg = start_cluster(template)
        try:
            app = prepare(pg["url"], officers, None)
            if app.config["BENCH_DATA_CHANGED"]:
                keep_cluster(pg, template)
        except BaseException:
            stop_cluster(pg)
            raise
    print(f"export PGTEST_DIR={pg['dir']}")
    print(f"export PGTEST_URL={pg['url']}")


def prepare(url: str, officers: int, users: int) -> None:
    from bench_pages import prepare as build
    from sqlalchemy import Integer, select

    from app.auth.services import create_user
    from app.extensions import db
    from app.models.auth import User

    app = build(url, officers, None, own=False)
    with app.app_context():
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
              f"{users} users load01…load{users:02d}", file=sys.stderr)


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


def _pct(values: list[float], q: float) -> float:
    """The q-quantile, nearest rank (as locust reports)."""
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, int(-(-q * len(values) // 1)) - 1))]


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if path.exists() else []


def report(out: str) -> int:
    out_dir = Path(out)
    reqs = _read(out_dir / "requests.jsonl")
    oneoffs = _read(out_dir / "oneoffs.jsonl")
    if not reqs:
        print(f"no requests recorded in {out_dir}/requests.jsonl (see {out_dir}/locust.log)")
        return 1
    logins = [r for r in reqs if r["name"] == "/login"]
    steady_file = out_dir / "steady"
    # the measured window: from when the last user had logged in (locustfile.py) to the end
    t0 = float(steady_file.read_text().split()[0]) if steady_file.exists() else \
        max((r["t"] for r in logins), default=min(r["t"] for r in reqs))
    pages = [r for r in reqs if r["name"] != "/login" and r["t"] - r["ms"] / 1000 >= t0]
    early = sum(r["name"] != "/login" and r["t"] - r["ms"] / 1000 < t0 for r in reqs)
    if not pages:
        print(f"no page requests after the logins (see {out_dir}/locust.log)")
        return 1
    meta = {}
    if (out_dir / "meta.json").exists():
        meta = json.loads((out_dir / "meta.json").read_text())
    t_end = max(r["t"] for r in pages)
    span = max(t_end - t0, 1e-9)

    def row(name: str, rs: list[dict]) -> str:
        ms = [r["ms"] for r in rs]
        errors = sum(not r["ok"] for r in rs)
        return (f"| {name} | {len(rs)} | {errors} | {_pct(ms, .5):.0f} | {_pct(ms, .95):.0f} | "
                f"{_pct(ms, .99):.0f} | {max(ms):.0f} |")

    names: dict[str, list[dict]] = {}
    for r in pages:
        names.setdefault(f"{r['type']} `{r['name']}`", []).append(r)
    all_ms = [r["ms"] for r in pages]
    errors = sum(not r["ok"] for r in reqs)
    crashed = 0
    if (out_dir / "load_exceptions.csv").exists():
        import csv

        with open(out_dir / "load_exceptions.csv", encoding="utf-8") as f:
            crashed = sum(int(r["Count"]) for r in csv.DictReader(f))
    p95 = _pct(all_ms, .95)
    print(f"\n{meta.get('users', '?')} users, {meta.get('seconds', '?')} s, "
          f"{meta.get('officers', 0):,} officers; gunicorn {meta.get('workers', '?')} workers × "
          f"{meta.get('threads', '?')} threads + the job worker, PostgreSQL; "
          f"{datetime.fromtimestamp(t_end):%Y-%m-%d %H:%M}; load average {meta.get('load_before', '?')} before, "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} after, {os.cpu_count()} CPUs\n")
    print("| request | count | errors | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name in sorted(names, key=lambda n: -len(names[n])):
        print(row(name, names[name]))
    print(row("**all page requests**", pages))
    print(row("logins (GET + POST; left out above)", logins))
    for what in sorted({o["what"] for o in oneoffs}):
        runs = [o for o in oneoffs if o["what"] == what]
        secs = ", ".join(f"{o['seconds']:.1f}" for o in runs)
        bad = sum(not o["ok"] for o in runs)
        print(f"| one-off: {what} | {len(runs)} | {bad} | whole, s: {secs} | | | |")
    cpu = ""
    marks = [line.split() for line in (out_dir / "cpu.txt").read_text().splitlines()] \
        if (out_dir / "cpu.txt").exists() else []
    if len(marks) == 2 and all(len(m) == 2 for m in marks):
        (c0, w0), (c1, w1) = marks
        n = sum(float(w0) <= r["t"] <= float(w1) for r in pages)
        per = (float(c1) - float(c0)) / max(n, 1)
        cpu = (f"; CPU per page request (gunicorn + its PostgreSQL backends): {per * 1000:.0f} ms — "
               f"the 2 cores alone would serve {2 / per if per else 0:.0f} requests/s")
    print(f"\n{len(pages) / span:.1f} page requests/s over the {span:.0f} s after the logins ({len(pages)} requests"
          f"{f'; {early} made before the last login left out' if early else ''})"
          f"; p50 / p95 / p99 of all page requests {_pct(all_ms, .5):.0f} / {p95:.0f} / {_pct(all_ms, .99):.0f} ms"
          f"; {errors} errors{cpu}")
    ok = p95 <= TARGET_P95_MS and errors == 0 and crashed == 0
    print(f"target (p95 ≤ {TARGET_P95_MS} ms, 0 errors): {'met' if ok else 'NOT met'}")
    failures = out_dir / "load_failures.csv"
    if failures.exists() and errors:
        print("errors (locust):")
        print(failures.read_text(encoding="utf-8").strip())
    if crashed:
        print(f"the simulated users' own code failed {crashed} times (a bug in scripts/locustfile.py, "
              f"not the app's): {out_dir}/load_exceptions.csv")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    k = sub.add_parser("cluster")
    k.add_argument("--officers", type=int, default=200000)
    k.add_argument("--cache", default=os.environ.get("BENCH_CACHE") or "/tmp/bench_pages")
    p = sub.add_parser("prepare")
    p.add_argument("url")
    p.add_argument("--officers", type=int, default=200000)
    p.add_argument("--users", type=int, default=20)
    r = sub.add_parser("report")
    r.add_argument("out")
    c = sub.add_parser("cpu")
    c.add_argument("gunicorn", type=int)
    c.add_argument("database")
    args = ap.parse_args()
    if args.command == "cluster":
        cluster(args.officers, args.cache)
        return 0
    if args.command == "prepare":
        prepare(args.url, args.officers, args.users)
        return 0
    if args.command == "cpu":
        print(f"{cpu_seconds(args.gunicorn, args.database):.2f}")
        return 0
    return report(args.out)


if __name__ == "__main__":
    raise SystemExit(main())
