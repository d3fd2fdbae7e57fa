"""A role matrix over every route in the URL map (anonymous, viewer, clerk)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.auth.access import PUBLIC_ENDPOINTS
from app.extensions import db
from app.models.audit import AuditEvent
from tests.conftest import login, token

# Only admins may touch users, settings and the audit log.
ADMIN_ONLY = re.compile(r"^(auth\.user|settings\.|audit\.|jobs\.(backup|send_reminders)$)")


def _routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.endswith("static"):
            continue
        values = {}
        for arg in rule.arguments:
            conv = rule._converters[arg]
            name = conv.__class__.__name__
            if name == "AnyConverter":
                values[arg] = sorted(conv.items)[0]
            elif name == "IntegerConverter" or "year" in arg:
                values[arg] = 2026 if "year" in arg else 1
            else:
                values[arg] = "1"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


# A viewer may write only to their own account (tests/web/test_security_sessions.py).
OWN_ACCOUNT = {"auth.logout", "auth.change_password", "auth.api_tokens", "auth.api_token_revoke",
               "auth.account_end_session", "auth.account_signout_all",
               "applications.notifications_read"}  # marking one's own messages read
READ_ACTIONS = ("export", "print", "login", "logout", "verify")


def _audit_count(app):
    """Audit rows of writes (exports and prints are reads a viewer may do)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.not_in(READ_ACTIONS)))


def test_there_are_routes(app):
    endpoints = {e for e, _m, _u in _routes(app)}
    assert {"main.dashboard", "auth.users", "settings.index", "audit.index"} <= endpoints


def test_anonymous_gets_the_login_page_everywhere(app, client):
    for endpoint, method, url in _routes(app):
        resp = client.open(url, method=method)
        if endpoint.startswith("api."):  # the token API answers in JSON (tests/web/test_api.py)
            assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized", endpoint
            continue
        assert resp.status_code == 302, (endpoint, method, url, resp.status_code)
        assert resp.headers["Location"].startswith("/login"), (endpoint, method)


def test_viewer_cannot_write_anywhere(app, client):
    login(client, app, "viewer")
    csrf = token(client, "/")
    before = _audit_count(app)
    for endpoint, method, url in _routes(app):
        if endpoint in OWN_ACCOUNT:
            continue
        if method == "GET":
            resp = client.get(url)
            # 202: a document handed to a background job (a viewer may print)
            expected = (403,) if ADMIN_ONLY.match(endpoint) else (200, 202, 302, 403, 404)
            assert resp.status_code in expected, (endpoint, url, resp.status_code)
        else:
            resp = client.open(url, method=method, data={"csrf_token": csrf})
            if endpoint.startswith("me."):  # an officer's own pages do not exist for staff
                assert resp.status_code == 404, (endpoint, method, url, resp.status_code)
                continue
            assert resp.status_code == 403, (endpoint, method, url, resp.status_code)
    assert _audit_count(app) == before


def test_clerk_cannot_reach_users_settings_or_audit(app, client):
    login(client, app, "clerk")
    csrf = token(client, "/")
    checked = 0
    for endpoint, method, url in _routes(app):
        if not ADMIN_ONLY.match(endpoint):
            continue
        resp = client.open(url, method=method, data={"csrf_token": csrf})
        assert resp.status_code == 403, (endpoint, method, url, resp.status_code)
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("role", ["clerk", "admin"])
def test_no_get_route_answers_500(app, client, role):
    login(client, app, role)
    for endpoint, method, url in _routes(app):
        if method != "GET":
            continue
        resp = client.get(url)
        assert resp.status_code < 500, (endpoint, url, resp.status_code)


def _officer_login(app, client):
    """An officer's own account (app/me), signed in through the ordinary login form."""
    from app.me.accounts import activate, invite
    from tests.conftest import PASSWORD, csrf_from
    from tests.factories import OfficerFactory

    with app.app_context():
        officer = OfficerFactory()
        (_o, code), = invite([officer])
        activate(officer.id_number, code, PASSWORD, PASSWORD)
        db.session.commit()
        idn = officer.id_number
    page = client.get("/login")
    resp = client.post("/login", data={"username": idn, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/me")


def test_an_officer_account_gets_404_on_every_staff_route(app, client):
    """Every route but its own /me pages, logout and the public ones answers 404, whatever the
    method — and writes nothing."""
    from app.auth.access import officer_may_reach

    _officer_login(app, client)
    csrf = token(client, "/me")
    before = _audit_count(app)
    checked = 0
    for endpoint, method, url in _routes(app):
        if officer_may_reach(endpoint):
            continue
        resp = client.open(url, method=method, data={"csrf_token": csrf})
        assert resp.status_code == 404, (endpoint, method, url, resp.status_code)
        checked += 1
    assert checked > 100
    assert _audit_count(app) == before
    for url in ("/me", "/me/hours", "/me/exams", "/me/cases", "/me/card", "/me/requests", "/me/claims/new"):
        assert client.get(url).status_code == 200, url
