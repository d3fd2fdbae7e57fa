"""app/uow.py: one commit after the handler, nothing written when it refuses, words instead of a 500."""
from __future__ import annotations

import pytest
from flask import Blueprint, flash, redirect, request
from sqlalchemy import event, func, select

from app import create_app
from app.errors import DomainError
from app.extensions import db as _db
from app.models.officers import Unit
from tests.conftest import login, token

bp = Blueprint("uowtest", __name__)


@bp.route("/uowtest/refuse", methods=["GET", "POST"])
def refuse():
    """Writes, then refuses: what it wrote must not stay."""
    if request.method == "GET":
        return "the form"
    _db.session.add(Unit(name="写了又被拒绝"))
    _db.session.flush()
    raise DomainError("单位名称不符合规定，未保存")


@bp.route("/uowtest/race", methods=["GET", "POST"])
def race():
    """The name was free when checked; someone saved it before our commit (a unique race)."""
    if request.method == "GET":
        return "the form"
    _db.session.add(Unit(name="同名单位"))
    flash("单位已保存", "success")
    return redirect("/uowtest/race?saved=1")


@pytest.fixture(scope="module")
def uow_app(app):
    """A second app on the same database, with the test handlers above."""
    second = create_app(type("Config", (), {k: v for k, v in app.config.items() if k.isupper()}))
    second.register_blueprint(bp)
    return second


def _flashes(client) -> list:
    with client.session_transaction() as s:
        return list(s.get("_flashes", []))


def _units(app, name: str) -> int:
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Unit).where(Unit.name == name))


def test_a_refusal_after_a_write_leaves_nothing_and_says_why(uow_app):
    client = login(uow_app.test_client(), uow_app, "clerk")
    resp = client.post("/uowtest/refuse", data={"csrf_token": token(client)})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/uowtest/refuse")  # back to the form
    assert ("danger", "单位名称不符合规定，未保存") in _flashes(client)
    assert _units(uow_app, "写了又被拒绝") == 0


def test_a_unique_race_at_the_commit_is_a_message_not_a_500(uow_app):
    client = login(uow_app.test_client(), uow_app, "clerk")
    with uow_app.app_context():
        _db.session.add(Unit(name="同名单位"))  # the other person's save, a moment before
        _db.session.commit()
    resp = client.post("/uowtest/race", data={"csrf_token": token(client)})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/uowtest/race")  # back to the form, not "saved"
    flashes = _flashes(client)
    assert ("success", "单位已保存") not in flashes  # the success message is taken back
    assert any(c == "danger" and "重复" in m for c, m in flashes)
    assert _units(uow_app, "同名单位") == 1
    page = client.get("/").get_data(as_text=True)
    assert "重复" in page


def test_a_write_is_committed_once_after_the_handler(uow_app):
    client = login(uow_app.test_client(), uow_app, "clerk")
    resp = client.post("/uowtest/race", data={"csrf_token": token(client)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("saved=1")
    assert ("success", "单位已保存") in _flashes(client)
    assert _units(uow_app, "同名单位") == 1


def test_a_get_sends_no_commit_and_leaves_no_transaction_open(app, client):
    login(client, app, "viewer")
    client.get("/officers")  # warm up (last-seen time, settings cache)
    commits = []
    with app.app_context():
        engine = _db.engine

    def count(conn):
        commits.append(conn)

    event.listen(engine, "commit", count)
    try:
        resp = client.get("/officers")
    finally:
        event.remove(engine, "commit", count)
    assert resp.status_code == 200
    assert commits == []
    assert engine.pool.checkedout() == 0  # the connection went back: no transaction left open
