"""A production start refuses a short or placeholder SECRET_KEY (it signs the session cookies and
the certificates' QR tokens); a `flask …` command outside APP_ENV=production is not held to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.config import Config

ROOT = Path(__file__).resolve().parents[2]
STRONG = "9b1f6c2e8a4d7035f1e2c3b4a5968778aa01bc23de45f607"


@pytest.fixture(autouse=True)
def _keep_logging():
    """A production app sets up the "certmgr" logger (app/logs.py); put it back for the tests after."""
    import logging

    root = logging.getLogger("certmgr")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    root.handlers[:] = saved[0]
    root.level, root.propagate = saved[1], saved[2]


@pytest.mark.parametrize("key, why", [("x", "占位"), ("k3y-abc", "太短"), ("changeme", "占位"), ("dev", "占位"),
                                      ("a-short-but-real-key-21", "太短"), ("x" * 40, "种类太少"),
                                      ("please-changeme-before-going-live-2026", "占位")])
def test_production_refuses_a_weak_key(monkeypatch, key, why):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match=why):
        create_app(Config)


def test_production_starts_with_a_strong_key(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SECRET_KEY", STRONG)

    class Prod(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'p.db'}"

    assert create_app(Prod).config["SECRET_KEY"] == STRONG


def _gunicorn(key: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "FLASK_DEBUG", "TEST_DATABASE_URL")}
    env.update(SECRET_KEY=key, DATABASE_URL=f"sqlite:///{tmp_path / 'g.db'}",
               CERTMGR_INSTANCE=str(tmp_path / "instance"))
    try:
        return subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
                               "app:create_app()"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=10)
    except subprocess.TimeoutExpired as exc:  # still serving: it started
        return subprocess.CompletedProcess(exc.cmd, -1, exc.stdout or "", exc.stderr or "")


def test_gunicorn_refuses_a_placeholder_key_without_app_env(tmp_path):
    done = _gunicorn("changeme", tmp_path)
    assert done.returncode not in (0, -1)
    assert "SECRET_KEY 是示例或占位值" in done.stderr and "生产环境拒绝启动" in done.stderr


def test_gunicorn_starts_with_a_strong_key(tmp_path):
    done = _gunicorn(STRONG, tmp_path)
    assert done.returncode == -1, done.stderr[-2000:]  # still serving after 10 s


def test_a_flask_command_outside_production_runs_with_any_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "FLASK_DEBUG")}
    env.update(SECRET_KEY="x", DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
