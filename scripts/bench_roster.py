"""Benchmark the roster PDF (docs/architecture.md, Cost targets): our chunked path vs WeasyPrint alone
on the same table.

    .venv/bin/python scripts/bench_roster.py [--officers 5000] [--per-chunk N]

Builds a throwaway SQLite database of N certified officers, then runs each measurement in its
own subprocess so that peak memory (VmHWM) belongs to that measurement alone:
  * weasyprint-alone: the same roster HTML (every row, one piece), page numbers by
    counter(pages) in CSS, HTML(...).write_pdf();
  * chunked: app.pdf.render_pdf (chunks cut at page boundaries, joined and numbered with pypdf).
Prints wall time, CPU time, peak RSS, page count, size and the number of embedded font files of
each, and the ratios. Targets: chunked peak RSS <= 300 MB, chunked CPU <= 1.15x
WeasyPrint alone, and the 5,000-row PDF <= 4 MB (each font embedded once, not once per chunk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = date(2026, 6, 15)
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱"
         "妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹"
         "蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒"
         "伊亚宜可姬舒影荔枝思丽")


def app_for(db_url: str):
    from app import create_app
    from app.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = db_url

    return create_app(Config)


def build_db(db_path: str, n: int) -> None:
    from stdnum.cn import ric

    from app.extensions import db
    from app.models.certificates import Certificate
    from app.models.officers import Officer, Unit

    rng = random.Random(7)
    app = app_for(db_path)
    with app.app_context():
        db.drop_all()
        db.create_all()
        units = [Unit(name=f"第{i + 1}执法中队", kind="team", sort_order=i) for i in range(40)]
        db.session.add_all(units)
        db.session.flush()
        officers = []
        for i in range(n):
            birth = date(1962, 1, 1) + timedelta(days=i * 3 + rng.randint(0, 2))  # unique per i
            body = f"500108{birth:%Y%m%d}{rng.randint(0, 999):03d}"
            id_number = body + ric.calc_check_digit(body + "0")
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            officers.append(Officer(name=name, id_number=id_number,
                                    gender="M" if int(id_number[16]) % 2 else "F", birth_date=birth,
                                    unit_id=units[i % len(units)].id, position="执法队员",
                                    establishment="civil_servant", on_enforcement_post=True,
                                    employment_status="active"))
        db.session.add_all(officers)
        db.session.flush()
        for i, o in enumerate(officers):
            issued = TODAY - timedelta(days=rng.randint(30, 1500))
            db.session.add(Certificate(officer_id=o.id, kind="enforcement", number=f"5001082{i:07d}",
                                       issuing_authority="重庆市人民政府", issued_on=issued,
                                       expires_on=issued + timedelta(days=5 * 365),
                                       categories=rng.choice(["市容环境卫生、城乡规划", "市场监管",
                                                              "安全生产、应急管理、消防"]),
                                       area="南岸区海棠溪街道", status="valid"))
        db.session.commit()


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(db_path: str, mode: str, per_chunk: int) -> dict:
    from flask import render_template

    from app.documents.services import roster
    from app.pdf import make_fetcher, render_pdf

    app = app_for(db_path)
    with app.app_context():
        import weasyprint  # noqa: F401  (imported before the clock starts, as in a running server)

        q0, qc0 = time.perf_counter(), time.process_time()
        doc = roster(TODAY)  # the database's part, measured apart: the ratio compares the rendering
        query = (time.perf_counter() - q0, time.process_time() - qc0)
        rows = sum(1 for i in doc.items if i["kind"] == "row")
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        if mode == "chunked":
            pdf = render_pdf(doc.template, doc.context, items=doc.items, per_chunk=per_chunk)
        else:
            from weasyprint import CSS, HTML

            html = render_template(doc.template, **doc.context, items=doc.items, offset=0, first=True, last=True)
            numbers = CSS(string='@page { @bottom-center { content: "第 " counter(page) " / " '
                                 'counter(pages) " 页"; font-size: 9pt; } }')
            pdf = HTML(string=html, url_fetcher=make_fetcher()).write_pdf(stylesheets=[numbers])
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        from io import BytesIO

        from pypdf import PdfReader

        reader = PdfReader(BytesIO(pdf))
        pages = len(reader.pages)
        font_files = set()
        for page in reader.pages:
            for ref in page["/Resources"]["/Font"].values():
                font = ref.get_object()
                if font.get("/Subtype") == "/Type0":
                    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
                    font_files.update(descriptor.raw_get(k).idnum for k in ("/FontFile2", "/FontFile3")
                                      if k in descriptor)
    return {"mode": mode, "rows": rows, "pages": pages, "bytes": len(pdf), "font_files": len(font_files),
            "wall_s": round(wall, 2),
            "cpu_s": round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2),
            "peak_rss_mb": round(vm_hwm_mb(), 1), "query_wall_s": round(query[0], 2),
            "query_cpu_s": round(query[1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=5000)
    parser.add_argument("--per-chunk", type=int, default=None)
    parser.add_argument("--only", choices=["chunked", "weasyprint-alone"], default=None)
    parser.add_argument("--measure", choices=["chunked", "weasyprint-alone"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None,
                        help="build the officers there (dropping its tables) instead of a temporary SQLite file")
    args = parser.parse_args()
    from app.pdf import ITEMS_PER_CHUNK

    per_chunk = args.per_chunk or ITEMS_PER_CHUNK
    if args.measure:
        print(json.dumps(measure(args.db, args.measure, per_chunk)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        t = time.perf_counter()
        build_db(db_path, args.officers)
        print(f"数据：{args.officers} 名持证执法人员（{time.perf_counter() - t:.1f} 秒）", flush=True)
        results = {}
        for mode in ("weasyprint-alone", "chunked"):
            if args.only and mode != args.only:
                continue
            out = subprocess.run([sys.executable, __file__, "--measure", mode, "--db", db_path,
                                  "--per-chunk", str(per_chunk)], capture_output=True, text=True, check=True)
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:17s} query={r['query_wall_s']}s (cpu {r['query_cpu_s']}s) "
                  f"rows={r['rows']} pages={r['pages']} wall={r['wall_s']}s cpu={r['cpu_s']}s "
                  f"peak_rss={r['peak_rss_mb']}MB size={r['bytes'] / 1e6:.1f}MB font_files={r['font_files']}",
                  flush=True)
        if len(results) == 2:
            a, c = results["weasyprint-alone"], results["chunked"]
            print(f"chunked / weasyprint-alone: cpu {c['cpu_s'] / a['cpu_s']:.2f}x, "
                  f"wall {c['wall_s'] / a['wall_s']:.2f}x, peak memory {c['peak_rss_mb'] / a['peak_rss_mb']:.2f}x "
                  f"(targets: cpu ≤ 1.15x {'OK' if c['cpu_s'] <= 1.15 * a['cpu_s'] else 'OVER'}, "
                  f"chunked peak ≤ 300 MB {'OK' if c['peak_rss_mb'] <= 300 else 'OVER'}, "
                  f"size ≤ 4 MB at 5,000 rows {'OK' if c['bytes'] <= 4e6 else 'OVER'})")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
