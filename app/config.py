"""Configuration read from the environment (DESIGN §5)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # Development: a key kept in instance/ so sessions survive restarts.
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'app.db'}"
    # pool_pre_ping: a connection that died while idle (database restarted) is replaced before
    # use instead of failing the first request of each worker with a 500.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY = None  # filled by create_app
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    BOOTSTRAP_SERVE_LOCAL = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 25)
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "certmgr@localhost")
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "http://127.0.0.1:5000")
    # `flask reminders send` holds a database lock; a second run waits this long for it, and a
    # lock not refreshed for this many minutes (the holder was killed) is taken over.
    REMINDER_LOCK_WAIT = int(os.environ.get("REMINDER_LOCK_WAIT") or 900)
    REMINDER_LOCK_STALE_MINUTES = int(os.environ.get("REMINDER_LOCK_STALE_MINUTES") or 15)
    # Rate limits per client address (Flask-Limiter syntax: "10/minute", "100/hour;10/minute").
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT") or "10/minute"  # POST /login
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT") or "30/minute"  # /verify/<token>
    PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT") or "60/minute"  # @public_limit pages
    RATELIMIT_STORAGE_URI = (os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL")
                             or "memory://")
    RATELIMIT_SWALLOW_ERRORS = True  # limiter storage (Redis) down: serve rather than answer 500
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    PER_PAGE = 25
    TESTING = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    # The suite logs in hundreds of times from one address; rate-limit tests lower these.
    LOGIN_RATE_LIMIT = "100000/minute"
    VERIFY_RATE_LIMIT = "100000/minute"
    PUBLIC_RATE_LIMIT = "100000/minute"
    RATELIMIT_STORAGE_URI = "memory://"
