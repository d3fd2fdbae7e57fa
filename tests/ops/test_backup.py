"""`flask backup --out FILE` then `flask restore FILE` into an empty database gives back the same
data (SQLite: the online backup API; PostgreSQL: pg_dump/pg_restore). Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from app.extensions import db as _db
from tests.conftest import TODAY, make_user
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

ROOT = Path(__file__).resolve().parents[2]


def flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def empty_url(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the app, in a comparable form."""
    engine = create_engine(url)
    out = {}
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            for table in _db.metadata.sorted_tables:
                if table.name in names:
                    rows = conn.execute(select(table)).all()
                    out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    finally:
        engine.dispose()
    return out


@pytest.fixture
def data(app):
    make_user(app, "clerk1", "clerk")
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        for i in range(5):
            o = OfficerFactory(name=f"人员{i}", unit=unit)
            CertificateFactory(officer=o, issued_on=TODAY - timedelta(days=800),
                               expires_on=TODAY + timedelta(days=10 * i))
        _db.session.commit()


def test_backup_then_restore_into_an_empty_database_gives_back_the_same_data(app, data, stamped, empty_url,
                                                                               tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    out = tmp_path / "certmgr.backup"
    made = flask(url, "backup", "--out", str(out))
    assert made.returncode == 0, made.stdout + made.stderr
    assert out.exists() and out.stat().st_size > 0
    assert str(out) in made.stdout

    restored = flask(empty_url, "restore", str(out))
    assert restored.returncode == 0, restored.stdout + restored.stderr

    before, after = snapshot(url), snapshot(empty_url)
    assert before["officer"] and before["user_account"]
    assert after == before

    # a non-empty database is not overwritten without --force (exit 1, nothing changed)
    again = flask(empty_url, "restore", str(out))
    assert again.returncode == 1
    assert "--force" in again.stderr + again.stdout
    forced = flask(empty_url, "restore", str(out), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert snapshot(empty_url) == before


def test_usage_errors_exit_2_and_a_bad_file_is_refused(app, tmp_path, empty_url):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    assert flask(url, "backup").returncode == 2  # --out is required
    assert flask(empty_url, "restore", str(tmp_path / "missing.backup")).returncode == 2
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup")
    refused = flask(empty_url, "restore", str(junk))
    assert refused.returncode == 1
    assert "不是" in refused.stderr


# ---------------------------------------------------------------- only this product's backups


@pytest.fixture
def stamped(app):
    """The test database as `flask db upgrade` leaves it: with alembic_version at the head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    head = sorted(ScriptDirectory.from_config(config).get_heads())[0]
    with app.app_context():
        with _db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    yield head
    with app.app_context(), _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def _backup_of(url: str, out: Path, *statements: str, with_app_tables: bool = False) -> Path:
    """`flask backup` of the database at `url` after running `statements` there."""
    engine = create_engine(url)
    try:
        if with_app_tables:
            _db.metadata.create_all(engine)
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        engine.dispose()
    made = flask(url, "backup", "--out", str(out))
    assert made.returncode == 0, made.stdout + made.stderr
    return out


@pytest.mark.parametrize("force", [False, True])
def test_a_foreign_database_is_refused_and_nothing_is_touched(app, data, stamped, empty_url, tmp_path, force):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    foreign = _backup_of(empty_url, tmp_path / "notes.backup",
                         "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(50))",
                         "INSERT INTO notes VALUES (1, 'hello')")
    before = snapshot(url)
    refused = flask(url, "restore", str(foreign), *(["--force"] if force else []))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "不是本系统的备份" in refused.stderr and "数据库未改动" in refused.stderr
    assert snapshot(url) == before and before["officer"]


def test_a_backup_from_an_unknown_version_is_refused(app, data, stamped, empty_url, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    newer = _backup_of(empty_url, tmp_path / "newer.backup",
                       "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
                       "INSERT INTO alembic_version VALUES ('0123456789ab')", with_app_tables=True)
    before = snapshot(url)
    refused = flask(url, "restore", str(newer), "--force")
    assert refused.returncode == 1
    assert "0123456789ab" in refused.stderr and "不是本程序已知的版本" in refused.stderr
    assert snapshot(url) == before
