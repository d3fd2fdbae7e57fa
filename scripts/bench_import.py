"""Benchmark: `import officers` of 10,000 rows (validate + commit) on a temporary SQLite DB.

DESIGN §7 target: ≤ 5 s. Prints figures; not a test.
    .venv/bin/python scripts/bench_import.py [--officers N]
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


def write_officers(path: Path, n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    ids = id_numbers(n, rng)
    wb = openpyxl.Workbook()  # like a file saved by Excel: shared strings, a dimension
    ws = wb.active
    ws.append(["姓名", "身份证号", "单位", "职务", "编制类型", "学历", "执法岗位", "在职状态", "联系电话", "工号"])
    for i, number in enumerate(ids):
        ws.append([rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), number, rng.choice(UNITS),
                   rng.choice(["科员", "队员", "副科长", "科长"]),
                   rng.choice(["行政编制", "行政编制", "事业编制", "合同制"]),
                   rng.choice(["本科", "大专", "研究生"]), rng.choice(["是", "是", "否"]), "在职",
                   f"138{rng.randint(0, 99999999):08d}", f"E{i:06d}"])
    wb.save(path)
    return ids


def write_certificates(path: Path, ids: list[str]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "证件类型", "证件编号", "发证机关", "发证日期", "有效期至", "执法类别", "执法区域", "状态",
               "状态日期"])
    for i, number in enumerate(ids):
        status = "暂扣" if i % 50 == 0 else "有效"
        ws.append([number, "行政执法证", f"50010824{i:06d}", "重庆市人民政府", date(2023, 3, 1),
                   date(2028, 2, 28), "市容环境卫生", "渝中区", status, date(2025, 1, 1) if status != "有效" else None])
    wb.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--skip-certificates", action="store_true")
    args = parser.parse_args()

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.imports.services import import_certificates, import_officers

    tmp = Path(tempfile.mkdtemp(prefix="bench_import_"))
    officers_xlsx, certs_xlsx = tmp / "officers.xlsx", tmp / "certificates.xlsx"
    t = time.perf_counter()
    ids = write_officers(officers_xlsx, args.officers)
    write_certificates(certs_xlsx, ids)
    print(f"generated {officers_xlsx} ({officers_xlsx.stat().st_size // 1024} KB) and {certs_xlsx} "
          f"in {time.perf_counter() - t:.2f} s")

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp / 'bench.db'}"
        SECRET_KEY = "bench"

    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()

        def timed(label, fn):
            t0, c0 = time.perf_counter(), time.process_time()
            result = fn()
            db.session.commit()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"{label:<50} wall {wall:6.2f} s  cpu {cpu:6.2f} s   {result.summary()[:60]}")
            db.session.remove()

        timed(f"officers --dry-run ({args.officers} new)",
              lambda: import_officers(officers_xlsx, "officers.xlsx", today=TODAY, dry_run=True))
        timed(f"officers import ({args.officers} new, validate+commit)",
              lambda: import_officers(officers_xlsx, "officers.xlsx", today=TODAY))
        timed(f"officers re-import ({args.officers} unchanged)",
              lambda: import_officers(officers_xlsx, "officers.xlsx", today=TODAY))
        if not args.skip_certificates:
            timed(f"certificates --dry-run ({args.officers} new)",
                  lambda: import_certificates(certs_xlsx, "certificates.xlsx", today=TODAY,
                                              dry_run=True))
            timed(f"certificates import ({args.officers} new, validate+commit)",
                  lambda: import_certificates(certs_xlsx, "certificates.xlsx", today=TODAY))
    print("target (DESIGN §7): importing 10,000 officers (validate + commit) <= 5 s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(wall time on a busy machine overstates; cpu is this process alone)")


if __name__ == "__main__":
    main()
