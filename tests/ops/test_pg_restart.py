"""A PostgreSQL restart while the app is idle costs no 500 (pool_pre_ping).

Runs only when the suite runs on PostgreSQL: it starts its own throwaway cluster with
scripts/pg.sh so restarting it cannot disturb the suite's database.
"""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
    reason="PostgreSQL only")


def _pg_ctl() -> str:
    return sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]


@pytest.fixture
def cluster():
    out = subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "start"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    yield env
    subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "stop", env["PGTEST_DIR"]], timeout=120)


def test_first_request_after_a_database_restart_is_not_500(cluster):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = cluster["PGTEST_URL"]

    app = create_app(Config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    login(client, app, "viewer")
    assert client.get("/officers").status_code == 200

    subprocess.run(["runuser", "-u", "postgres", "--", _pg_ctl(), "-D",
                    cluster["PGTEST_DIR"] + "/data", "-l", cluster["PGTEST_DIR"] + "/log",
                    "-m", "fast", "-w", "restart"],
                   cwd="/", check=True, capture_output=True, timeout=120)

    resp = client.get("/officers")
    assert resp.status_code == 200
    assert client.get("/officers").status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
