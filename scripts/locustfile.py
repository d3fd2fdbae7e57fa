"""20 clerks at work on the province's register (scripts/bench_load.sh runs it headless).

Each simulated user logs in once as its own clerk (load01 … load20, made by `scripts/bench_load.py
prepare`; the login's POST alone, not the dashboard it redirects to), then clicks with a pause of
LOAD_WAIT seconds ("1,3": between 1 and 3 s, a person reading the page) through the daily pages:
the dashboard, the flags (and a filter), the officer list (and its filters: a flag, a search, a
unit, a deep page), reminders, the training ledger, certificates, an officer's page, a small .xlsx
export (a searched list of ~100 officers, made in the request). The measured run lasts
LOAD_SECONDS from the moment the last user has logged in (LOAD_OUT/steady: its time), then locust
quits. Besides, once each during it, at a random moment:
  - LOAD_JOBS users (default 4) export a list of 1,000 officers: past the job threshold (500 rows),
    so the page answers 202 and the browser polls /jobs/<id> until the file is ready, then
    downloads it (the job worker makes it);
  - LOAD_IMPORTS users (default 5) import a small officers file (3 rows) through the import centre:
    upload → preview → check → import.
Officer pages are grouped under one name in the figures. A request counts as an error when its
status is not 2xx/3xx or the page lacks what a person would look for (the import's 导入成功, an
.xlsx body, a finished job).

Every request's time is also written to LOAD_OUT/requests.jsonl when the run ends, and each
one-off's whole duration (the export job from the click to the file, the import's four steps) to
LOAD_OUT/oneoffs.jsonl: scripts/bench_load.py report reads them for exact p50/p95/p99 over the
pages, the logins left out. LOAD_READS_ONLY=1: the pages only (no export, no import).

    .venv/bin/locust -f scripts/locustfile.py --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:PORT
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from datetime import date, timedelta
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from stdnum.cn import ric

PASSWORD = os.environ.get("LOAD_PASSWORD") or "load-password-123"
OFFICERS = int(os.environ.get("LOAD_OFFICERS") or 200000)
UNITS = max(10, OFFICERS // 100)  # bench_flags.build: OFFICERS / 100 units named 单位0001 …
SECONDS = float(os.environ.get("LOAD_SECONDS") or 60)
READS_ONLY = bool(os.environ.get("LOAD_READS_ONLY"))  # the pages only: no export, no import
JOBS = 0 if READS_ONLY else int(os.environ.get("LOAD_JOBS") or 4)
IMPORTS = 0 if READS_ONLY else int(os.environ.get("LOAD_IMPORTS") or 5)
OUT = Path(os.environ.get("LOAD_OUT") or "/tmp/bench_load")
UNIT = os.environ.get("LOAD_UNIT") or "单位0001"  # a registered unit (bench data), so no new unit
_low, _high = (float(x) for x in (os.environ.get("LOAD_WAIT") or "1,3").split(","))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_accounts = itertools.count(1)
_people = itertools.count(1)
_requests: list[dict] = []
_oneoffs: list[dict] = []
_steady: list[float] = []  # monotonic time when the last user had logged in
_logged_in = itertools.count(1)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kw):
    _requests.append({"t": time.time(), "type": request_type, "name": name, "ms": response_time,
                      "ok": exception is None})


@events.quitting.add_listener
def _dump(**_kw):
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("requests", _requests), ("oneoffs", _oneoffs)):
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def new_id_number() -> str:
    """A valid ID number no bench officer has (bench_flags numbers end in X after zeros)."""
    n = next(_people)
    birth = date(1970, 1, 1) + timedelta(days=n % 9000 + random.randrange(0, 3000))
    body = f"110105{birth:%Y%m%d}{random.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


class Clerk(HttpUser):
    wait_time = between(_low, _high)

    def on_start(self) -> None:
        self.number = next(_accounts)
        self.username = f"load{self.number:02d}"
        page = self.client.get("/login", name="/login").text
        with self.client.post("/login", name="/login", allow_redirects=False, catch_response=True, data={
                "username": self.username, "password": PASSWORD,
                "csrf_token": CSRF.search(page).group(1)}) as resp:
            if resp.status_code != 302 or "/login" in resp.headers.get("Location", "/login"):
                resp.failure(f"{self.username} could not log in (status {resp.status_code})")
                raise RuntimeError(f"{self.username} could not log in")
        # the one-offs, each at a random moment of the run (counted from when all are logged in)
        self.pending = []
        if self.number <= JOBS:
            self.pending.append((random.uniform(3, max(4, SECONDS - 25)), self.big_export))
        if JOBS < self.number <= JOBS + IMPORTS:
            self.pending.append((random.uniform(3, max(4, SECONDS - 20)), self.small_import))
        self.pending.sort(key=lambda p: p[0])
        if next(_logged_in) == self.environment.runner.target_user_count:
            # everyone is in: the measured run starts now and lasts SECONDS
            _steady.append(time.monotonic())
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / "steady").write_text(f"{time.time()}\n")
            gevent.spawn_later(SECONDS, self.environment.runner.quit)

    def _due(self) -> bool:
        return bool(self.pending and _steady and time.monotonic() - _steady[0] >= self.pending[0][0])

    def get(self, url: str, name: str | None = None) -> None:
        """A page; but first a one-off whose moment has come."""
        if self._due():
            self.pending.pop(0)[1]()
            return
        self.client.get(url, name=name)

    @task(3)
    def dashboard(self) -> None:
        self.get("/")

    @task(2)
    def flags(self) -> None:
        self.get("/flags")

    @task(1)
    def flags_expiring(self) -> None:
        self.get("/flags?flag=EXPIRING&within=30", name="/flags?flag=EXPIRING")

    @task(3)
    def officers(self) -> None:
        self.get("/officers")

    @task(1)
    def unlicensed(self) -> None:
        self.get("/officers?flag=UNLICENSED")

    @task(1)
    def officer_search(self) -> None:
        self.get(f"/officers?q=人员{random.randint(1, OFFICERS):05d}", name="/officers?q=")

    @task(1)
    def officer_unit(self) -> None:
        self.get(f"/officers?unit={random.randint(1, UNITS)}", name="/officers?unit=")

    @task(1)
    def officer_deep_page(self) -> None:
        self.get(f"/officers?page={random.randint(2, OFFICERS // 50)}", name="/officers?page=")

    @task(1)
    def reminders(self) -> None:
        self.get("/reminders")

    @task(2)
    def ledger(self) -> None:
        self.get("/training/ledger")

    @task(2)
    def certificates(self) -> None:
        self.get("/certificates")

    @task(4)
    def officer(self) -> None:
        self.get(f"/officers/{random.randint(1, OFFICERS)}", name="/officers/[id]")

    @task(1)
    def export(self) -> None:
        """The officer list, searched to a hundred rows, as .xlsx (made in the request: under
        the job threshold)."""
        if self._due():
            self.pending.pop(0)[1]()
            return
        # names are 人员00001 … (bench_flags.build): 人员0ab matches 人员0ab00 … 人员0ab99
        n = random.randint(0, max(0, min(99, OFFICERS // 1000 - 1)))
        with self.client.get(f"/officers.xlsx?q=人员0{n:02d}", name="/officers.xlsx?q= (~100 rows)",
                             catch_response=True) as resp:
            if resp.status_code == 200 and not resp.content.startswith(b"PK"):
                resp.failure("not an .xlsx file")

    def big_export(self) -> None:
        """1,000 officers as .xlsx: a background job (202), polled as the page does, then
        downloaded."""
        t0 = time.monotonic()
        n = random.randint(0, max(0, min(9, OFFICERS // 10000 - 1)))  # 人员0a: 人员0a000 … 人员0a999
        with self.client.get(f"/officers.xlsx?q=人员0{n}", name="/officers.xlsx?q= (1,000 rows: job)",
                             headers={"Accept": "application/json"},
                             catch_response=True, allow_redirects=False) as resp:
            if resp.status_code != 202 or "Location" not in resp.headers:
                resp.failure(f"not a job (status {resp.status_code})")
                return
            status = resp.headers["Location"]
        state = "queued"
        while time.monotonic() - t0 < 120:
            time.sleep(1)
            with self.client.get(status, name="/jobs/[id] (status)", headers={"Accept": "application/json"},
                                 catch_response=True) as resp:
                try:
                    body = resp.json()
                except ValueError:
                    resp.failure("not the job's status")
                    return
                state = body.get("state")
                if state == "failed":
                    resp.failure(f"the job failed: {body.get('message')}")
                    return
                if state == "done":
                    url = body.get("download_url")
                    break
        else:
            _oneoffs.append({"what": "export job, 1,000 rows", "seconds": time.monotonic() - t0, "ok": False})
            return
        with self.client.get(url, name="/jobs/[id]/download", catch_response=True) as resp:
            ok = resp.status_code == 200 and resp.content.startswith(b"PK")
            if not ok:
                resp.failure("not an .xlsx file")
        _oneoffs.append({"what": "export job, 1,000 rows (click → file)", "seconds": time.monotonic() - t0,
                         "ok": ok})

    def small_import(self) -> None:
        """Three new officers from a CSV through the import centre: upload, preview (columns
        detected), check, import."""
        t0 = time.monotonic()
        page = self.client.get("/imports").text
        rows = "\n".join(f"压测{self.username}-{i},{new_id_number()},{UNIT}" for i in range(3))
        data = f"姓名,身份证号,单位\n{rows}\n".encode("utf-8-sig")
        resp = self.client.post("/imports/upload", name="/imports/upload", data={
            "csrf_token": CSRF.search(page).group(1), "kind": "officers"},
            files={"file": ("名单.csv", data, "text/csv")})  # → the preview page
        token = re.search(r"/imports/b/([^/?\"]+)", resp.url or "")
        ok = False
        if resp.ok and token:
            base = f"/imports/b/{token.group(1)}"
            csrf = CSRF.search(resp.text).group(1)
            resp = self.client.post(base + "/check", name="/imports/b/[token]/check", data={"csrf_token": csrf})
            csrf = CSRF.search(resp.text)
            if resp.ok and csrf:
                with self.client.post(base + "/import", name="/imports/b/[token]/import",
                                      data={"csrf_token": csrf.group(1)}, catch_response=True) as resp:
                    ok = resp.ok and "导入成功" in resp.text
                    if not ok:
                        resp.failure("no 导入成功 message")
        _oneoffs.append({"what": "import, 3 officers (4 steps)", "seconds": time.monotonic() - t0, "ok": ok})


if READS_ONLY:  # exports and imports are audited writes (they also refresh the dashboard's caches)
    Clerk.tasks = [t for t in Clerk.tasks if t.__name__ != "export"]
