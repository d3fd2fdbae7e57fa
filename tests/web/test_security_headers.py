"""Security headers, no inline scripts, Secure cookies and HSTS on HTTPS, SECRET_KEY, ProxyFix."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models.audit import AuditEvent
from tests.conftest import PASSWORD, csrf_from, login, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _csp(resp) -> dict[str, str]:
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value
    return out


@pytest.mark.parametrize("path", ["/login", "/static/app.js", "/nowhere", "/verify/forged"])
def test_headers_on_every_response(client, path):
    resp = client.get(path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    csp = _csp(resp)
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP by default


def test_signed_in_pages_carry_the_headers(app, client):
    login(client, app, "viewer")
    resp = client.get("/officers")
    assert resp.status_code == 200 and "script-src 'self'" in resp.headers["Content-Security-Policy"]


def _html_templates():
    for path in TEMPLATES.rglob("*.html"):
        rel = path.relative_to(TEMPLATES).as_posix()
        if rel.startswith("pdf/") or rel.endswith(("email.html", "pdf.html")):
            continue  # documents and e-mails are not served to a browser under our CSP
        yield rel, path.read_text(encoding="utf-8")


def test_no_inline_scripts_or_event_handlers_in_templates():
    offenders = []
    for rel, text in _html_templates():
        for m in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in m.group(1):
                offenders.append((rel, m.group(0)))
        for m in re.finditer(r"\son[a-z]+\s*=", text):
            offenders.append((rel, m.group(0)))
        if "javascript:" in text:
            offenders.append((rel, "javascript:"))
    assert offenders == []


def _secure_app(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'secure.db'}"

    application = create_app(Config)
    with application.app_context():
        db.create_all()
    return application


def test_secure_cookie_and_hsts_when_configured(monkeypatch, tmp_path):
    application = _secure_app(monkeypatch, tmp_path)
    client = application.test_client()
    resp = client.get("/login", base_url="https://localhost")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    set_cookie = resp.headers.get("Set-Cookie", "")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    from app.config import Config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Config)


def test_development_key_file_is_private(monkeypatch, tmp_path):
    from app import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    key = config.secret_key()
    path = tmp_path / "secret_key"
    assert len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert config.secret_key() == key  # kept across restarts
    path.chmod(0o644)  # a key file written by an older version is tightened
    config.secret_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def _login_ip(application, headers) -> str:
    client = application.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "ipuser", "password": PASSWORD, "csrf_token": csrf_from(page)},
                headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    with application.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login")
                                  .order_by(AuditEvent.id.desc()))
        return event.ip


def test_forwarded_for_is_ignored_by_default(app):
    make_user(app, "ipuser", "viewer")
    assert _login_ip(app, {"X-Forwarded-For": "6.6.6.6"}) == "10.0.0.5"


def test_forwarded_for_is_trusted_for_the_configured_hops(monkeypatch, tmp_path):
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'proxy.db'}"

    application = create_app(Config)
    with application.app_context():
        db.create_all()
    make_user(application, "ipuser", "viewer")
    # One proxy: its own entry (the last) is the client; what the client wrote before is not trusted.
    assert _login_ip(application, {"X-Forwarded-For": "6.6.6.6, 192.0.2.7"}) == "192.0.2.7"
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


def _flask_cli(env_extra: dict, tmp_path, *args: str):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "APP_ENV", "FLASK_DEBUG")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CERTMGR_INSTANCE": str(tmp_path / "instance"),
                **env_extra})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_a_flask_command_without_secret_key_says_why_without_a_traceback(tmp_path):
    """Outside development, with no key kept by `make install`, a command exits 2 with one line."""
    result = _flask_cli({}, tmp_path, "db", "upgrade")
    assert result.returncode == 2
    assert "未设置 SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_a_flask_command_reuses_the_key_make_install_kept(tmp_path):
    """`make install` (development) keeps instance/secret_key; a later plain `flask …` command on
    that machine signs with the same key (a QR printed from the CLI verifies on the server)."""
    first = _flask_cli({"APP_ENV": "development"}, tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    kept = tmp_path / "instance" / "secret_key"
    assert kept.exists() and stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    later = _flask_cli({}, tmp_path, "report", "flags", "--format", "json")
    assert later.returncode == 0, later.stderr
    assert later.stdout.strip() == "[]"
