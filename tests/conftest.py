"""App, database, client and login helpers. Runs on SQLite, or PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import date

import pytest
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db
from app.rules import flagstore

TODAY = date(2026, 6, 15)
PASSWORD = "correct-horse-battery"


def _sqlite_dir(tmp_path_factory):
    """A RAM-backed directory for the SQLite file when there is one: a commit on disk costs an
    fsync (~5 ms), and the suite commits tens of thousands of times."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return tempfile.mkdtemp(prefix="certmgr-test-db-", dir="/dev/shm")
    return str(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    sqlite_dir = None if url else _sqlite_dir(tmp_path_factory)
    url = url or f"sqlite:///{sqlite_dir}/test.db"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        # FLAG_STORE_EAGER=1: the flag store built at each test's first write, so that the check
        # in _clean_tables sees every later write path (app/rules/flagstore.py)
        FLAG_STORE_EAGER = bool(os.environ.get("FLAG_STORE_EAGER"))

    application = create_app(Config)
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()
    if sqlite_dir:
        shutil.rmtree(sqlite_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def _table_probe(app):
    """One query naming the tables that hold rows (written by the test, its threads or the
    subprocesses it started): emptying only those costs a fraction of a DELETE per table."""
    with app.app_context():
        quote = _db.engine.dialect.identifier_preparer.quote
        return text(" UNION ALL ".join(f"SELECT '{t.name}' AS name WHERE EXISTS (SELECT 1 FROM {quote(t.name)})"
                                       for t in _db.metadata.sorted_tables))


@pytest.fixture(autouse=True)
def _clean_tables(app, _table_probe):
    yield
    with app.app_context():
        _db.session.rollback()
        # the flag store, when it claims to hold its day, must hold what the engine computes for
        # that day: every test is an oracle for a write path that forgot to refresh it
        stale = flagstore.held_differences(_db.session)
        _db.session.rollback()
        filled = set(_db.session.execute(_table_probe).scalars())
        for table in reversed(_db.metadata.sorted_tables):
            if table.name in filled:
                _db.session.execute(table.delete())
        _db.session.commit()
        _db.session.remove()
    if stale:
        pytest.fail("问题提示存储表与重新计算不一致（漏了刷新的写入路径）：\n"
                    + "\n".join(f"  {what} {row}（表中 {a}，应为 {b}）" for what, row, a, b in stale[:30]))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        _db.session.remove()


@pytest.fixture
def db(ctx):
    return _db


@pytest.fixture
def set_today(monkeypatch):
    """Sets the one clock (app.clock) for the test: ``set_today(date(2026, 6, 15))``."""

    def _set(day: date) -> None:
        monkeypatch.setattr("app.clock.today", lambda: day)

    return _set


@pytest.fixture
def public_list_on(app):
    """The public list /public/officers switched on (a fresh installation keeps it off)."""
    from app.settings.services import set_value

    with app.app_context():
        set_value("public_list_enabled", "是")
        _db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def make_user(app, username: str, role: str, password: str = PASSWORD):
    from app.auth.services import create_user

    with app.app_context():
        user, _ = create_user(username, role, password)
        _db.session.commit()
        return user.id


def login(client, app, role: str = "admin", username: str | None = None):
    """Create a user of `role` and log the client in through the real login form."""
    username = username or f"{role}_user"
    make_user(app, username, role)
    page = client.get("/login")
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


def token(client, url: str = "/") -> str:
    """A CSRF token from any page the client can see."""
    return csrf_from(client.get(url).get_data(as_text=True))


def follow_job(client, resp):
    """A job-backed download (202 + Location to /jobs/<id>): the finished file's response. The
    suite runs jobs in immediate mode, so the job is done by the time 202 arrives; anything else
    (200 inline, a redirect) is returned as it is."""
    if resp.status_code != 202:
        return resp
    status = client.get(resp.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert status["state"] == "done", status
    return client.get(status["download_url"])
