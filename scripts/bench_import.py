"""Benchmark the imports on a temporary SQLite DB (or --database-url, e.g. an empty PostgreSQL
database: its tables are dropped and created): each import runs in its own process, which prints
its wall time, CPU time, on PostgreSQL the server backend's CPU (from /proc), peak memory (RSS),
the SQL statements it executed and the load average (wall time on a busy machine overstates).
New, unchanged and changed (every row differs) files; prints figures, not a test.

Targets (docs/architecture.md, Cost targets): 10,000 officers ≤ 5 s; 20,000 certificates ≤ 10 s;
200,000 attendance rows ≤ 30 s and ≤ 400 MB peak.
    .venv/bin/python scripts/bench_import.py [--officers N] [--certificates N] [--attendance N]
        [--database-url URL] [--files DIR (generated .xlsx kept and reused)]
        [--csv (CSV files, imported as `flask import KIND FILE.csv` does: streamed, no row cap)]
    .venv/bin/python scripts/bench_import.py --suite [--database-url URL] [--files DIR]
        (issue 21: 10,000 and 100,000 officers, 200,000 certificates, 1,000,000 attendance rows,
        CSV through the command line; peak memory and time, the 100,000 / 10,000 ratio)
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402
from stdnum.cn import ric  # noqa: E402

TODAY = date(2026, 6, 15)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
UNITS = [f"第{i}社区" for i in range(1, 12)] + ["城市管理科", "综合执法队", "市场监管科", "安全生产科",
                                                "环境保护科", "民政科", "规划建设科"]


def id_numbers(n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    counties = ["500108", "500103", "110105", "310101", "440305", "510107"]
    while len(out) < n:
        birth = date(1965, 1, 1) + timedelta(days=rng.randint(0, 12000))
        body = f"{rng.choice(counties)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        out.add(body + ric.calc_check_digit(body + "0"))
    return sorted(out)


class _Csv:
    """A CSV file written like a sheet (`append` a row), UTF-8 with BOM as Excel saves it."""

    def __init__(self, path: Path):
        import csv

        self.f = path.open("w", encoding="utf-8-sig", newline="")
        self.w = csv.writer(self.f)

    def append(self, row: list) -> None:
        self.w.writerow(["" if v is None else v for v in row])

    def close(self) -> None:
        self.f.close()


class _Book:
    """An .xlsx (openpyxl, like a file saved by Excel: shared strings, a dimension) or a .csv,
    by the path's suffix."""

    def __init__(self, path: Path, *, write_only: bool = False, title: str | None = None):
        self.path = path
        if path.suffix == ".csv":
            self.ws, self.wb = _Csv(path), None
        else:
            self.wb = openpyxl.Workbook(write_only=write_only)
            self.ws = self.wb.create_sheet(title) if write_only else self.wb.active

    def append(self, row: list) -> None:
        self.ws.append(row)

    def save(self) -> None:
        if self.wb is None:
            self.ws.close()
        else:
            self.wb.save(self.path)


def write_officers(path: Path, n: int, seed: int = 1, *, changed: bool = False) -> list[str]:
    """`changed`: the same officers (same ID numbers), each with another position and phone."""
    rng = random.Random(seed)
    ids = id_numbers(n, rng)
    if changed:
        rng = random.Random(seed + 1)
    ws = _Book(path, write_only=path.suffix == ".csv")
    ws.append(["姓名", "身份证号", "单位", "职务", "编制类型", "学历", "执法岗位", "在职状态", "联系电话", "工号"])
    for i, number in enumerate(ids):
        ws.append([rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), number, rng.choice(UNITS),
                   rng.choice(["科员", "队员", "副科长", "科长"]) + ("（调整）" if changed else ""),
                   rng.choice(["行政编制", "行政编制", "事业编制", "合同制"]),
                   rng.choice(["本科", "大专", "研究生"]), rng.choice(["是", "是", "否"]), "在职",
                   f"138{rng.randint(0, 99999999):08d}", f"E{i:06d}"])
    ws.save()
    return ids


def write_certificates(path: Path, ids: list[str], n: int | None = None, *, changed: bool = False) -> None:
    """`changed`: the same certificates (same kinds and numbers), each with another area and expiry."""
    ws = _Book(path)
    ws.append(["身份证号", "证件类型", "证件编号", "发证机关", "发证日期", "有效期至", "执法类别", "执法区域", "状态",
               "状态日期"])
    kinds = ["行政执法证", "行政执法监督证"]
    for i in range(n or len(ids)):
        number = ids[i % len(ids)]
        status = "暂扣" if i % 50 == 0 else "有效"
        ws.append([number, kinds[(i // len(ids)) % 2], f"50010824{i:06d}", "重庆市人民政府", date(2023, 3, 1),
                   date(2028, 2, 29 if changed else 28), "市容环境卫生", "江北区" if changed else "渝中区",
                   None if changed else status, date(2025, 1, 1) if status != "有效" and not changed else None])
    ws.save()


def write_attendance(path: Path, ids: list[str], n: int) -> None:
    """`n` rows: sessions of len(ids) officers each (20 sessions × 10,000 officers for 200,000)."""
    ws = _Book(path, write_only=True, title="签到表")
    ws.append(["2026年培训签到表"])
    ws.append(["培训名称", "培训日期", "培训类别", "学时", "身份证号", "出勤情况", "认定学时"])
    for i in range(n):
        s = i // len(ids)
        ws.append([f"专题培训{s + 1}", date(2026, 1, 5) + timedelta(days=7 * s), "通用法律知识", 4,
                   ids[i % len(ids)], "出席" if i % 10 else "请假", None])
    ws.save()


_CHILD = """
import json, os, sys, time

def peak_mb():
    # VmHWM: this process image's peak RSS. (ru_maxrss would carry the parent's peak across
    # fork + exec on Linux, so a child of a big pytest process would report the parent's.)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
from datetime import date
sys.path.insert(0, sys.argv[1])
from app import create_app
from app.config import Config
from app.extensions import db
from app.importing.base import importers

class BenchConfig(Config):
    SQLALCHEMY_DATABASE_URI = sys.argv[2]
    SECRET_KEY = "bench"

from sqlalchemy import event

app = create_app(BenchConfig)
with app.app_context():
    kind, path, dry = sys.argv[3], sys.argv[4], sys.argv[5] == "1"
    importer = importers()[kind]
    backend = None
    if db.engine.dialect.name == "postgresql":  # the server's CPU for this import: its backend's
        backend = db.session.connection().exec_driver_sql("select pg_backend_pid()").scalar()

    def server_cpu():
        if backend is None:
            return 0.0
        with open(f"/proc/{backend}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    statements = [0]

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(*_args):
        statements[0] += 1

    t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu()
    if path.endswith(".csv"):  # as `flask import KIND FILE.csv` does it: streamed, recorded
        import contextlib, io
        from app.imports.cli import _run

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                _run(kind, path, dry, date(2026, 6, 15), (), None)
            except SystemExit as exc:
                if exc.code:
                    sys.exit(err.getvalue()[-3000:])
        summary = out.getvalue().strip().splitlines()[-1]
    else:
        summary = importer.run(path, path.rsplit("/", 1)[-1], today=date(2026, 6, 15),
                               dry_run=dry).summary()
        db.session.rollback() if dry else db.session.commit()
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                      "server_cpu": server_cpu() - s0, "statements": statements[0],
                      "peak_mb": peak_mb(),
                      "summary": summary}, ensure_ascii=False))
"""


def run_child(url: str, kind: str, path: Path, label: str, *, dry_run: bool = False,
              target: str = "") -> dict | None:
    import json
    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", _CHILD, root, url, kind, str(path),
                           "1" if dry_run else "0"], capture_output=True, text=True)
    if done.returncode:
        print(f"{label:<48} FAILED\n{done.stderr[-3000:]}")
        return None
    r = json.loads(done.stdout.strip().splitlines()[-1])
    server = f"  pg cpu {r['server_cpu']:5.2f} s" if url.startswith("postgresql") else ""
    print(f"{label:<44} wall {r['wall']:6.2f} s  cpu {r['cpu']:6.2f} s{server}  peak {r['peak_mb']:4.0f} MB"
          f"  {r['statements']:5d} stmts  load {os.getloadavg()[0]:4.2f}  {target:<18} {r['summary'][:40]}",
          flush=True)
    return r


def fresh(url: str) -> None:
    """Empty the database (every table dropped and created)."""
    from app import create_app
    from app.config import Config
    from app.extensions import db

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench"

    with create_app(BenchConfig).app_context():
        db.drop_all()
        db.create_all()
        db.session.commit()
        db.engine.dispose()


def suite(args) -> None:
    """Issue 21's figures, every file a CSV imported as `flask import KIND FILE.csv` does (read,
    checked and written in chunks, no row cap): 10,000 and 100,000 new officers (each into an
    empty database: time must grow linearly, 100,000 ≤ 12 × 10,000), then into the 100,000
    officers 200,000 certificates and 1,000,000 attendance rows. Peak memory ≤ 400 MB each."""
    tmp = Path(args.files or tempfile.mkdtemp(prefix="bench_import_"))
    tmp.mkdir(parents=True, exist_ok=True)
    small, big = args.suite_officers
    ids = {}
    for n in (small, big):
        path = tmp / f"officers{n}.csv"
        ids[n] = id_numbers(n, random.Random(1))
        if not path.exists():
            write_officers(path, n)
    certs = tmp / f"certificates{big}x{args.certificates}.csv"
    if not certs.exists():
        write_certificates(certs, ids[big], args.certificates)
    attendance = tmp / f"attendance{big}x{args.attendance}.csv"
    if args.attendance and not attendance.exists():
        write_attendance(attendance, ids[big], args.attendance)
    url = args.database_url or f"sqlite:///{tmp / 'suite.db'}"
    rows = []
    for n in (small, big):
        fresh(url)
        rows.append((f"officers ({n:,} new)", n, run_child(url, "officers", tmp / f"officers{n}.csv",
                                                            f"officers import ({n} new)")))
    rows.append((f"certificates ({args.certificates:,} new)", args.certificates,
                 run_child(url, "certificates", certs, f"certificates import ({args.certificates} new)")))
    if args.attendance:
        rows.append((f"attendance ({args.attendance:,} rows)", args.attendance,
                     run_child(url, "attendance", attendance, f"attendance import ({args.attendance} rows)")))
    server = url.startswith("postgresql")
    print(f"\n| import ({'PostgreSQL' if server else 'SQLite'}) | wall s | CPU s"
          + (" | server CPU s" if server else "") + " | peak MB | µs CPU per row |")
    print("|---|---|---|" + ("---|" if server else "") + "---|---|")
    for label, n, r in rows:
        if r is None:
            print(f"| {label} | failed |")
            continue
        cpu = r["cpu"] + r["server_cpu"]
        print(f"| {label} | {r['wall']:.1f} | {r['cpu']:.1f}" + (f" | {r['server_cpu']:.1f}" if server else "")
              + f" | {r['peak_mb']:.0f} | {cpu / n * 1e6:.0f} |")
    a, b = rows[0][2], rows[1][2]
    if a and b:
        print(f"\n{big:,} / {small:,} officers: wall × {b['wall'] / a['wall']:.1f}, CPU × "
              f"{(b['cpu'] + b['server_cpu']) / (a['cpu'] + a['server_cpu']):.1f} "
              f"(linear: × {big / small:.0f}; target ≤ × 12 and ≤ 10 s on an idle machine)")
    peak = max((r["peak_mb"] for _l, _n, r in rows if r), default=0)
    print(f"highest peak: {peak:.0f} MB (target ≤ 400 MB); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--certificates", type=int, default=20_000,
                        help="rows: two certificates (different kinds) per officer")
    parser.add_argument("--attendance", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--skip-certificates", action="store_true")
    parser.add_argument("--csv", action="store_true",
                        help="CSV files imported as the command line does (streamed, recorded)")
    parser.add_argument("--files", default=None,
                        help="a directory for the generated .xlsx files, reused when they exist")
    parser.add_argument("--suite", action="store_true",
                        help="issue 21's figures: 10,000 and 100,000 officers, 200,000 certificates, "
                             "1,000,000 attendance rows, CSV through the command line")
    parser.add_argument("--suite-officers", type=lambda v: [int(x) for x in v.split(",")],
                        default=[10_000, 100_000], help="the two sizes compared (default 10000,100000)")
    args = parser.parse_args()
    if args.suite:
        if "--certificates" not in sys.argv:
            args.certificates = 200_000
        if "--attendance" not in sys.argv:
            args.attendance = 1_000_000
        suite(args)
        return

    from app import create_app
    from app.config import Config
    from app.extensions import db

    tmp = Path(args.files or tempfile.mkdtemp(prefix="bench_import_"))
    tmp.mkdir(parents=True, exist_ok=True)
    ext = ".csv" if args.csv else ".xlsx"
    officers_xlsx = tmp / f"officers{args.officers}{ext}"
    certs_xlsx = tmp / f"certificates{args.officers}x{args.certificates}{ext}"
    attendance_xlsx = tmp / f"attendance{args.officers}x{args.attendance}{ext}"
    t = time.perf_counter()
    ids = id_numbers(args.officers, random.Random(1))
    changed_xlsx = tmp / f"officers{args.officers}-changed{ext}"
    if not officers_xlsx.exists():
        assert write_officers(officers_xlsx, args.officers) == ids
    if not changed_xlsx.exists():
        write_officers(changed_xlsx, args.officers, changed=True)
    certs_changed_xlsx = tmp / f"certificates{args.officers}x{args.certificates}-changed{ext}"
    if not certs_xlsx.exists():
        write_certificates(certs_xlsx, ids, args.certificates)
    if not certs_changed_xlsx.exists():
        write_certificates(certs_changed_xlsx, ids, args.certificates, changed=True)
    if args.attendance and not attendance_xlsx.exists():
        write_attendance(attendance_xlsx, ids, args.attendance)
    print(f"files in {tmp} ({time.perf_counter() - t:.1f} s): " + ", ".join(
        f"{p.name} {p.stat().st_size // 1024} KB" for p in (officers_xlsx, certs_xlsx, attendance_xlsx)
        if p.exists()))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench"

    app = create_app(BenchConfig)
    with app.app_context():
        db.drop_all()
        db.create_all()
    n = args.officers
    run_child(url, "officers", officers_xlsx, f"officers --dry-run ({n} new)", dry_run=True)
    run_child(url, "officers", officers_xlsx, f"officers import ({n} new)", target="target <= 5 s")
    run_child(url, "officers", officers_xlsx, f"officers re-import ({n} unchanged)")
    run_child(url, "officers", changed_xlsx, f"officers re-import ({n} changed)")
    if not args.skip_certificates:
        c = args.certificates
        run_child(url, "certificates", certs_xlsx, f"certificates --dry-run ({c} new)", dry_run=True)
        run_child(url, "certificates", certs_xlsx, f"certificates import ({c} new)",
                  target="target <= 10 s")
        run_child(url, "certificates", certs_changed_xlsx, f"certificates re-import ({c} changed)")
    if args.attendance:
        a = args.attendance
        run_child(url, "attendance", attendance_xlsx, f"attendance --dry-run ({a} rows)", dry_run=True)
        run_child(url, "attendance", attendance_xlsx, f"attendance import ({a} rows)",
                  target="<= 30 s, <= 400 MB")
        run_child(url, "attendance", attendance_xlsx, f"attendance re-import ({a} unchanged)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(wall time on a busy machine overstates; cpu is the import process alone)")


if __name__ == "__main__":
    main()
