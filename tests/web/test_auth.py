"""Login, lock-out, logout, audit of logins, CSRF."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.auth import User
from tests.conftest import PASSWORD, csrf_from, login, make_user


def _post_login(client, username, password):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/officers")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")


def test_login_page_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and "用户名" in html and 'lang="zh-CN"' in html


def test_login_and_logout_are_audited(app, client):
    make_user(app, "alice", "clerk")
    resp = _post_login(client, "alice", PASSWORD)
    assert resp.status_code == 302
    assert "执法人员资格概况" in client.get("/").get_data(as_text=True)
    html = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    assert client.get("/").status_code == 302
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["login", "logout"]


def test_failed_login_is_audited_and_says_so(app, client):
    make_user(app, "bob", "viewer")
    resp = _post_login(client, "bob", "wrong-password")
    assert resp.status_code == 200
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    resp = _post_login(client, "nobody", "whatever1")
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    with app.app_context():
        failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")
                                    .order_by(AuditEvent.id)).all()
    assert [e.actor for e in failed] == ["bob", "nobody"]


def test_lockout_after_repeated_failures(app, client):
    make_user(app, "carol", "clerk")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, "carol", "bad-password")
    # Even the right password is refused while locked.
    resp = _post_login(client, "carol", PASSWORD)
    assert resp.status_code == 200
    assert "已锁定" in resp.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "carol"))
        assert user.locked_until is not None


def test_admin_unlocks_a_locked_user(app, client):
    make_user(app, "dave", "clerk")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, "dave", "bad-password")
    admin = app.test_client()
    login(admin, app, "admin")
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "dave"))
    html = admin.get("/users").get_data(as_text=True)
    assert "解锁" in html
    admin.post(f"/users/{uid}/unlock", data={"csrf_token": csrf_from(html)})
    assert _post_login(client, "dave", PASSWORD).status_code == 302


def test_passwords_are_hashed(app):
    make_user(app, "erin", "viewer")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "erin"))
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_post_without_csrf_token_is_refused(app, client):
    login(client, app, "admin")
    resp = client.post("/settings", data={"org_name": "被篡改的单位"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    with app.app_context():
        from app.settings.services import get

        assert get("org_name") == "示例街道办事处"


def test_open_redirect_is_ignored(app, client):
    make_user(app, "frank", "viewer")
    page = client.get("/login?next=https://evil.example/")
    resp = client.post("/login?next=https://evil.example/", data={
        "username": "frank", "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.headers["Location"] == "/"


def test_admin_creates_user_with_generated_password_shown_once(app, client):
    login(client, app, "admin")
    html = client.get("/users/new").get_data(as_text=True)
    resp = client.post("/users/new", data={"username": "grace", "display_name": "格蕾丝", "role": "viewer",
                                           "active": "y", "password": "", "confirm": "",
                                           "csrf_token": csrf_from(html)},
                       follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "用户 grace 已创建，初始密码：" in text
    assert "grace" in client.get("/users").get_data(as_text=True)
    assert "初始密码" not in client.get("/users").get_data(as_text=True)
