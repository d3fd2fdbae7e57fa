"""Rate limits (login per address, /verify), bounded verify records, a lock-out that cannot lock
the admin out from another address, and a login for an unknown user as slow as for a known one."""

from __future__ import annotations

import statistics
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEvent
from tests.conftest import PASSWORD, csrf_from, make_user

ATTACKER = {"REMOTE_ADDR": "198.51.100.66"}
OFFICE = {"REMOTE_ADDR": "10.0.0.8"}


@pytest.fixture
def limiter_reset():
    from app.extensions import limiter

    limiter.reset()
    yield
    limiter.reset()


def _login(client, username: str, password: str, environ=None):
    environ = environ or {}
    page = client.get("/login", environ_base=environ)
    return client.post("/login", environ_base=environ, data={
        "username": username, "password": password,
        "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_login_answers_429_past_the_limit_per_address(app, monkeypatch, limiter_reset):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3/minute")
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 100)
    make_user(app, "bob", "viewer")
    client = app.test_client()
    for _ in range(3):
        assert _login(client, "bob", "wrong-password", ATTACKER).status_code == 200
    resp = _login(client, "bob", "wrong-password", ATTACKER)
    assert resp.status_code == 429
    assert "请求过于频繁" in resp.get_data(as_text=True)
    # the login page itself (GET) is not limited, and another address is not affected
    assert client.get("/login", environ_base=ATTACKER).status_code == 200
    assert _login(app.test_client(), "bob", PASSWORD, OFFICE).status_code == 302


def test_verify_answers_429_past_the_limit(app, client, monkeypatch, limiter_reset):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", "5/minute")
    for _ in range(5):
        assert client.get("/verify/forged.token", environ_base=ATTACKER).status_code == 404
    resp = client.get("/verify/forged.token", environ_base=ATTACKER)
    assert resp.status_code == 429
    assert "请求过于频繁" in resp.get_data(as_text=True)
    assert client.get("/verify/forged.token", environ_base=OFFICE).status_code == 404


def test_verify_hits_are_recorded_in_a_bounded_way(app, client):
    from app.models.verify import VerifyHit
    from app.web.tokens import make_token

    with app.test_request_context():
        unknown = make_token("exam", 999999)
    for _ in range(20):
        assert client.get("/verify/forged.token").status_code == 404
        assert client.get(f"/verify/{unknown}").status_code == 404
    with app.app_context():
        audited = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "verify"))
        hits = db.session.execute(select(VerifyHit.kind, VerifyHit.row_id, VerifyHit.hits)
                                  .order_by(VerifyHit.kind)).all()
    assert audited == 2  # the first hit of each token today, not 40 rows
    assert [tuple(h) for h in hits] == [("exam", 999999, 20), ("invalid", 0, 20)]


def test_failures_from_one_address_do_not_lock_the_admin_out_elsewhere(app):
    make_user(app, "admin", "admin")
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(attacker, "admin", "guess-guess", ATTACKER)
    resp = _login(attacker, "admin", PASSWORD, ATTACKER)
    assert resp.status_code == 200 and "已锁定" in resp.get_data(as_text=True)
    # the real admin, at the office, still gets in
    assert _login(app.test_client(), "admin", PASSWORD, OFFICE).status_code == 302


def test_unknown_user_is_locked_like_a_known_one(app):
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "nobody", "guess-guess", ATTACKER)
    assert "已锁定" in _login(client, "nobody", "guess-guess", ATTACKER).get_data(as_text=True)


def test_login_for_an_unknown_user_takes_as_long_as_for_a_known_one(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")  # the real cost, not the suite's
    make_user(app, "carol", "viewer")
    client = app.test_client()

    def timed(username: str) -> float:
        page = client.get("/login")
        data = {"username": username, "password": "wrong-password",
                "csrf_token": csrf_from(page.get_data(as_text=True))}
        start = time.perf_counter()
        client.post("/login", data=data)
        return time.perf_counter() - start

    known = statistics.median(timed("carol") for _ in range(5))
    unknown = statistics.median(timed(f"ghost{i}") for i in range(5))
    assert unknown > known * 0.5, (known, unknown)


def test_public_list_answers_429_past_the_limit(app, client, monkeypatch, limiter_reset, public_list_on):
    """/public/officers and its exports share one anonymous budget per address."""
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT", "4/minute")
    for path in ("/public/officers", "/public/officers.xlsx", "/public/officers", "/public/officers"):
        assert client.get(path, environ_base=ATTACKER).status_code == 200
    resp = client.get("/public/officers.xlsx", environ_base=ATTACKER)
    assert resp.status_code == 429
    assert "请求过于频繁" in resp.get_data(as_text=True)
    assert client.get("/public/officers", environ_base=OFFICE).status_code == 200
