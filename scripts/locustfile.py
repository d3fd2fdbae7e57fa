"""20 clerks at work on the province's register (scripts/bench_load.sh runs it headless):
the daily pages, an officer's page, an .xlsx export of a list and now and then a small import.

Each simulated user logs in once as its own clerk (load01 … load20, made by
`scripts/bench_load.py prepare`), then clicks with a pause of LOAD_WAIT seconds ("1,3": between
1 and 3 s, a person reading the page). Officer pages are grouped under one name in the figures.
A request counts as an error when its status is not 2xx/3xx or the page lacks what a person
would look for (the import's 导入成功 message, an .xlsx body).

    .venv/bin/locust -f scripts/locustfile.py --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:PORT
"""

from __future__ import annotations

import itertools
import os
import random
import re
from datetime import date, timedelta

from locust import HttpUser, between, task
from stdnum.cn import ric

PASSWORD = os.environ.get("LOAD_PASSWORD") or "load-password-123"
OFFICERS = int(os.environ.get("LOAD_OFFICERS") or 20000)
UNIT = os.environ.get("LOAD_UNIT") or "单位0001"  # a registered unit (bench data), so no new unit
_low, _high = (float(x) for x in (os.environ.get("LOAD_WAIT") or "1,3").split(","))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_accounts = itertools.count(1)
_people = itertools.count(1)


def new_id_number() -> str:
    """A valid ID number no bench officer has (bench_flags numbers end in X after zeros)."""
    n = next(_people)
    birth = date(1970, 1, 1) + timedelta(days=n % 9000 + random.randrange(0, 3000))
    body = f"110105{birth:%Y%m%d}{random.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


class Clerk(HttpUser):
    wait_time = between(_low, _high)

    def on_start(self) -> None:
        self.username = f"load{next(_accounts):02d}"
        page = self.client.get("/login", name="/login").text
        resp = self.client.post("/login", name="/login", data={
            "username": self.username, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)})
        if "退出" not in resp.text and "/logout" not in resp.text:
            raise RuntimeError(f"{self.username} could not log in (status {resp.status_code})")

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/")

    @task(3)
    def officers(self) -> None:
        self.client.get("/officers")

    @task(2)
    def unlicensed(self) -> None:
        self.client.get("/officers?flag=UNLICENSED")

    @task(2)
    def flags(self) -> None:
        self.client.get("/flags")

    @task(1)
    def reminders(self) -> None:
        self.client.get("/reminders")

    @task(2)
    def ledger(self) -> None:
        self.client.get("/training/ledger")

    @task(2)
    def certificates(self) -> None:
        self.client.get("/certificates")

    @task(4)
    def officer(self) -> None:
        self.client.get(f"/officers/{random.randint(1, OFFICERS)}", name="/officers/[id]")

    @task(1)
    def export(self) -> None:
        """The officer list, searched to a hundred rows, as .xlsx (made in the request: under
        the job threshold)."""
        with self.client.get("/officers.xlsx?q=人员001", name="/officers.xlsx?q=",
                             catch_response=True) as resp:
            if resp.status_code == 200 and not resp.content.startswith(b"PK"):
                resp.failure("not an .xlsx file")

    @task(1)
    def small_import(self) -> None:
        """Three new officers from a CSV, through the import page (one step)."""
        page = self.client.get("/imports").text
        rows = "\n".join(f"压测{self.username}-{i},{new_id_number()},{UNIT}" for i in range(3))
        data = f"姓名,身份证号,单位\n{rows}\n".encode("utf-8-sig")
        with self.client.post("/imports", name="/imports (POST 3 officers)", data={
                "csrf_token": CSRF.search(page).group(1), "kind": "officers"},
                files={"file": ("名单.csv", data, "text/csv")}, catch_response=True) as resp:
            if resp.status_code == 200 and "导入成功" not in resp.text:
                resp.failure("no 导入成功 message")


if os.environ.get("LOAD_READS_ONLY"):  # pages only: no import, no export (both audited writes)
    Clerk.tasks = [t for t in Clerk.tasks if t.__name__ not in ("export", "small_import")]
