"""`flask db upgrade` then `flask db check` is clean on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def empty_db_url(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg or not pg.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"migr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_then_check_is_clean(empty_db_url):
    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    check = _flask(empty_db_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    seed = _flask(empty_db_url, "demo", "seed", "--officers", "12", "--today", "2026-06-15")
    assert seed.returncode == 0, seed.stderr
    report = _flask(empty_db_url, "settings", "show")
    assert "org_name" in report.stdout


def test_case_verdict_migration_judges_the_cases_already_recorded(empty_db_url):
    """Upgrading a database that already holds cases fills case_verdict with their verdicts."""
    assert _flask(empty_db_url, "db", "upgrade").returncode == 0
    seed = _flask(empty_db_url, "demo", "seed", "--officers", "12", "--today", "2026-06-15")
    assert seed.returncode == 0, seed.stderr
    down = _flask(empty_db_url, "db", "downgrade", "4b227bc8fa1c")  # as before issue 8's stored verdicts
    assert down.returncode == 0, down.stderr
    up = _flask(empty_db_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM penalty_case")).scalar()
        verdicts = conn.execute(text("SELECT count(*), sum(CASE WHEN ok THEN 0 ELSE 1 END) FROM case_verdict")).one()
    engine.dispose()
    assert cases > 0 and verdicts[0] == cases and verdicts[1] > 0  # the demo has failing cases too
    check = _flask(empty_db_url, "check", "cases")
    assert check.returncode == 0 and "一致" in check.stdout, check.stdout + check.stderr
