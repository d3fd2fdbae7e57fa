"""Configuration read from the environment (names are a contract: docs/domain.md 命令行约定)."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# instance/: the SQLite database, the development key, the job queue (CERTMGR_INSTANCE moves it)
INSTANCE_DIR = Path(os.environ.get("CERTMGR_INSTANCE") or BASE_DIR / "instance")


def is_development() -> bool:
    """`make run` sets APP_ENV=development; `flask run --debug` sets FLASK_DEBUG=1."""
    return (os.environ.get("APP_ENV", "").strip().lower() == "development"
            or os.environ.get("FLASK_DEBUG", "").strip().lower() in ("1", "true", "yes"))


# Keys seen in examples and tutorials; a key containing one of the words is a placeholder left in.
PLACEHOLDER_KEYS = {"changeme", "change-me", "change_me", "secret", "secret-key", "secret_key", "secretkey",
                    "dev", "development", "test", "testing", "x", "key", "password", "default",
                    "your-secret-key", "your_secret_key", "replace-me", "none", "null"}
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "change-this", "change_this", "replace-me",
                     "replace_me", "your-secret", "your_secret", "placeholder", "example")
MIN_KEY_LENGTH = 32


def is_production_start() -> bool:
    """Where a weak SECRET_KEY is refused: APP_ENV=production, or the app served by gunicorn.
    (A plain `flask …` command or script outside development is not held to it, so maintenance
    commands and the test suite's subprocesses run with any key.)"""
    if is_development():
        return False
    return (os.environ.get("APP_ENV", "").strip().lower() == "production"
            or "gunicorn.arbiter" in sys.modules)


def key_problem(key: str) -> str | None:
    """Why `key` is too weak for production (a message), or None."""
    plain = key.strip().lower()
    if plain in PLACEHOLDER_KEYS or any(word in plain for word in PLACEHOLDER_WORDS):
        return "SECRET_KEY 是示例或占位值"
    if len(key) < MIN_KEY_LENGTH:
        return f"SECRET_KEY 太短（{len(key)} 个字符，至少 {MIN_KEY_LENGTH} 个）"
    if len(set(key)) < 8:
        return "SECRET_KEY 字符种类太少（例如全是同一个字符）"
    return None


def secret_key(*, cli: bool = False) -> str:
    """SECRET_KEY from the environment. Outside development there is no fallback: with a
    guessable or leaked key anyone could sign a session cookie or a certificate's QR token.

    `cli`: a `flask …` command on a machine set up with `make install`/`make run` reuses the key
    file they keep (so QR tokens it prints verify on that server); it never creates one."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key and is_production_start() and (problem := key_problem(key)):
        raise RuntimeError(
            f"{problem}：生产环境拒绝启动。它签名登录会话和证件二维码，可被猜到的密钥等于没有密钥。请用 "
            "python -c 'import secrets; print(secrets.token_hex(32))' 生成新密钥，写入 instance/env 的 "
            "SECRET_KEY（所有服务器相同），然后重启服务。")
    if key:
        return key
    kept = INSTANCE_DIR / "secret_key"
    if cli and not is_development() and kept.exists() and not kept.stat().st_mode & 0o077:
        return kept.read_text().strip()
    if not is_development():
        raise RuntimeError(
            "未设置 SECRET_KEY：生产环境必须在环境变量中提供 SECRET_KEY（例如用 "
            "python -c 'import secrets; print(secrets.token_hex(32))' 生成，写入 instance/env）。"
            "开发时请用 make run，或设置 APP_ENV=development，密钥将自动保存在 instance/secret_key。")
    # Development: a key kept in instance/ (readable by its owner only) so sessions survive restarts.
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'app.db'}"
    # pool_pre_ping: a connection that died while idle (database restarted) is replaced before
    # use instead of failing the first request of each worker with a 500.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY = None  # filled by create_app
    WTF_CSRF_TIME_LIMIT = None
    # Business days turn at midnight here (app/clock.py), whatever zone the server runs in.
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BOOTSTRAP_SERVE_LOCAL = True
    SESSION_COOKIE_HTTPONLY = True
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's; deliberately not read from the environment
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 25)
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "certmgr@localhost")
    # Blank: QR codes use the address each request came to (app/web/tokens.py)
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "")
    # `flask reminders send` holds a database lock; a second run waits this long for it, and a
    # lock not refreshed for this many minutes (the holder was killed) is taken over.
    REMINDER_LOCK_WAIT = int(os.environ.get("REMINDER_LOCK_WAIT") or 900)
    REMINDER_LOCK_STALE_MINUTES = int(os.environ.get("REMINDER_LOCK_STALE_MINUTES") or 15)
    # Rate limits per client address (Flask-Limiter syntax: "10/minute", "100/hour;10/minute").
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT") or "10/minute"  # POST /login
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT") or "30/minute"  # /verify/<token>
    PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT") or "60/minute"  # @public_limit pages
    # The exam room (/exam/api/…): a computer room may sit behind one address, so the per-address
    # budgets are wide and the per-candidate ones tight.
    EXAM_LOGIN_RATE_LIMIT = os.environ.get("EXAM_LOGIN_RATE_LIMIT") or "300/minute"
    EXAM_LOGIN_CANDIDATE_LIMIT = os.environ.get("EXAM_LOGIN_CANDIDATE_LIMIT") or "10/minute"
    EXAM_API_RATE_LIMIT = os.environ.get("EXAM_API_RATE_LIMIT") or "6000/minute"
    EXAM_API_CANDIDATE_LIMIT = os.environ.get("EXAM_API_CANDIDATE_LIMIT") or "120/minute"
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT") or "300/minute"  # /api/v1, per token
    RATELIMIT_STORAGE_URI = (os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL")
                             or "memory://")
    RATELIMIT_SWALLOW_ERRORS = True  # limiter storage (Redis) down: serve rather than answer 500
    RATELIMIT_HEADERS_ENABLED = True
    # The reminder robot's address may be this machine (127.0.0.1, localhost) or link-local
    # (169.254.x.x, fe80::) only when this is set (WEBHOOK_ALLOW_LOCAL=1): the test suite's
    # stand-in robot listens on 127.0.0.1.
    WEBHOOK_ALLOW_LOCAL = os.environ.get("WEBHOOK_ALLOW_LOCAL", "").strip().lower() in ("1", "true", "yes")
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    # However active, a session ends this long after sign-in (the idle timeout is a setting).
    SESSION_ABSOLUTE_HOURS = float(os.environ.get("SESSION_ABSOLUTE_HOURS") or 12)
    PER_PAGE = 25
    TESTING = False
    # Background jobs (app/jobs): files in the database, or in this folder when set (shared by
    # every app server, e.g. an NFS mount). JOBS_IMMEDIATE runs a job inside the request (tests).
    JOB_FILES_DIR = os.environ.get("JOB_FILES_DIR", "").strip() or None
    JOBS_IMMEDIATE = os.environ.get("JOBS_IMMEDIATE", "").strip() in ("1", "true", "yes")
    # The anonymous /public/officers.pdf, kept until the list changes (app/public/pdfcache.py).
    PUBLIC_PDF_CACHE_DIR = os.environ.get("PUBLIC_PDF_CACHE_DIR", "").strip() or str(INSTANCE_DIR / "cache")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    # The suite logs in hundreds of times from one address; rate-limit tests lower these.
    LOGIN_RATE_LIMIT = "100000/minute"
    VERIFY_RATE_LIMIT = "100000/minute"
    PUBLIC_RATE_LIMIT = "100000/minute"
    EXAM_LOGIN_RATE_LIMIT = EXAM_LOGIN_CANDIDATE_LIMIT = "100000/minute"
    EXAM_API_RATE_LIMIT = EXAM_API_CANDIDATE_LIMIT = "100000/minute"
    API_RATE_LIMIT = "100000/minute"
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_IMMEDIATE = True
    PUBLIC_PDF_CACHE_DIR = tempfile.mkdtemp(prefix="certmgr-test-cache-")
    IMPORT_CACHE_DIR = tempfile.mkdtemp(prefix="certmgr-test-import-")  # not the worktree's instance/
    WEBHOOK_ALLOW_LOCAL = True  # tests that check the refusal turn it off
    # One cheap PBKDF2 round instead of scrypt (~0.2 s a hash, ~0.15 s a check): the suite logs in
    # hundreds of times. Tests that time the login set scrypt back.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
