"""Viewers see no edit forms; weak passwords are refused; the CLI resets a lost password."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models.auth import User
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import PASSWORD, csrf_from, login, make_user, token
from tests.factories import OfficerFactory


@pytest.fixture
def records(app):
    with app.app_context():
        o = OfficerFactory(name="张三")
        s = TrainingSession(title="法律培训", category="general_law", held_on=date(2026, 5, 1), hours=4)
        e = Exam(title="资格考试", kind="qualification", held_on=date(2026, 5, 2), max_score=100,
                 pass_score=60)
        _db.session.add_all([s, e])
        _db.session.flush()
        _db.session.add_all([Attendance(session_id=s.id, officer_id=o.id, status="attended", credited_hours=4),
                             ExamResult(exam_id=e.id, officer_id=o.id, score=75, absent=False)])
        _db.session.commit()
        return {"session": s.id, "exam": e.id}


def _post_forms(html: str) -> list[str]:
    """Actions of the POST forms on a page, except the navbar's logout."""
    actions = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]*)"', html)
    actions += re.findall(r'<form[^>]*action="([^"]*)"[^>]*method="post"', html)
    return [a for a in actions if a != "/logout"]


def test_viewer_sees_no_training_or_exam_edit_forms(app, client, records):
    login(client, app, "viewer")
    for url in (f"/training/{records['session']}", f"/exams/{records['exam']}"):
        html = client.get(url).get_data(as_text=True)
        assert "张三" in html, url
        assert _post_forms(html) == [], url
        assert "<input" not in html.split("</nav>", 1)[1], url
    assert "75" in client.get(f"/exams/{records['exam']}").get_data(as_text=True)
    for url in ("/training/new", f"/training/{records['session']}/edit", "/exams/new",
                f"/exams/{records['exam']}/edit"):
        assert client.get(url).status_code == 403, url


def test_clerk_still_has_the_forms(app, client, records):
    login(client, app, "clerk")
    html = client.get(f"/training/{records['session']}").get_data(as_text=True)
    assert f"/training/{records['session']}/attendance" in _post_forms(html)
    assert client.get("/exams/new").status_code == 200


@pytest.mark.parametrize("weak", ["aaaaaaaa", "11111111", "password", "12345678", "qwerty123",
                                  "Password1", "abc12345", "88888888"])
def test_weak_passwords_are_refused(app, client, weak):
    login(client, app, "viewer")
    resp = client.post("/account/password", data={
        "csrf_token": token(client, "/account/password"), "current": PASSWORD,
        "password": weak, "confirm": weak})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "密码已修改" not in html
    assert "太常见" in html or "相同字符" in html
    with app.app_context():
        assert _db.session.scalar(select(User).where(User.username == "viewer_user")).check_password(PASSWORD)


def test_weak_password_refused_in_user_admin_and_cli(app, client, runner):
    login(client, app, "admin")
    page = client.get("/users/new").get_data(as_text=True)
    resp = client.post("/users/new", data={"username": "weak", "display_name": "", "role": "viewer",
                                           "active": "y", "password": "aaaaaaaa", "confirm": "aaaaaaaa",
                                           "csrf_token": csrf_from(page)})
    assert "相同字符" in resp.get_data(as_text=True)
    result = runner.invoke(args=["users", "create", "weak2", "--role", "viewer", "--password-stdin"],
                           input="password\n")
    assert result.exit_code == 1 and "太常见" in result.output


def test_cli_set_password(app, runner):
    uid = make_user(app, "boss", "admin")
    result = runner.invoke(args=["users", "set-password", "boss", "--password-stdin"],
                           input="New-Admin-Pass-9\n")
    assert result.exit_code == 0, result.output
    assert "New-Admin-Pass-9" not in result.output and "boss" in result.output
    with app.app_context():
        user = _db.session.get(User, uid)
        assert user.check_password("New-Admin-Pass-9")


def test_cli_set_password_unlocks_and_ends_sessions(app, client, runner):
    login(client, app, "admin", username="boss")
    with app.app_context():
        from datetime import datetime, timedelta

        user = _db.session.scalar(select(User).where(User.username == "boss"))
        user.locked_until = datetime(2099, 1, 1) - timedelta(days=1)
        _db.session.commit()
    runner.invoke(args=["users", "set-password", "boss", "--password-stdin"], input="New-Admin-Pass-9\n")
    assert client.get("/users").status_code == 302  # the old session is over
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "boss", "password": "New-Admin-Pass-9",
                                       "csrf_token": csrf_from(page)}).status_code == 302


def test_cli_set_password_refuses_weak_and_unknown(app, runner):
    make_user(app, "boss", "admin")
    weak = runner.invoke(args=["users", "set-password", "boss", "--password-stdin"], input="aaaaaaaa\n")
    assert weak.exit_code == 1 and "相同字符" in weak.output
    with app.app_context():
        assert _db.session.scalar(select(User).where(User.username == "boss")).check_password(PASSWORD)
    unknown = runner.invoke(args=["users", "set-password", "nobody", "--password-stdin"], input="Good-Pass-123\n")
    assert unknown.exit_code == 1 and "nobody" in unknown.output
