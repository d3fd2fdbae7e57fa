"""Sessions end on the server: logout, password change, deactivation, "sign out everywhere",
idle and absolute timeouts. Viewers can log out and change their own password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.auth import User
from tests.conftest import PASSWORD, login, token


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app, value: str):
    """A second browser holding a copy of the session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _uid(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


# ---------------------------------------------------------------- viewers may log out, change password


def test_viewer_can_log_out(app, client):
    login(client, app, "viewer")
    resp = client.post("/logout", data={"csrf_token": token(client)})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_viewer_can_change_own_password(app, client):
    login(client, app, "viewer")
    resp = client.post("/account/password", data={
        "csrf_token": token(client, "/account/password"), "current": PASSWORD,
        "password": "Fresh-Pass-2026", "confirm": "Fresh-Pass-2026"}, follow_redirects=True)
    assert resp.status_code == 200
    assert "密码已修改" in resp.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "viewer_user"))
        assert user.check_password("Fresh-Pass-2026")


def test_viewer_still_cannot_write_elsewhere(app, client):
    login(client, app, "viewer")
    assert client.post("/officers/new", data={"csrf_token": token(client)}).status_code == 403


# ---------------------------------------------------------------- revocation


def test_cookie_copied_before_logout_is_refused(app, client):
    login(client, app, "admin")
    copy = _cookie(client)
    assert _replay(app, copy).get("/users").status_code == 200
    client.post("/logout", data={"csrf_token": token(client)})
    resp = _replay(app, copy).get("/users")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_cookie_copied_before_password_change_is_refused(app, client):
    login(client, app, "clerk")
    copy = _cookie(client)
    client.post("/account/password", data={
        "csrf_token": token(client, "/account/password"), "current": PASSWORD,
        "password": "Fresh-Pass-2026", "confirm": "Fresh-Pass-2026"})
    # The browser that changed the password stays signed in; the copy does not.
    assert client.get("/officers").status_code == 200
    resp = _replay(app, copy).get("/officers")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def _admin_edit(admin, uid: int, **fields):
    data = {"csrf_token": token(admin, f"/users/{uid}/edit"), "username": "", "display_name": "",
            "role": "clerk", "password": "", "confirm": ""}
    data.update(fields)
    html = admin.get(f"/users/{uid}/edit").get_data(as_text=True)
    import re

    data["username"] = re.search(r'name="username"[^>]*value="([^"]*)"', html).group(1)
    resp = admin.post(f"/users/{uid}/edit", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]


def test_cookie_copied_before_deactivation_is_refused_even_after_reactivation(app, client):
    login(client, app, "clerk")
    copy = _cookie(client)
    admin = app.test_client()
    login(admin, app, "admin")
    uid = _uid(app, "clerk_user")
    _admin_edit(admin, uid)  # "active" unchecked: deactivated
    assert _replay(app, copy).get("/officers").status_code == 302
    _admin_edit(admin, uid, active="y")
    resp = _replay(app, copy).get("/officers")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_admin_password_reset_ends_the_users_sessions(app, client):
    login(client, app, "clerk")
    admin = app.test_client()
    login(admin, app, "admin")
    _admin_edit(admin, _uid(app, "clerk_user"), active="y", password="Other-Pass-2026",
                confirm="Other-Pass-2026")
    assert client.get("/officers").status_code == 302


def test_admin_signs_a_user_out_everywhere(app, client):
    login(client, app, "clerk")
    copy = _cookie(client)
    admin = app.test_client()
    login(admin, app, "admin")
    uid = _uid(app, "clerk_user")
    html = admin.get("/users").get_data(as_text=True)
    assert f"/users/{uid}/signout" in html and "全部下线" in html
    resp = admin.post(f"/users/{uid}/signout", data={"csrf_token": token(admin, "/users")},
                      follow_redirects=True)
    assert "已在所有设备上退出" in resp.get_data(as_text=True)
    assert client.get("/officers").status_code == 302
    assert _replay(app, copy).get("/officers").status_code == 302
    # The admin's own session is untouched, and the clerk can sign in again.
    assert admin.get("/users").status_code == 200
    again = app.test_client()
    page = again.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    assert again.post("/login", data={"username": "clerk_user", "password": PASSWORD,
                                      "csrf_token": csrf_from(page)}).status_code == 302


# ---------------------------------------------------------------- timeouts


@pytest.fixture
def clock(monkeypatch):
    from app.auth import sessions
    from app.models_base import utcnow

    state = {"now": utcnow()}
    monkeypatch.setattr(sessions, "now", lambda: state["now"])

    def advance(**kw):
        state["now"] += timedelta(**kw)

    return advance


def test_idle_timeout_default_two_hours(app, client, clock):
    login(client, app, "clerk")
    clock(minutes=110)
    assert client.get("/officers").status_code == 200
    clock(minutes=110)  # 110 minutes since the last request: still fine
    assert client.get("/officers").status_code == 200
    clock(minutes=121)
    resp = client.get("/officers")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert "长时间未操作" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_idle_timeout_is_a_setting(app, client, clock):
    from app.settings.services import set_value

    with app.app_context():
        set_value("session_idle_minutes", "30")
        db.session.commit()
    login(client, app, "clerk")
    clock(minutes=31)
    assert client.get("/officers").status_code == 302


def test_idle_timeout_setting_is_validated(app):
    from app.settings.services import SettingError, set_value

    with app.app_context():
        for bad in ("0", "abc", "100000"):
            with pytest.raises(SettingError):
                set_value("session_idle_minutes", bad)


def test_absolute_timeout(app, client, clock):
    login(client, app, "clerk")
    for _ in range(12):
        clock(minutes=59)
        assert client.get("/officers").status_code == 200
    clock(minutes=59)
    resp = client.get("/officers")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_cookie_from_before_server_side_sessions_is_refused(app, client):
    """A cookie with a user id but no session token (issued before sessions were kept on the
    server) does not sign anyone in."""
    login(client, app, "clerk")
    with client.session_transaction() as sess:
        sess.pop("_sid")
    resp = client.get("/officers")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


# ---------------------------------------------------------------- one session per browser


def _second_browser(app, username="clerk_user"):
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    assert other.post("/login", data={"username": username, "password": PASSWORD,
                                      "csrf_token": csrf_from(page)}).status_code == 302
    return other


def test_logout_on_one_pc_leaves_the_other_signed_in(app, client):
    login(client, app, "clerk")
    other = _second_browser(app)
    client.post("/logout", data={"csrf_token": token(client)})
    assert client.get("/officers").status_code == 302
    assert other.get("/officers").status_code == 200


def test_account_page_lists_sessions_and_marks_this_one(app, client):
    login(client, app, "clerk")
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                             "(KHTML, like Gecko) Chrome/120.0 Safari/537.36")
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    page = other.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    other.post("/login", data={"username": "clerk_user", "password": PASSWORD, "csrf_token": csrf_from(page)})
    html = client.get("/account").get_data(as_text=True)
    table = html[html.index('id="sessions"'):]
    assert table.count("<tr>") == 3  # header + two sessions
    assert table.count("当前") == 1
    assert "10.1.2.3" in table and "Chrome（Windows）" in table
    assert "退出所有设备" in html
    # From the second browser, the page marks the other row as 当前.
    html2 = other.get("/account").get_data(as_text=True)
    row = [r for r in html2.split("<tr>") if "当前" in r][0]
    assert "10.1.2.3" in row


def test_end_one_session_from_the_list(app, client):
    import re

    login(client, app, "clerk")
    other = _second_browser(app)
    third = _second_browser(app)
    html = client.get("/account").get_data(as_text=True)
    rows = [r for r in html.split("<tr>")[2:]]
    assert len(rows) == 3
    others = [re.search(r'/account/sessions/([0-9a-f]+)/end', r).group(1) for r in rows if "当前" not in r]
    # Which row is `other`'s: end each in turn and watch.
    resp = client.post(f"/account/sessions/{others[0]}/end", data={"csrf_token": csrf_of(html)},
                       follow_redirects=True)
    assert "该登录已退出" in resp.get_data(as_text=True)
    alive = [c.get("/officers").status_code for c in (other, third)]
    assert sorted(alive) == [200, 302]
    assert client.get("/officers").status_code == 200
    html = client.get("/account").get_data(as_text=True)
    assert html.split('id="sessions"')[1].count("<tr>") == 3  # header + two left


def test_cannot_end_another_users_session(app, client):
    import re

    login(client, app, "clerk")
    viewer = app.test_client()
    login(viewer, app, "viewer")
    html = viewer.get("/account").get_data(as_text=True)
    sid = re.search(r'/account/sessions/([0-9a-f]+)/end', html).group(1)
    resp = client.post(f"/account/sessions/{sid}/end", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "该登录已结束或不存在" in resp.get_data(as_text=True)
    assert viewer.get("/officers").status_code == 200


def test_end_session_needs_csrf(app, client):
    import re

    login(client, app, "clerk")
    other = _second_browser(app)
    html = client.get("/account").get_data(as_text=True)
    sid = [re.search(r'/account/sessions/([0-9a-f]+)/end', r).group(1)
           for r in html.split("<tr>")[2:] if "当前" not in r][0]
    assert client.post(f"/account/sessions/{sid}/end").status_code == 400
    assert other.get("/officers").status_code == 200


def test_sign_out_everywhere_from_the_account_page(app, client):
    login(client, app, "viewer")
    other = _second_browser(app, "viewer_user")
    resp = client.post("/account/signout-all", data={"csrf_token": token(client, "/account")},
                       follow_redirects=True)
    assert "您已在所有设备上退出" in resp.get_data(as_text=True)
    assert client.get("/officers").status_code == 302
    assert other.get("/officers").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(app, client, clock):
    from app.models.auth import UserSession

    login(client, app, "clerk")
    with app.app_context():
        first = db.session.scalar(select(UserSession.last_seen_at))
    clock(seconds=30)
    client.get("/officers")
    with app.app_context():
        assert db.session.scalar(select(UserSession.last_seen_at)) == first
    clock(seconds=31)
    client.get("/officers")
    with app.app_context():
        assert db.session.scalar(select(UserSession.last_seen_at)) > first


def csrf_of(html: str) -> str:
    from tests.conftest import csrf_from

    return csrf_from(html)
