"""200 candidates answering an online exam in the same minute, on gunicorn + PostgreSQL: the p95 of
saving an answer, and a check that no saved answer was lost.

    .venv/bin/python scripts/load_exam.py [--candidates 200] [--questions 40] [--seconds 60]
                                          [--changes 5] [--workers 3] [--threads 4]

Run as root (scripts/pg.sh starts a throwaway cluster as the postgres user). Everything stays on
127.0.0.1 and everything it starts is stopped at the end. Each candidate logs in, fetches its own
random paper, answers every question and changes `--changes` answers again, spread over
`--seconds`; then the script reads every paper back through the API and compares it with what each
candidate last saved, submits, closes the exam and compares the scores with the exam's results.
Prints the save latency percentiles, the status counts and the verdict (exit 1 when anything was
lost or any save failed).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
STEMS = {"single": "单选", "multiple": "多选", "true_false": "判断"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None
         ) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=900, **kw)


def bank_csv(path: Path, n_single: int, n_multiple: int, n_tf: int) -> None:
    rng = random.Random(3)
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "类别"])
        for i in range(n_single):
            w.writerow(["单选", f"单选题{i}：行政执法的第{i}项规定是？", "甲", "乙", "丙", "丁", rng.choice("ABCD"),
                        "公共法律知识"])
        for i in range(n_multiple):
            w.writerow(["多选", f"多选题{i}：下列哪些符合第{i}项规定？", "甲", "乙", "丙", "丁",
                        "".join(sorted(rng.sample("ABCD", rng.randint(2, 4)))), "专门法律知识"])
        for i in range(n_tf):
            w.writerow(["判断", f"判断题{i}：第{i}项说法正确。", "", "", "", "", rng.choice("对错"), "公共法律知识"])


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.saves: list[float] = []
        self.status: Counter = Counter()
        self.errors: list[str] = []

    def add(self, kind: str, status, seconds: float | None = None) -> None:
        with self.lock:
            self.status[f"{kind} {status}"] += 1
            if seconds is not None and kind == "save":
                self.saves.append(seconds)


def candidate(n: int, port: int, cand: dict, seconds: float, changes: int, start: float, stats: Stats,
              last: dict) -> None:
    rng = random.Random(n)
    time.sleep(max(0.0, start + rng.uniform(0, 3) - time.monotonic()))  # everyone arrives at once
    try:
        status, body = call(port, "POST", "/exam/api/login", {"id_number": cand["id_number"], "code": cand["code"]})
        stats.add("login", status)
        if status != 200:
            stats.errors.append(f"{cand['seat']}: login {status} {body}")
            return
        token = body["token"]
        status, paper = call(port, "GET", "/exam/api/paper", token=token)
        stats.add("paper", status)
        questions = paper["questions"]
        plan = [q for q in questions] + [rng.choice(questions) for _ in range(changes)]
        deadline = start + seconds
        mine: dict[str, str] = {}
        for i, q in enumerate(plan):
            # spread the saves over what is left of the minute
            slot = start + 3 + (seconds - 5) * (i + rng.random()) / len(plan)
            time.sleep(max(0.0, min(slot, deadline) - time.monotonic()))
            letters = sorted(q["options"])
            if q["type"] == "true_false":
                answer = rng.choice(["对", "错"])
            elif q["type"] == "single":
                answer = rng.choice(letters)
            else:
                answer = "".join(sorted(rng.sample(letters, rng.randint(2, len(letters)))))
            t0 = time.perf_counter()
            try:
                status, body = call(port, "PUT", f"/exam/api/answers/{q['id']}", {"answer": answer}, token=token)
            except OSError as exc:
                stats.add("save", f"conn:{exc.__class__.__name__}")
                stats.errors.append(f"{cand['seat']}: save {exc}")
                continue
            stats.add("save", status, time.perf_counter() - t0)
            if status == 204:
                mine[str(q["id"])] = answer
            else:
                stats.errors.append(f"{cand['seat']}: save {status} {body}")
        last[cand["id_number"]] = (token, mine)
    except Exception as exc:  # counted, never fatal
        stats.errors.append(f"{cand['seat']}: {exc.__class__.__name__}: {exc}")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000 if s else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--changes", type=int, default=5)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    out = run(["bash", "scripts/pg.sh", "start"], dict(os.environ)).stdout
    pg = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    port = free_port()
    # Every candidate comes from 127.0.0.1 here: the per-address budgets are opened, the
    # per-candidate ones stay as configured.
    env = {**os.environ, "DATABASE_URL": pg["PGTEST_URL"], "SECRET_KEY": "load-test-secret",
           "EXAM_LOGIN_RATE_LIMIT": "100000/minute", "EXAM_API_RATE_LIMIT": "1000000/minute"}
    gunicorn = None
    verdict = 1
    try:
        flask = [PY, "-m", "flask", "--app", "app"]
        run([*flask, "db", "upgrade"], env)
        run([*flask, "demo", "seed", "--officers", str(args.candidates + 20), "--seed", "7"], env)
        work = Path(pg["PGTEST_DIR"])
        bank = work / "bank.csv"
        bank_csv(bank, 60, 30, 30)
        run([*flask, "exams", "import-questions", str(bank)], env)
        exam_id = run([*flask, "exams", "create", "法治理论考试（压力测试）", "--date", "2026-06-15",
                       "--max-score", "100", "--pass-score", "60"], env).stdout.strip().splitlines()[-1]
        ids = run([PY, "-c", (
            "from app import create_app; from app.extensions import db; "
            "from sqlalchemy import text; app = create_app()\n"
            "with app.app_context():\n"
            "    print(' '.join(db.session.scalars(text("
            f"'SELECT id_number FROM officer ORDER BY id LIMIT {args.candidates}'))))")],
            env).stdout.split()
        enrol = [*flask, "exams", "enrol", exam_id]
        for x in ids:
            enrol += ["--id-number", x]
        run(enrol, env)
        run([*flask, "exams", "paper", exam_id, "--rule", "单选=20x2", "--rule", "多选=10x3",
             "--rule", "判断=10x3"], env)
        codes = json.loads(run([*flask, "exams", "codes", exam_id, "--format", "json"], env).stdout)
        t_open = time.monotonic()
        run([*flask, "exams", "open", exam_id, "--minutes", "30"], env)
        open_s = time.monotonic() - t_open
        log = open(work / "gunicorn.log", "w")  # noqa: SIM115
        gunicorn = subprocess.Popen(
            [PY, "-m", "gunicorn", "--workers", str(args.workers), "--threads", str(args.threads),
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(150):
            try:
                if call(port, "POST", "/exam/api/login", {"id_number": "", "code": ""})[0] == 401:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not start")

        stats = Stats()
        last: dict[str, tuple[str, dict]] = {}
        start = time.monotonic() + 1
        threads = [threading.Thread(target=candidate, args=(n, port, c, args.seconds, args.changes, start, stats, last),
                                    daemon=True) for n, c in enumerate(codes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 120)
        elapsed = time.monotonic() - start

        # read every paper back and compare with what each candidate last saved
        lost = 0
        scores: dict[str, float] = {}
        for idn, (token, mine) in last.items():
            status, paper = call(port, "GET", "/exam/api/paper", token=token)
            if status != 200 or paper["answers"] != mine:
                lost += 1
                stats.errors.append(f"{idn[:6]}…: paper {status}, answers differ")
                continue
            status, body = call(port, "POST", "/exam/api/submit", token=token)
            stats.add("submit", status)
            if status == 200:
                scores[idn] = body["score"]
        run([*flask, "exams", "close", exam_id], env)
        results = json.loads(run([*flask, "exams", "results", exam_id, "--format", "json"], env).stdout)
        mismatched = sum(1 for r in results if r["id_number"] in scores and r["score"] != scores[r["id_number"]])
        audited = run([PY, "-c", (
            "from app import create_app; from app.extensions import db; "
            "from sqlalchemy import text; app = create_app()\n"
            "with app.app_context():\n"
            "    print(db.session.scalar(text(\"SELECT count(*) FROM audit_event WHERE entity_type='exam_sitting' "
            "AND summary LIKE '作答%'\")))")], env).stdout.strip()
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        subprocess.run(["bash", "scripts/pg.sh", "stop", pg["PGTEST_DIR"]], cwd=ROOT, timeout=120)

    saves = stats.saves
    print(f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, {len(codes)} candidates, "
          f"{args.seconds:g} s; drawing {len(codes)} papers at open: {open_s:.1f} s (incl. flask start-up)")
    print(f"saves: {len(saves)} in {elapsed:.1f} s ({len(saves) / elapsed:.0f}/s); latency ms "
          f"p50 {pct(saves, 50):.0f}  p95 {pct(saves, 95):.0f}  p99 {pct(saves, 99):.0f}  max {pct(saves, 100):.0f}")
    print("status:", dict(sorted(stats.status.items())))
    print(f"answer-change audit rows: {audited}")
    ok_saves = stats.status.get("save 204", 0)
    bad = sum(v for k, v in stats.status.items() if k.startswith("save") and k != "save 204")
    print(f"papers read back: {len(last)}, differing from what was saved: {lost}; "
          f"submitted scores differing from the exam's results: {mismatched}; failed saves: {bad}")
    for e in stats.errors[:10]:
        print("  ", e)
    verdict = 0 if (lost == 0 and mismatched == 0 and bad == 0 and len(last) == len(codes)
                    and len(scores) == len(codes)) else 1
    print("verdict:", "nothing lost" if verdict == 0 else "FAILED", f"({ok_saves} saves accepted)")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
