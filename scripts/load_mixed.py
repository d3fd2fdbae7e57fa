"""A 60-second mixed load (reads and writes, 6 sessions) on gunicorn + PostgreSQL, with a
database restart in the middle: 5xx only while the database is down, none after.

    .venv/bin/python scripts/load_mixed.py [--seconds 60] [--sessions 6] [--restart-at 30]
                                           [--officers 300] [--workers 3]

Run as root (scripts/pg.sh starts a throwaway cluster as the postgres user). Everything stays on
127.0.0.1 and everything it starts is stopped at the end. Prints one line per 10 seconds with
the status counts, the outage window and the verdict.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "load-test-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- a tiny HTTP session

class Session:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | list | None = None
                ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            for header in resp.headers.get_all("Set-Cookie") or []:
                c = SimpleCookie()
                c.load(header)
                for k, morsel in c.items():
                    self.cookies[k] = morsel.value
            return resp.status, text
        finally:
            conn.close()


class FormParser(HTMLParser):
    """The fields of the first <form method=post> as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.in_form = False
        self.done = False
        self.select: str | None = None
        self.select_value: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "y"))
            elif kind not in ("file", "submit", "button"):
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.select_value, self.first_option = name, None, None
        elif tag == "option" and self.select:
            value = a.get("value") or ""
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                self.select_value = value
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data):
        if self.textarea:
            self.fields[-1] = (self.textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "select" and self.select:
            self.fields.append((self.select, self.select_value if self.select_value is not None
                                else (self.first_option or "")))
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def form_fields(html: str) -> list[tuple[str, str]]:
    p = FormParser()
    p.feed(html)
    return p.fields


# ---------------------------------------------------------------- the client sessions

class Recorder:
    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.lock = threading.Lock()
        self.rows: list[tuple[float, str, str]] = []  # (t, kind read|write, status)

    def add(self, t: float, kind: str, status: str) -> None:
        with self.lock:
            self.rows.append((t - self.t0, kind, status))


def client(n: int, port: int, officer_ids: list[int], unit_ids: list[int], stop_at: float,
           rec: Recorder) -> None:
    rng = random.Random(n)
    s = Session(port)
    while time.monotonic() < stop_at:  # log in (again, if the outage cost us the session)
        try:
            _, page = s.request("GET", "/login")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            status, _ = s.request("POST", "/login", {"username": f"load{n}", "password": PASSWORD,
                                                     "csrf_token": token})
            if status == 302:
                break
        except (OSError, AttributeError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    reads = ["/", "/officers", "/officers?q=%E7%8E%8B", "/flags", "/reminders", "/units"]
    while time.monotonic() < stop_at:
        start = time.monotonic()
        write = rng.random() < 0.25
        try:
            if write:
                oid = rng.choice(officer_ids)
                status, html = s.request("GET", f"/officers/{oid}/edit")
                if status == 200:
                    fields = [(k, v) for k, v in form_fields(html)]
                    fields = [(k, f"139{rng.randint(10000000, 99999999)}") if k == "phone" else (k, v)
                              for k, v in fields]
                    status, _ = s.request("POST", f"/officers/{oid}/edit", fields)
            else:
                path = rng.choice(reads + [f"/officers/{rng.choice(officer_ids)}"])
                status, _ = s.request("GET", path)
            rec.add(start, "write" if write else "read", str(status))
        except Exception as exc:  # a refused/reset connection: counted, never fatal
            rec.add(start, "write" if write else "read", f"conn:{exc.__class__.__name__}")
            time.sleep(0.2)


# ---------------------------------------------------------------- orchestration

def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True,
                          timeout=600, **kw)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--restart-at", type=float, default=30)
    ap.add_argument("--officers", type=int, default=300)
    ap.add_argument("--workers", type=int, default=3)
    args = ap.parse_args()

    out = run(["bash", "scripts/pg.sh", "start"], dict(os.environ)).stdout
    pg = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg["PGTEST_URL"], "SECRET_KEY": "load-test-secret",
           "LOGIN_RATE_LIMIT": "10000/minute"}
    gunicorn = None
    try:
        flask = [PY, "-m", "flask", "--app", "app"]
        run([*flask, "db", "upgrade"], env)
        run([*flask, "demo", "seed", "--officers", str(args.officers), "--seed", "7"], env)
        for n in range(args.sessions):
            run([*flask, "users", "create", f"load{n}", "--role", "clerk", "--password-stdin"], env,
                input=PASSWORD + "\n")
        ids = run([PY, "-c", (
            "from app import create_app; from app.extensions import db; "
            "from sqlalchemy import text; app = create_app()\n"
            "with app.app_context():\n"
            "    print(','.join(str(i) for i in db.session.scalars(text("
            "'SELECT id FROM officer ORDER BY id LIMIT 200'))))\n"
            "    print(','.join(str(i) for i in db.session.scalars(text('SELECT id FROM unit'))))")],
            env).stdout.split()
        officer_ids = [int(x) for x in ids[0].split(",")]
        unit_ids = [int(x) for x in ids[1].split(",")]
        log = open(Path(pg["PGTEST_DIR"]) / "gunicorn.log", "w")  # noqa: SIM115
        gunicorn = subprocess.Popen(
            [PY, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "2",
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                if Session(port).request("GET", "/login")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not start")

        t0 = time.monotonic()
        stop_at = t0 + args.seconds
        rec = Recorder(t0)
        threads = [threading.Thread(target=client, args=(n, port, officer_ids, unit_ids, stop_at, rec),
                                    daemon=True) for n in range(args.sessions)]
        for t in threads:
            t.start()
        time.sleep(max(0.0, t0 + args.restart_at - time.monotonic()))
        down = time.monotonic() - t0
        subprocess.run(["runuser", "-u", "postgres", "--", pg_ctl, "-D", pg["PGTEST_DIR"] + "/data",
                        "-l", pg["PGTEST_DIR"] + "/log", "-m", "fast", "-w", "restart"],
                       cwd="/", check=True, capture_output=True, timeout=120)
        up = time.monotonic() - t0
        for t in threads:
            t.join(args.seconds + 30)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        subprocess.run(["bash", "scripts/pg.sh", "stop", pg["PGTEST_DIR"]], cwd=ROOT, timeout=120)

    rows = rec.rows
    print(f"gunicorn {args.workers} workers x 2 threads, PostgreSQL, {args.sessions} sessions, "
          f"{args.seconds} s; database restarted (pg_ctl restart -m fast) from {down:.1f} s "
          f"to {up:.1f} s")
    print(f"{'seconds':>9} {'reads':>6} {'writes':>6} {'2xx':>5} {'3xx':>5} {'4xx':>5} {'5xx':>5} "
          f"{'conn err':>8}")
    for start in range(0, args.seconds, 10):
        part = [r for r in rows if start <= r[0] < start + 10]
        c = Counter(r[2][0] + "xx" if r[2][0].isdigit() else "conn" for r in part)
        print(f"{start:>3}-{start + 10:<5} {sum(r[1] == 'read' for r in part):>6} "
              f"{sum(r[1] == 'write' for r in part):>6} {c['2xx']:>5} {c['3xx']:>5} {c['4xx']:>5} "
              f"{c['5xx']:>5} {c['conn']:>8}")
    bad = [r for r in rows if not r[2].isdigit() or r[2].startswith("5")]
    after = [r for r in bad if r[0] > up]
    before = [r for r in bad if r[0] < down - 1]
    print(f"total {len(rows)} requests; 5xx/connection errors: {len(bad)} "
          f"(before the restart {len(before)}, during {len(bad) - len(after) - len(before)}, "
          f"after {len(after)}); statuses {dict(Counter(r[2] for r in rows))}")
    if bad:
        print("5xx/errors at (s after start): " + ", ".join(f"{r[0]:.2f}" for r in sorted(bad)))
    ok = not after and not before
    print("OK: 5xx only during the outage" if ok else "FAIL: 5xx outside the outage")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
